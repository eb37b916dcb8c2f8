"""Issue #9: two Celery workers and a scheduler against local upstream stand-ins, on
PostgreSQL and Redis — every article once, per-site spacing held, a killed worker loses
nothing.  Plus the shared spacing on its own."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from conftest import postgres_url, redis_url
from finews.demo.upstreams import Upstreams
from finews.store import Store
from standin import HOSTS, EastmoneyStandin
from test_run import collect_events

SPACING = 0.1
SLACK = 0.04
"""Slots are spaced exactly; a request reaches the server up to this much sooner after the
previous one when that one left late (a busy client thread, 4 of them on 2 cores)."""
WINDOW = 10
WINDOW_SLACK = 0.12
"""Under a parallel test run a request can leave more than SLACK late (seen: 61 ms), which
shortens the one gap after it but not the span of the next WINDOW requests: lateness does
not add up. Spacing that did not hold across workers (each keeping only its own) would put
WINDOW requests in half the span."""


LATE_AT_MOST = 1
"""Requests that may reach the server closer than a quarter slot to the one before: a request
that leaves almost a whole slot late lands just before the next one's slot (seen twice on a
fresh-clone CI run of wave 14, 2 and 1 ms apart among 62 requests, the suite denser than
before).  Spacing not shared across the workers would put many requests together: the window
and the tenth-percentile checks below catch that, however late one request is."""


def assert_spaced(times: list[float], what: object) -> None:
    """No two requests to one site closer than a quarter slot (but for LATE_AT_MOST), and
    every WINDOW of them at least WINDOW slots apart, less the scheduling slack."""
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert sum(gap < SPACING / 4 for gap in gaps) <= LATE_AT_MOST, (what, sorted(gaps)[:5])
    spans = [b - a for a, b in zip(times, times[WINDOW:], strict=False)]
    if spans:
        assert min(spans) >= WINDOW * SPACING - WINDOW_SLACK, (what, sorted(spans)[:5])
    if len(gaps) >= 20:  # most gaps are a full slot: a late request is the exception
        assert sorted(gaps)[len(gaps) // 10] >= SPACING - SLACK, (what, sorted(gaps)[:5])


def test_shared_spacing_holds_across_clients_and_egresses() -> None:
    import redis

    from finews.distributed.spacing import RedisSpacing

    url = redis_url()
    clients = [redis.Redis.from_url(url) for _ in range(3)]
    turns = [RedisSpacing(c) for c in clients]
    other = RedisSpacing(clients[0], egress="proxy-2")
    slots: list[float] = []
    lock = threading.Lock()

    def take(turn: RedisSpacing) -> None:
        for _ in range(10):
            slot, wait = turn.reserve("example.com", 0.02)
            assert 0 <= wait <= 30 * 0.02
            with lock:
                slots.append(slot)

    threads = [threading.Thread(target=take, args=(t,)) for t in turns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    slots.sort()
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert len(slots) == 30
    assert min(gaps) >= 0.02 - 1e-6, gaps  # 30 reservations from 3 clients: one slot each
    assert other("example.com", 0.02) == 0.0  # another address has its own bucket
    assert turns[0]("example.com", 0) == 0.0  # no spacing: no wait, no reservation
    for c in clients:
        c.close()


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "finews", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_for(what: str, check: Any, timeout: float, logs: list[Path]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    tails = "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-3000:] for p in logs)
    pytest.fail(f"timed out waiting for {what}\n{tails}")


@pytest.fixture
def pg_store() -> Iterator[tuple[Store, str]]:
    """A store on an emptied PostgreSQL database, and its URL."""
    url = postgres_url()
    store = Store.open(url)  # migrated once, before the workers start
    yield store, url
    store.close()


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_two_workers_and_a_scheduler_store_everything_once(
    tmp_path: Path, httpserver: Any, upstream: EastmoneyStandin, pg_store: tuple[Store, str]
) -> None:
    store, db = pg_store
    broker = redis_url()
    # 财联社 and 同花顺 from the demo stand-ins, their items released while the run goes on
    # (a tick every 0.2 s, stopped later); Eastmoney's columns need a full-text fetch each
    ticks = [0.0]
    flashes = Upstreams(initial=10, interval=1.0, clock=lambda: ticks[0])
    flashes_base = flashes.start()
    eastmoney_base = httpserver.url_for("").rstrip("/")
    overrides = [f"{h}={eastmoney_base}" for h in HOSTS]
    overrides += [f"www.cls.cn={flashes_base}", f"news.10jqka.com.cn={flashes_base}"]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FINEWS_")},
        "FINEWS_DB": db,
        "FINEWS_DATA_DIR": str(tmp_path / "data"),
        "FINEWS_WORKER_REDIS": broker,
        "FINEWS_RUN_PACE": "busy",  # every source polled every second
        "FINEWS_RUN_MIN_INTERVAL": "1",
        "FINEWS_RUN_BUSY_INTERVAL": "1",
        "FINEWS_RUN_SOURCE_INTERVALS": "eastmoney.column=1",
        "FINEWS_WORKER_VISIBILITY_TIMEOUT": "5",
        "FINEWS_HTTP_HOST_SPACING": str(SPACING),
        "FINEWS_HTTP_BACKOFF": "0.01",
        "FINEWS_HTTP_TIMEOUT": "3",
        "FINEWS_UPSTREAM_OVERRIDE": ",".join(overrides),
        "FINEWS_EASTMONEY_NEWS_COLUMNS": "344,350",
        "FINEWS_SOURCES_ENABLED": "cls.telegraph,ths.flash,eastmoney.column",
    }
    columns = {item["code"] for items in upstream.columns.values() for item in items}
    logs = [tmp_path / name for name in ("worker-a.log", "worker-b.log", "scheduler.log")]

    def run_clock() -> None:
        for _ in range(40):  # 40 ticks: 20 more items of each flash source, round-robin
            time.sleep(0.2)
            ticks[0] += 1

    clock = threading.Thread(target=run_clock, daemon=True)
    procs = [
        _spawn(["worker", "--concurrency", "2", "--name", "a@test"], env, logs[0]),
        _spawn(["worker", "--concurrency", "2", "--name", "b@test"], env, logs[1]),
        _spawn(["scheduler"], env, logs[2]),
    ]

    def complete_columns() -> int:
        with store.engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM articles WHERE source = 'eastmoney.column' "
                        "AND body_complete"
                    )
                ).scalar_one()
            )

    try:
        clock.start()
        # kill -9 one worker while full texts are being fetched
        _wait_for("the first full texts", lambda: complete_columns() >= 3, 120, logs)
        os.killpg(procs[0].pid, signal.SIGKILL)
        procs[0].wait(10)
        clock.join()
        expected = {
            "cls.telegraph": {str(r["id"]) for r in flashes.released("cls")},
            "ths.flash": {str(r["seq"]) for r in flashes.released("ths")},
            "eastmoney.column": columns,
        }

        def stored() -> dict[str, set[str]]:
            found: dict[str, set[str]] = {k: set() for k in expected}
            with store.engine.connect() as conn:
                for source, upstream_id in conn.execute(
                    text("SELECT source, upstream_id FROM articles")
                ):
                    found.setdefault(source, set()).add(upstream_id)
            return found

        _wait_for(
            "every article",
            lambda: stored() == expected and complete_columns() == len(columns),
            150,
            logs,
        )
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        flashes.stop()

    with store.engine.connect() as conn:
        duplicates = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT source, upstream_id FROM articles "
                "GROUP BY source, upstream_id HAVING count(*) > 1) d"
            )
        ).scalar_one()
        revisions = conn.execute(text("SELECT count(*) FROM article_revisions")).scalar_one()
        indexed = conn.execute(text("SELECT count(*) FROM article_search")).scalar_one()
    assert duplicates == 0
    assert revisions == 0  # nothing was stored a second time as a "changed" version
    assert indexed == store.count() == sum(len(v) for v in expected.values())
    assert len(columns) == 60
    # per-site spacing, across both workers: Eastmoney's hosts are one site
    assert len(upstream.arrivals) >= 62
    assert_spaced(list(upstream.arrivals), "eastmoney")
    for path in ("/v1/roll/get_roll_list", "/tapp/news/push/stock/"):
        times = [t for t, p in flashes.arrivals if p == path]
        assert len(times) >= 3
        assert_spaced(times, path)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_the_scheduler_paces_two_workers_by_the_news_they_find(
    tmp_path: Path, pg_store: tuple[Store, str]
) -> None:
    """#17: the workers' polls follow the market schedule — the scheduler hears what each
    poll found (through Redis) and the interval stretches while nothing comes, drops to
    the busy pace for a burst, and stretches again.  (The schedule itself through a
    trading day, on a fake clock: tests/test_beat.py.)"""
    from finews.demo.upstreams import bundled
    from finews.store import freshness

    store, db = pg_store
    broker = redis_url()
    ticks = [0.0]
    flashes = Upstreams(
        initial=10, interval=1.0, clock=lambda: ticks[0], items={"cls": bundled("cls")}
    )
    base = flashes.start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FINEWS_")},
        "FINEWS_DB": db,
        "FINEWS_DATA_DIR": str(tmp_path / "data"),
        "FINEWS_WORKER_REDIS": broker,
        "FINEWS_UPSTREAM_OVERRIDE": f"www.cls.cn={base}",
        "FINEWS_SOURCES_ENABLED": "cls.telegraph",
        "FINEWS_SOURCES_FEEDS": "false",
        "FINEWS_HTTP_HOST_SPACING": "0",
        # the day's pace, shortened: at most every 2 s, every 0.5 s in a burst's 3 s
        "FINEWS_RUN_PACE": "day",
        "FINEWS_RUN_MIN_INTERVAL": "0.5",
        "FINEWS_RUN_BUSY_INTERVAL": "0.5",
        "FINEWS_RUN_DAY_INTERVAL": "2",
        "FINEWS_RUN_BURST_WINDOW": "3",
        "FINEWS_RUN_JITTER": "0",
    }
    logs = [tmp_path / name for name in ("worker-a.log", "worker-b.log", "scheduler.log")]
    procs = [
        _spawn(["worker", "--concurrency", "2", "--name", "a@test"], env, logs[0]),
        _spawn(["worker", "--concurrency", "2", "--name", "b@test"], env, logs[1]),
        _spawn(["scheduler"], env, logs[2]),
    ]

    def polls() -> list[float]:
        return [t for t, p in flashes.arrivals if p == "/v1/roll/get_roll_list"]

    def gaps(times: list[float]) -> list[float]:
        return [b - a for a, b in itertools.pairwise(times)]

    try:
        _wait_for("the first poll's items", lambda: store.count() == 10, 60, logs)
        backlog = time.monotonic()  # quiet after it: stretched poll by poll to 2 s

        def quiet() -> list[float]:
            return gaps([t for t in polls() if t > backlog])

        # (the first poll each worker makes is slow: its store, fetcher and processor)
        _wait_for(
            "polls stretched to the day's bound",
            lambda: len(quiet()) >= 3 and quiet()[-1] >= 1.9,
            30,
            logs,
        )
        stretched = quiet()
        burst_at = time.monotonic()
        ticks[0] += 4  # four items at once: a burst
        _wait_for("the burst stored", lambda: store.count() == 14, 10, logs)
        _wait_for(
            "polls at the busy pace",
            lambda: len([t for t in polls() if t > burst_at]) >= 4,
            10,
            logs,
        )
        during = [t for t in polls() if t > burst_at]
        schedules = freshness.schedules(store)
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        flashes.stop()
    # stretched poll by poll (1, 1.5, 2 s from the end of one poll to the next) to the
    # day's bound, not beyond
    assert 1.9 <= stretched[-1] < 3.5, stretched
    # the burst: the next poll came within the day's bound, then every 0.5 s or so
    assert during[0] - burst_at < 2.5
    assert max(gaps(during)[1:3]) < 1.5, gaps(during)
    # never more often than the floor (after the first poll, whose walk through the
    # backlog's pages is one poll)
    assert min(gaps([t for t in polls() if t > backlog])) >= 0.45
    assert schedules["cls.telegraph"] == {**schedules["cls.telegraph"], "phase": "day"}
    assert schedules["cls.telegraph"]["interval"] == 0.5  # `finews sources` shows it


@pytest.mark.slow
def test_a_workers_poll_is_pushed_at_once_and_its_full_text_completes_it(
    tmp_path: Path, httpserver: Any, upstream: EastmoneyStandin, pg_store: tuple[Store, str]
) -> None:
    """#17 on the workers' path (the two-worker benchmark's): a poll's list item reaches
    an open page the moment it is committed (NOTIFY; the web app's own look at the store
    is a minute apart here), before its full text; the full-text task's save reaches it
    as an update of the same row.  The worker's task functions run in this process."""
    from finews.config import load_settings
    from finews.distributed import tasks
    from webserver import serving

    _, db = pg_store
    base = httpserver.url_for("").rstrip("/")
    settings = load_settings(
        env={
            "FINEWS_DB": db,
            "FINEWS_DATA_DIR": str(tmp_path),
            "FINEWS_WORKER_REDIS": redis_url(),
            "FINEWS_UPSTREAM_OVERRIDE": ",".join(f"{h}={base}" for h in HOSTS),
            "FINEWS_HTTP_HOST_SPACING": "0",
            "FINEWS_SOURCES_ENABLED": "eastmoney.fast",
        }
    )
    tasks.make_app(settings)
    ctx = tasks.context()
    upstream.fast = upstream.fast[:3]
    site = tmp_path / "site"
    site.mkdir()
    events: list[tuple[float, str, dict[str, Any]]] = []

    def mine(code: str) -> list[tuple[float, str, dict[str, Any]]]:
        return [e for e in events if e[2].get("upstream_id") == code]

    try:
        assert tasks.poll(ctx, "eastmoney.fast")["new"] == 3  # the backlog
        with (
            serving(db, site, poll_interval=60.0) as web,
            httpx.stream("GET", web + "api/stream", timeout=30) as response,
        ):
            threading.Thread(target=collect_events, args=(response, events), daemon=True).start()
            time.sleep(0.5)
            item = upstream.next_fast_item(
                "7", "工人先推送列表里的快讯", "<p>　　全文由另一个任务取回。</p>"
            )
            code = item["code"]
            upstream.fast.insert(0, item)
            report = tasks.poll(ctx, "eastmoney.fast")
            polled = time.monotonic()
            assert report["new"] == 1 and report["fulltext_queued"] >= 1
            _wait_for("the list item pushed", lambda: len(mine(code)) >= 1, 5, [])
            assert tasks.fulltext(ctx, "eastmoney.fast", code) == "stored"
            completed = time.monotonic()
            _wait_for("the full text pushed", lambda: len(mine(code)) >= 2, 5, [])
            time.sleep(0.3)
    finally:
        ctx.close()
    (shown_at, kind1, shown), (updated_at, kind2, updated) = mine(code)
    assert (kind1, shown["complete"]) == ("article", False)
    assert (kind2, updated["complete"]) == ("update", True) and updated["id"] == shown["id"]
    assert shown_at - polled < 2.0 and updated_at - completed < 2.0  # not the minute's look
    assert len(mine(code)) == 2
