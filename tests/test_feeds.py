"""User feeds (RSS, Atom, JSON Feed) and OPML (issue #7).  The feeds served are the ones
finews itself builds from real articles: three real formats, real content."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from conftest import run_cli
from finews.site import SiteOptions, build_site
from finews.store import Store
from sitedata import populate

OPML = """<?xml version="1.0" encoding="utf-8"?>
<opml version="2.0"><head><title>hand-made for this test</title></head><body>
<outline text="财经">
  <outline type="rss" text="Atom of the site" xmlUrl="{base}atom.xml"/>
  <outline type="rss" title="RSS of the site" text="x" xmlUrl="{base}rss.xml"/>
</outline>
<outline type="rss" text="JSON Feed" xmlUrl="{base}feed.json"/>
<outline type="rss" text="broken" xmlUrl="{base}broken.xml"/>
<outline text="not a feed, no xmlUrl"/>
</body></opml>
"""


def test_feeds_from_opml_are_polled_in_all_three_formats(
    tmp_path: Path, store: Store, httpserver: Any
) -> None:
    populate(store)
    site = tmp_path / "site"
    build_site(store, site, SiteOptions(feed_size=20))
    for name, kind in (
        ("atom.xml", "application/atom+xml"),
        ("rss.xml", "application/rss+xml"),
        ("feed.json", "application/feed+json"),
    ):
        httpserver.expect_request(f"/{name}").respond_with_data(
            (site / name).read_bytes(), content_type=kind
        )
    httpserver.expect_request("/broken.xml").respond_with_data(
        b"<html><body>not a feed</body></html>", content_type="text/html"
    )
    base = httpserver.url_for("/")
    opml = tmp_path / "subscriptions.opml"
    opml.write_text(OPML.format(base=base), encoding="utf-8")
    db = tmp_path / "feeds.db"
    env = {
        "FINEWS_HTTP_HOST_SPACING": "0",
        "FINEWS_HTTP_BACKOFF": "0.01",
        "FINEWS_SOURCES_FEEDS_PRIVATE": "true",  # the test server is on loopback
    }

    imported = run_cli("--db", str(db), "feeds", "import", str(opml), env=env)
    assert imported.returncode == 0, imported.stderr
    assert "4 feeds" in imported.stdout and "4 added" in imported.stdout
    again = run_cli("--db", str(db), "feeds", "import", str(opml), env=env)
    assert "0 added" in again.stdout
    listed = json.loads(run_cli("--db", str(db), "feeds", "list", "--json", env=env).stdout)
    assert [f["key"] for f in listed] == ["feed.1", "feed.2", "feed.3", "feed.4"]
    assert listed[1]["title"] == "RSS of the site"

    keys = ["feed.1", "feed.2", "feed.3", "feed.4"]
    fetched = run_cli("--db", str(db), "fetch", "--json", *keys, env=env)
    assert fetched.returncode == 4  # the broken one failed, the others were stored
    report = {r["source"]: r for r in json.loads(fetched.stdout)["sources"]}
    assert not report["feed.4"]["ok"] and "not a feed" in report["feed.4"]["error"]
    for key in ("feed.1", "feed.2", "feed.3"):
        assert report[key]["new"] == 20, (key, report[key])
    con = sqlite3.connect(db)
    titles = {
        key: {r[0] for r in con.execute("SELECT title FROM articles WHERE source = ?", (key,))}
        for key in ("feed.1", "feed.2", "feed.3")
    }
    bodies = con.execute("SELECT count(*) FROM articles WHERE body_html = ''").fetchone()[0]
    con.close()
    assert titles["feed.1"] == titles["feed.2"] == titles["feed.3"]  # one story set, 3 formats
    assert bodies == 0
    # polling again stores nothing twice
    second = json.loads(run_cli("--db", str(db), "fetch", "--json", *keys[:3], env=env).stdout)
    assert all(r["new"] == 0 for r in second["sources"])

    exported = run_cli("--db", str(db), "feeds", "export", env=env)
    assert exported.returncode == 0 and exported.stdout.count("xmlUrl=") == 4
    out = tmp_path / "out.opml"
    out.write_text(exported.stdout, encoding="utf-8")
    fresh = tmp_path / "fresh.db"
    roundtrip = run_cli("--db", str(fresh), "feeds", "import", str(out), env=env)
    assert "4 added" in roundtrip.stdout
    removed = run_cli("--db", str(db), "feeds", "remove", "feed.4", env=env)
    assert removed.returncode == 0
    assert len(json.loads(run_cli("--db", str(db), "feeds", "list", "--json").stdout)) == 3


def test_bad_opml_and_bad_urls_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.opml"
    bad.write_text("<opml><body><outline", encoding="utf-8")
    result = run_cli("--db", str(tmp_path / "x.db"), "feeds", "import", str(bad))
    assert (
        result.returncode == 1 and "not OPML" in result.stderr and "Traceback" not in result.stderr
    )
    result = run_cli("--db", str(tmp_path / "x.db"), "feeds", "add", "file:///etc/passwd")
    assert result.returncode == 2 and "not an http(s) URL" in result.stderr


def test_user_feeds_cannot_reach_internal_addresses_unless_allowed(
    tmp_path: Path, store: Store, httpserver: Any
) -> None:
    """A feed URL is user input: by default it may not point into the machine's own
    network (loopback here; private and link-local ranges alike)."""
    populate(store)
    build_site(store, tmp_path / "site", SiteOptions(feed_size=5))
    httpserver.expect_request("/atom.xml").respond_with_data(
        (tmp_path / "site" / "atom.xml").read_bytes(), content_type="application/atom+xml"
    )
    db = tmp_path / "ssrf.db"
    url = httpserver.url_for("/atom.xml")
    assert run_cli("--db", str(db), "feeds", "add", url).returncode == 0
    refused = run_cli("--db", str(db), "fetch", "--json", "feed.1")
    report = json.loads(refused.stdout)["sources"][0]
    assert refused.returncode == 4 and "internal address (127.0.0.1)" in report["error"]
    assert httpserver.log == []  # not even asked
    allowed = run_cli(
        "--db", str(db), "fetch", "--json", "feed.1", env={"FINEWS_SOURCES_FEEDS_PRIVATE": "1"}
    )
    assert json.loads(allowed.stdout)["sources"][0]["new"] == 5
    for internal in (
        "http://10.1.2.3/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x",
        "http://192.168.0.1/",
    ):
        from finews.sources.feeds import private_address

        assert private_address(internal), internal


DUPLICATED = """<?xml version="1.0" encoding="utf-8"?>
<opml version="2.0"><head><title>hand-made for this test</title></head><body>
<outline type="rss" text="测试财经频道" xmlUrl="https://example.com/rss.xml"/>
<outline text="另一个文件夹">
  <outline type="rss" text="重复" xmlUrl="https://example.com/rss.xml#again"/>
