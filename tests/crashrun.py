"""kill -9 ``finews run`` at random moments, restart it, and check what survived.

Shared by tests/test_crash_run.py (a few kills) and bench/crash.py (100).  Each cycle:
start ``finews run`` against stand-in upstreams that publish a new item every few
milliseconds, wait a random 0.5–5 s (starting, fetching, processing, site building), SIGKILL it,
then check the database and the published site as the crash left them:

- ``PRAGMA integrity_check`` is ok;
- no article is stored twice, and none committed before the kill is gone after it;
- the full-text index has exactly one row per article;
- every link of the home page and the section pages points at a page that exists.
"""

from __future__ import annotations

import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from finews.demo.upstreams import Upstreams


@dataclass
class CrashReport:
    cycles: int = 0
    articles: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    links_checked: int = 0


def _links(html: str) -> list[str]:
    return [h for h in re.findall(r'href="([^"#?]+)"', html) if not h.startswith(("http", "/"))]


def _stored(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(db, timeout=1)
        try:
            return int(con.execute("SELECT count(*) FROM articles").fetchone()[0])
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0


def check(db: Path, site: Path, before: int, report: CrashReport) -> int:
    con = sqlite3.connect(db)
    try:
        integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            report.problems.append(f"integrity: {integrity}")
        stored = con.execute("SELECT count(*) FROM articles").fetchone()[0]
        distinct = con.execute(
            "SELECT count(*) FROM (SELECT DISTINCT source, upstream_id FROM articles)"
        ).fetchone()[0]
        indexed = con.execute("SELECT count(*) FROM article_fts").fetchone()[0]
    finally:
        con.close()
    if distinct != stored:
        report.problems.append(f"{stored - distinct} duplicate articles")
    if stored < before:
        report.problems.append(f"lost articles: {before} committed, {stored} now")
    if indexed != stored:
        report.problems.append(f"index has {indexed} rows for {stored} articles")
    pages = [site / "index.html", *site.glob("c/*/index.html"), site / "important/index.html"]
    for page in pages:
        if not page.exists():
            continue
        for href in _links(page.read_text(encoding="utf-8")):
            report.links_checked += 1
            if not (page.parent / href).resolve().exists():
                report.problems.append(f"{page.relative_to(site)} links to missing {href}")
    return int(stored)


def crash_cycles(work: Path, cycles: int, seed: int = 8) -> CrashReport:
    rnd = random.Random(seed)
    upstreams = Upstreams(initial=20, interval=0.01, endless=True)
    base = upstreams.start()
    db = work / "crash.db"
    site = work / "site"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FINEWS_")},
        "FINEWS_DB": str(db),
        "FINEWS_DATA_DIR": str(work),
        **upstreams.env(base),
        "FINEWS_RUN_INTERVAL": "0.2",
        "FINEWS_RUN_MIN_INTERVAL": "0.1",
        "FINEWS_RUN_BUILD_DELAY": "0.05",
        "FINEWS_RUN_SERVE": "false",
    }
    report = CrashReport()
    committed = 0
    try:
        for _ in range(cycles):
            process = subprocess.Popen(
                [sys.executable, "-m", "finews", "run"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if report.cycles == 0:  # the first cycle: let something be committed first
                deadline = time.monotonic() + 90
                while time.monotonic() < deadline and _stored(db) == 0:
                    time.sleep(0.2)
            time.sleep(rnd.uniform(0.5, 5.0))
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            report.cycles += 1
            if db.exists():
                committed = check(db, site, committed, report)
                report.articles.append(committed)
    finally:
        upstreams.stop()
    return report
