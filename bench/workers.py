"""Ingest throughput of 1, 2 and 4 ``finews worker`` processes on PostgreSQL + Redis.

One command:  .venv/bin/python bench/workers.py [--feeds 300] [--workers 1 2 4]

Needs PostgreSQL and Redis (`eval "$(scripts/services.sh)"`; the database `finews_bench`
and Redis db 1 are emptied).  The workload is the one that outgrows a single process: many
feeds.  A local server publishes FEEDS RSS feeds of 20 items each, the items being real
财联社 / 同花顺 / Eastmoney flashes (the demo's bundle, reused across feeds, so reprints are
clustered as in real life).  For each worker count: an empty store, the feeds added, the
workers started and answering, then one poll task per feed queued at once; the time until
every item is stored (tagging, clusters, search index included) gives articles/second.
Politeness delays are off (every feed is on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import html
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from finews.config import load_settings
from finews.demo.upstreams import bundled
from finews.store import Store, feedlist

PER_FEED = 20
DEFAULT_PG = "postgresql://finews:finews@127.0.0.1:5432/finews_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/1"


def flashes() -> list[tuple[str, int]]:
    rows = [*bundled("cls"), *bundled("ths"), *bundled("eastmoney")]
    out = []
    for row in rows:
        text = row.get("content") or row.get("digest") or row.get("summary") or ""
        when = int(row.get("ctime") or row.get("rtime") or time.time())
        if text:
            out.append((str(text), when))
    return out


def feed_xml(n: int, items: list[tuple[str, int]]) -> bytes:
    entries = []
    for k in range(PER_FEED):
        text, when = items[(n * PER_FEED + k) % len(items)]
        stamp = format_datetime(datetime.fromtimestamp(when, UTC))
        entries.append(
            f"<item><title>{html.escape(text[:40])}</title>"
            f"<guid isPermaLink='false'>feed{n}-item{k}</guid>"
            f"<description>{html.escape(text)}</description><pubDate>{stamp}</pubDate></item>"
        )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>bench feed {n}</title><link>http://example.com/{n}</link>"
        f"<description>bench</description>{''.join(entries)}</channel></rss>"
    ).encode()


def serve_feeds(count: int) -> tuple[ThreadingHTTPServer, str]:
    items = flashes()
    bodies = {f"/feed/{n}.xml": feed_xml(n, items) for n in range(count)}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = bodies.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def reset(pg: str, redis_url: str) -> None:
    import redis

    engine = create_engine(pg.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()


def one_run(workers: int, feeds: int, base: str, env: dict[str, str], work: Path) -> float:
    reset(env["FINEWS_DB"], env["FINEWS_WORKER_REDIS"])
    with Store.open(env["FINEWS_DB"]) as store:
        keys = [feedlist.add(store, f"{base}/feed/{n}.xml")[0].key for n in range(feeds)]
    settings = load_settings(env=env)
    from finews.distributed.tasks import POLL_QUEUE, make_app, poll_task

    app = make_app(settings)
    procs = []
    for w in range(workers):
        with (work / f"worker-{workers}-{w}.log").open("wb") as log:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "finews", "worker", "--name", f"w{w}@bench"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
    try:
        deadline = time.monotonic() + 60
        while len(app.control.ping(timeout=0.5)) < workers:
            if time.monotonic() > deadline:
                raise SystemExit("workers did not start; see " + str(work))
        expected = feeds * PER_FEED
        started = time.perf_counter()
        for key in keys:
            poll_task.apply_async((key,), queue=POLL_QUEUE)
        with Store.open(env["FINEWS_DB"]) as store:
            while store.count() < expected:
                time.sleep(0.2)
        return expected / (time.perf_counter() - started)
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=300)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--postgres", default=DEFAULT_PG)
    parser.add_argument("--redis", default=DEFAULT_REDIS)
    args = parser.parse_args()
    server, base = serve_feeds(args.feeds)
    work = Path(tempfile.mkdtemp(prefix="finews-bench-workers-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FINEWS_")},
        "FINEWS_DB": args.postgres,
        "FINEWS_WORKER_REDIS": args.redis,
        "FINEWS_WORKER_CONCURRENCY": "4",
        "FINEWS_HTTP_HOST_SPACING": "0",
        "FINEWS_SOURCES_FEEDS_PRIVATE": "true",
        "FINEWS_DATA_DIR": str(work / "data"),
    }
    print(f"{args.feeds} feeds × {PER_FEED} items = {args.feeds * PER_FEED:,} articles per run")
    print(f"{'workers':>8s} {'articles/s':>11s} {'vs 1 worker':>12s}")
    first = None
    for count in args.workers:
        rate = one_run(count, args.feeds, base, env, work)
        first = first or rate
        print(f"{count:8d} {rate:11.1f} {rate / first:11.2f}×", flush=True)
    server.shutdown()


if __name__ == "__main__":
    main()