</outline>
</body></opml>
"""


def test_a_feed_keeps_its_name_unless_asked_to_change_it(tmp_path: Path) -> None:
    """A new user's walk (wave 10): one URL listed twice in an OPML file renamed the feed —
    and so the media of every one of its articles — to the second entry's name, a
    ``#fragment`` made a second feed of the same URL, and ``feeds add URL --title`` said
    "already there" while it renamed the feed."""
    db = str(tmp_path / "x.db")
    opml = tmp_path / "subs.opml"
    opml.write_text(DUPLICATED, encoding="utf-8")
    imported = run_cli("--db", db, "feeds", "import", str(opml))
    assert "1 added" in imported.stdout and "listed twice" in imported.stderr
    listed = json.loads(run_cli("--db", db, "feeds", "list", "--json").stdout)
    assert [(f["url"], f["title"]) for f in listed] == [
        ("https://example.com/rss.xml", "测试财经频道")
    ]
    # importing the file again, or another reader's name for the feed, renames nothing
    run_cli("--db", db, "feeds", "import", str(opml))
    again = run_cli("--db", db, "feeds", "add", "https://example.com/rss.xml#top")
    assert again.returncode == 0 and "already there: feed.1" in again.stdout
    listed = json.loads(run_cli("--db", db, "feeds", "list", "--json").stdout)
    assert [f["title"] for f in listed] == ["测试财经频道"]
    # asked for, a new name is said as such
    renamed = run_cli(
        "--db", db, "feeds", "add", "https://example.com/rss.xml", "--title", "另一个"
    )
    assert "renamed feed.1" in renamed.stdout and "另一个" in renamed.stdout
    listed = json.loads(run_cli("--db", db, "feeds", "list", "--json").stdout)
    assert [f["title"] for f in listed] == ["另一个"]
    assert run_cli("--db", db, "feeds", "remove", "https://example.com/rss.xml#x").returncode == 0


def test_a_feed_file_is_not_an_opml_file(tmp_path: Path, store: Store) -> None:
    """``feeds import rss.xml`` said "0 feeds" and succeeded; it names what the file is."""
    populate(store)
    build_site(store, tmp_path / "site", SiteOptions(feed_size=5))
    result = run_cli(
        "--db", str(tmp_path / "x.db"), "feeds", "import", str(tmp_path / "site" / "rss.xml")
    )
    assert result.returncode == 1 and "not OPML: the document is <rss>" in result.stderr
    assert "finews feeds add" in result.stderr


def test_importing_a_missing_path_creates_no_database(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    result = run_cli("--db", str(db), "import", "jekyll", str(tmp_path / "no-such-folder"))
    assert result.returncode == 2 and "no such file or folder" in result.stderr
    assert not db.exists()
