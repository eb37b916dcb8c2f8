"""Kill the importer mid-run: the database stays consistent, nothing is half-stored."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import BROKEN_REAL, JEKYLL_REAL
from finews.jekyll.read import parse_post
from finews.jekyll.write import JekyllOptions, post_filename, render_post
from finews.store.rows import row_to_article

POSTS = 2500


def make_posts(folder: Path) -> None:
    """Replicate the real posts under new ids and times (bodies unchanged)."""
    from dataclasses import replace

    real = [
        parse_post(p.read_text(encoding="utf-8"), str(p))
        for p in sorted(JEKYLL_REAL.rglob("*.md"))
        if p != BROKEN_REAL
    ]
    folder.mkdir()
    for i in range(POSTS):
        base = real[i % len(real)]
        a = replace(
            base,
            upstream_id=f"{base.upstream_id[:8]}{i:010d}",
            url=re.sub(r",\d+\.html", f",{base.upstream_id[:8]}{i:010d}.html", base.url),
            published=base.published + timedelta(minutes=i),
        )
        (folder / post_filename(a)).write_text(render_post(a, JekyllOptions()), encoding="utf-8")


def check_consistent(db: Path) -> int:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = con.execute("SELECT * FROM articles").fetchall()
    for row in rows:
        article = row_to_article(dict(row))  # type: ignore[arg-type]
        assert article.content_hash() == row["content_hash"], "a partially written article"
        assert article.raw, "an article without its raw post"
    dupes = con.execute(
        "SELECT COUNT(*) FROM (SELECT source, upstream_id FROM articles"
        " GROUP BY 1, 2 HAVING COUNT(*) > 1)"
    ).fetchone()[0]
    assert dupes == 0
    con.close()
    return len(rows)


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_kill_minus_nine_mid_import(tmp_path: Path) -> None:
    posts = tmp_path / "posts"
    make_posts(posts)
    db = tmp_path / "crash.db"
    kills = 0
    for attempt in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-m", "finews", "--db", str(db), "import", "jekyll", str(posts)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        stored_before = check_consistent(db) if db.exists() else 0
        while time.monotonic() < deadline and proc.poll() is None:
            if db.exists():
                try:
                    con = sqlite3.connect(db, timeout=0.1)
                    n = con.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
                    con.close()
                except sqlite3.OperationalError:
                    n = 0
                if n > stored_before + 200 * (attempt + 1):
                    break
            time.sleep(0.02)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
        stored = check_consistent(db)
        assert stored >= stored_before
    assert kills >= 1, "the importer finished before it could be killed"
    assert check_consistent(db) < POSTS
    # a clean run afterwards completes the import: every post exactly once
    done = subprocess.run(
        [sys.executable, "-m", "finews", "--db", str(db), "import", "jekyll", str(posts), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["files"] == POSTS
    assert check_consistent(db) == POSTS
