"""Freshness (#17): light list requests that catch up, and commit notifications between
processes (SQLite datagrams; PostgreSQL LISTEN/NOTIFY, run where TEST_POSTGRES_URL is set).
The schedule's own tests (a fake clock through a trading day) are in test_run.py."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio.to_thread

from conftest import postgres_url
from finews.demo.upstreams import Upstreams
from finews.fetch import Fetcher, FetchPolicy
from finews.ingest import poll_source
from finews.model import BEIJING
from finews.sources.eastmoney import EastmoneyColumns
from finews.sources.ths import ThsFlash
from finews.store import Store, notify
from test_search import cls_flashes


def test_light_pages_catch_up_and_a_gap_walks_again_at_full_size(tmp_path: Path) -> None:
    upstreams = Upstreams(initial=30, interval=0)
    base = upstreams.start()
    source = ThsFlash(base=base, page_size=20)
    try:
        with (
            Store.open(f"sqlite:///{tmp_path / 'f.db'}") as store,
            Fetcher(FetchPolicy(host_spacing=0, retries=0)) as fetcher,
        ):

            def poll() -> tuple[int, bool, int]:
                before = fetcher.requests_sent
                report = poll_source(store, fetcher, source, light=10)
                assert report.ok, report.error
                return report.new, report.gap, fetcher.requests_sent - before

            # an empty store: the light page is all new, a gap: walked again at full size,
            # on past the items the light page stored (10, then 20 + 10 + an empty page)
            assert poll() == (30, True, 4)
            # three new items: one light request catches up
            upstreams.initial = 33
            assert poll() == (3, False, 1)
            # nothing new: one light request
            assert poll() == (0, False, 1)
            # more new items than a light page holds: the gap is closed at full size
            upstreams.initial = 50
            assert poll() == (17, True, 2)  # 10, then 20 reaching the earlier items
            assert store.count() == 50
    finally:
        upstreams.stop()
    assert len(upstreams.requests) == 8


def test_a_writer_wakes_every_listener_of_its_file_and_clears_dead_ones(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'n.db'}"
    with Store.open(url) as store, Store.open(url) as reader:
        first = notify.SqliteListener(notify.sqlite_file(reader.engine))  # type: ignore[arg-type]
        second = notify.SqliteListener(notify.sqlite_file(reader.engine))  # type: ignore[arg-type]
        # a reader killed without cleaning up leaves its socket file behind
        dead_path = first.path.with_name("dead.sock")
        dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        dead.bind(str(dead_path))
        dead.close()
        try:
            article = replace(cls_flashes()[0], upstream_id="n-1")
            store.save([article])
            assert first.drain() == 1 and second.drain() == 1
            assert not dead_path.exists()
            store.save([article])  # unchanged: nothing committed, nobody woken
            assert first.drain() == 0
            store.save([replace(article, title="改了标题")])  # an update wakes them too
            assert first.drain() == 1 and second.drain() == 1
            # another database's writers do not reach these listeners
            with Store.open(f"sqlite:///{tmp_path / 'other.db'}") as other:
                other.save([article])
            assert first.drain() == 0 and second.drain() == 0
        finally:
            first.close()
            second.close()
        assert not first.path.exists()
        assert notify.announce(store.engine) == 0  # nobody listens any more


def test_postgresql_listeners_hear_commits_and_only_them() -> None:
    """LISTEN/NOTIFY: a commit that changed articles wakes the listener (on its own
    connection, as the web app's would be in another process or on another machine); a
    save that changed nothing does not."""
    url = postgres_url()
    with Store.open(url) as store:
        listener = notify.listen(store.engine)
        assert isinstance(listener, notify.PostgresListener)

        async def main() -> tuple[bool, bool]:
            woke = asyncio.Event()
            listener.attach(asyncio.get_running_loop(), woke.set)
            assert await anyio.to_thread.run_sync(listener.wait_ready, 10.0)
            await asyncio.sleep(0.3)  # the wake-up every (re)connection gives
            woke.clear()
            article = replace(cls_flashes()[0], upstream_id="pg-1", published=datetime.now(BEIJING))
            started = time.monotonic()
            await anyio.to_thread.run_sync(store.save, [article])
            await asyncio.wait_for(woke.wait(), 5.0)
            heard = time.monotonic() - started < 2.0
            woke.clear()
            await anyio.to_thread.run_sync(store.save, [article])  # unchanged
            await asyncio.sleep(1.5)
            return heard, woke.is_set()

        try:
            heard, woken_by_nothing = asyncio.run(main())
        finally:
            listener.close()
    assert heard and not woken_by_nothing


def test_every_column_of_a_source_is_caught_up_not_only_the_first(
    tmp_path: Path, upstream: Any, httpserver: Any
) -> None:
    """A round stops paging where it reaches known items; Eastmoney's column news is six
    lists in one source, so that stop is per column (it used to end the round in the
    first column, and news in the others waited for a restart)."""
    base = httpserver.url_for("").rstrip("/")
    source = EastmoneyColumns(
        list_base=base, article_base=base, page_base=base, columns=(344, 350), page_size=20
    )
    with (
        Store.open(f"sqlite:///{tmp_path / 'c.db'}") as store,
        Fetcher(FetchPolicy(host_spacing=0, retries=0)) as fetcher,
    ):
        first = poll_source(store, fetcher, source, fulltext=False, light=10)
        assert first.ok and first.new == store.count() == 60  # 40 + 30, 10 in both
        item = {
            **upstream.columns[350][0],
            "code": "202612060000000350",
            "title": "只出现在第二个栏目的新消息",
            "showTime": datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
        }
        upstream.columns[350].insert(0, item)
        second = poll_source(store, fetcher, source, fulltext=False, light=10)
        assert second.ok and second.new == 1 and not second.gap
        assert second.pages == 2  # one light page per column
