"""``finews run`` against an upstream that misbehaves on command (issue #8): it keeps
going, reports each fault in source health, and once the upstream recovers every article
it served is stored exactly once."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from finews.demo.upstreams import FAULTS, Upstreams
from finews.fetch.impersonate import available as curl_available
from test_run import Running, count, settings_for, wait_for

FAILING = [f for f in FAULTS if f not in {"duplicates", "future", "badutf8", "gbk"}]

TRANSPORTS = [
    "httpx",
    pytest.param(
        "chrome",
        marks=pytest.mark.skipif(
            not curl_available(), reason="curl_cffi is not installed (finews[impersonate])"
        ),
    ),
]


@pytest.mark.parametrize("impersonate", TRANSPORTS)
def test_every_fault_is_reported_and_nothing_is_lost_or_doubled(
    tmp_path: Path, impersonate: str
) -> None:
    """The same faults through plain httpx and through the browser-fingerprint transport
    (curl_cffi behind the same Fetcher, issue #15)."""
    upstreams = Upstreams(initial=30, interval=0)
    base = upstreams.start()
    # 财联社 goes through every kind of trouble, one poll each, then recovers
    upstreams.fail("/v1/roll/get_roll_list", *FAILING, 503, 429, "badutf8", "gbk")
    upstreams.fail("/tapp/news/push/stock/", "duplicates", "future")
    db = tmp_path / "run.db"
    errors: set[str] = set()
    stop = threading.Event()

    def watch() -> None:  # the health a user sees, as it changes
        while not stop.is_set():
            con = sqlite3.connect(db) if db.exists() else None
            if con is not None:
                try:
                    errors.update(
                        r[0]
                        for r in con.execute(
                            "SELECT last_error FROM source_status WHERE last_error != ''"
                        )
                    )
                except sqlite3.OperationalError:
                    pass
                finally:
                    con.close()
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    settings = settings_for(tmp_path, upstreams, base)
    if impersonate != "httpx":
        settings = dataclasses.replace(
            settings, http=dataclasses.replace(settings.http, impersonate=impersonate)
        )
    running = Running(settings)
    try:
        wait_for(lambda: not upstreams.faults["/v1/roll/get_roll_list"], 120)
        wait_for(lambda: count(db, "SELECT count(*) FROM articles") == 90, 60)
        upstreams.initial = 40  # and it publishes more after recovering
        wait_for(lambda: count(db, "SELECT count(*) FROM articles") == 120, 60)
    finally:
        stop.set()
        running.stop()
        upstreams.stop()
        watcher.join(5)
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT source, count(*), count(DISTINCT upstream_id) FROM articles GROUP BY source"
    ).fetchall()
    newest = con.execute("SELECT max(published_at) FROM articles").fetchone()[0]
    failures = con.execute(
        "SELECT failures FROM source_status WHERE source = 'cls.telegraph'"
    ).fetchone()[0]
    con.close()
    assert sorted(rows) == [
        ("cls.telegraph", 40, 40),
        ("eastmoney.fast", 40, 40),
        ("ths.flash", 40, 40),
    ]
    assert newest <= time.time() + 600  # the future-dated items were not published as such
    assert failures >= len(FAILING) + 2
    kinds = {
        "reset": "disconnect",
        "trickle": "timed out",
        "garbage": "JSON",
        "html": "HTML",
        "gzipbomb": "limit",
        "429": "429",
        "503": "503",
    }
    seen = " | ".join(sorted(errors))
    for fault, words in kinds.items():
        assert any(words.lower() in e.lower() for e in errors), (fault, seen)
