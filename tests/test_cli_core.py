"""The real command line, run as a user runs it, on real posts and a real database."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import BROKEN_REAL, JEKYLL_HANDMADE, JEKYLL_REAL, SEED, run_cli


def test_import_report_skip_and_reimport(tmp_path: Path) -> None:
    db = str(tmp_path / "f.db")
    first = run_cli("--db", db, "import", "jekyll", str(JEKYLL_REAL), str(SEED), "--json")
    assert first.returncode == 3, first.stderr  # one real post has no title: skipped
    report = json.loads(first.stdout)
    assert report["files"] == 98
    assert report["new"] == 97
    assert [s["path"] for s in report["skipped"]] == [str(BROKEN_REAL)]
    assert "title" in report["skipped"][0]["reason"]
    again = json.loads(run_cli("--db", db, "import", "jekyll", str(JEKYLL_REAL), "--json").stdout)
    assert (again["new"], again["updated"], again["unchanged"]) == (
        0,
        0,
        96,
    )  # the seed is .txt: named, not found
    stats = json.loads(run_cli("--db", db, "stats", "--json").stdout)
    assert stats["articles"] == 97
    assert stats["sources"][0]["name"] == "jekyll"
    assert stats["newest"] == "2021-12-29T21:45:37+08:00"


def test_bad_files_are_reported_without_traceback(tmp_path: Path) -> None:
    result = run_cli("--db", str(tmp_path / "f.db"), "import", "jekyll", str(JEKYLL_HANDMADE))
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    for name in ["bad-gbk.md", "bad-unclosed.md", "bad-nolink.md", "bad-date.md"]:
        assert name in result.stderr
    assert "not UTF-8" in result.stderr
    assert "1 new" in result.stdout


def test_export_writes_the_seed_byte_for_byte(tmp_path: Path) -> None:
    db = str(tmp_path / "f.db")
    run_cli("--db", db, "import", "jekyll", str(SEED), str(JEKYLL_REAL / "old_post"))
    out = tmp_path / "site"
    result = run_cli("--db", db, "export", "jekyll", str(out), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["posts"] == 74
    assert report["categories"] == {"cailianshe": "财联社新闻", "emnews": "东财滚动新闻"}
    exported = out / "_posts" / "2021-12-29-NW202112292230344237.md"
    assert exported.read_bytes() == SEED.read_bytes()
    assert (out / "category" / "cailianshe.html").read_text(encoding="utf-8").count(
        "site.categories.cailianshe"
    ) == 1
    # a second export rewrites nothing
    assert (
        json.loads(run_cli("--db", db, "export", "jekyll", str(out), "--json").stdout)["written"]
        == 0
    )


def test_export_then_import_into_a_new_database_is_lossless(tmp_path: Path) -> None:
    first, second = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    posts = tmp_path / "in"
    shutil.copytree(JEKYLL_REAL, posts)
    BROKEN_REAL_COPY = posts / "_posts" / BROKEN_REAL.name
    BROKEN_REAL_COPY.unlink()
    run_cli("--db", first, "import", "jekyll", str(posts))
    run_cli("--db", first, "export", "jekyll", str(tmp_path / "out"))
    result = run_cli("--db", second, "import", "jekyll", str(tmp_path / "out" / "_posts"), "--json")
    assert json.loads(result.stdout)["new"] == 96
    a = json.loads(run_cli("--db", first, "stats", "--json").stdout)
    b = json.loads(run_cli("--db", second, "stats", "--json").stdout)
    assert a["media"] == b["media"]


def test_environment_database_and_usage_errors(tmp_path: Path) -> None:
    db = tmp_path / "env.db"
    result = run_cli("import", "jekyll", str(SEED), env={"FINEWS_DB": str(db)})
    assert result.returncode == 0 and db.exists()
    assert run_cli("no-such-command").returncode == 2
    bad = run_cli("--db", "nonsense://x", "stats")
    assert bad.returncode == 1 and "error:" in bad.stderr and "Traceback" not in bad.stderr
    missing = run_cli("--db", str(tmp_path / "m.db"), "import", "jekyll", str(tmp_path / "nope.md"))
    # a path that is not there is a usage error, before the store is made (wave 10's walk:
    # it created an empty database and said "1 files … 1 skipped")
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
    assert not (tmp_path / "m.db").exists()


def test_default_database_location(tmp_path: Path) -> None:
    result = run_cli("import", "jekyll", str(SEED))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "xdg-data" / "finews" / "finews.db").exists()
