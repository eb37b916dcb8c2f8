"""Freshness (#17): from a flash's release upstream to the reader's open page.

One command:  .venv/bin/python bench/freshness.py [--minutes 4] [--cases busy night]

Local stand-ins for 财联社 (``get_roll_list``, signature checked), 同花顺 and Eastmoney
(the 7×24 list and the article API its full texts come from) release real flashes of the
corpus (``../shared/corpus/flash``, one trading day), each re-dated to the moment it is
released, at two densities:

- ``busy`` — market hours: one item per source every 5–20 s, and now and then a burst of
  3–5 items within two seconds; ``finews run`` with ``run.pace = busy`` (what 09:15–15:00
  Beijing time gives it);
- ``night`` — one item per source every 60–180 s; ``run.pace = night``.

``finews run`` (default settings otherwise: 1 s per-host spacing, full texts on, the site
built) polls them; a listener on ``/api/stream`` plays the open page (the same stream the
page's script reads).  Printed per case: release → page p50 / p95 / max, how many of the
released items arrived, and the list requests per source per hour (the full-text requests
apart).  Items released in the first 30 s (the catch-up after start) are not counted.

Variants (they need services this machine's benchmark run does not start):
``--db postgresql://…`` runs the same on PostgreSQL (the web app hears commits by
LISTEN/NOTIFY); ``--celery N --redis redis://…`` replaces ``finews run`` by N
``finews worker`` processes, ``finews scheduler`` (the same market schedule as ``finews
run``) and ``finews serve`` (needs ``--db`` PostgreSQL).

Every case starts from an empty store: the stand-ins release the corpus's items in the
same order each time, so items already stored by an earlier run (or an earlier case) come
back as updates of known articles, not as news, and nothing "arrives" (the two-worker run
that counted 0 of 44 had run on the database the PostgreSQL run had just filled).  An
SQLite case gets a new folder; a PostgreSQL database must be empty, or ``--reset`` empties
it (drops its public schema) and the ``--redis`` database (FLUSHDB) before each case.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from finews.model import BEIJING
from finews.sources.cls import sign

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "flash"
DAY = "2026-06-16"
SOURCES = {"cls": "cls.telegraph", "ths": "ths.flash", "eastmoney": "eastmoney.fast"}
HOSTS = (
    "www.cls.cn",
    "news.10jqka.com.cn",
    "np-listapi.eastmoney.com",
    "newsinfo.eastmoney.com",
    "finance.eastmoney.com",
)
WARM_UP = 30.0
FULLTEXT_DELAY = 0.2
"""Seconds the stand-in's article API takes to answer (a real one takes a few tenths)."""


def corpus(name: str) -> list[dict[str, Any]]:
    """The day's upstream items of one source, oldest first."""
    path = CORPUS / name / f"{DAY}.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line)["raw"] for line in lines]
    key = {"cls": "ctime", "ths": "ctime", "eastmoney": "realSort"}[name]
    return sorted(rows, key=lambda r: int(r[key]))


class Releases:
    """The stand-in upstreams: items released over time, re-dated to their release."""

    def __init__(self, initial: int = 20) -> None:
        self.items = {name: corpus(name) for name in SOURCES}
        self.out: dict[str, list[dict[str, Any]]] = {name: [] for name in SOURCES}
        self.released: dict[tuple[str, str], float] = {}
        """(source key, upstream id) → time.monotonic() of its release."""
        self.list_requests: Counter[str] = Counter()
        self.fulltext_requests = 0
        self.articles: dict[str, str] = {}
        self._lock = threading.Lock()
        self._seq = 0
        for name in SOURCES:
            for _ in range(initial):
                self.release(name, time.time() - 3600)

    def release(self, name: str, epoch: float | None = None) -> None:
        with self._lock:
            row = dict(self.items[name].pop(0))
            now = time.time() if epoch is None else epoch
            self._seq += 1
            if name == "cls":
                row["ctime"] = int(now)
                ident = str(row["id"])
            elif name == "ths":
                row["ctime"] = row["rtime"] = str(int(now))
                ident = str(row.get("seq") or row["id"])
            else:
                row["showTime"] = datetime.fromtimestamp(now, BEIJING).strftime("%Y-%m-%d %H:%M:%S")
                row["realSort"] = f"{int(now)}{self._seq:06d}"
                ident = str(row["code"])
                self.articles[ident] = str(row.get("summary") or row.get("title") or "")
            self.out[name].insert(0, row)
            if epoch is None:
                self.released[(SOURCES[name], ident)] = time.monotonic()

    # -- answers ---------------------------------------------------------------------------
    def answer(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        with self._lock:
            if path == "/v1/roll/get_roll_list":
                self.list_requests["cls.telegraph"] += 1
                if query.get("sign") != sign(query):
                    return 200, {"errno": 10012, "msg": "签名错误"}
                last = int(query.get("last_time") or 0)
                rows = [r for r in self.out["cls"] if not last or int(r["ctime"]) < last]
                return 200, {"errno": 0, "data": {"roll_data": rows[: int(query.get("rn", 20))]}}
            if path == "/tapp/news/push/stock/":
                self.list_requests["ths.flash"] += 1
                page, size = int(query.get("page", 1)), int(query.get("pagesize", 20))
                rows = self.out["ths"][(page - 1) * size : page * size]
                return 200, {"code": "200", "data": {"list": rows}}
            if path == "/comm/web/getFastNewsList":
                self.list_requests["eastmoney.fast"] += 1
                end = query.get("sortEnd") or ""
                rows = [
                    r for r in self.out["eastmoney"] if not end or int(r["realSort"]) < int(end)
                ]
                rows = rows[: int(query.get("pageSize", 50))]
                cursor = rows[-1]["realSort"] if rows else ""
                return 200, {
                    "code": "1",
                    "data": {"fastNewsList": rows, "sortEnd": cursor},
                }
            if path.startswith("/kuaixun/v2/api/article/"):
                self.fulltext_requests += 1
                text = self.articles.get(path.rsplit("/", 1)[1])
                if text is None:
                    return 200, {"data": None}
                body = {
                    "Art_Content": f"<p>{text}</p><p>（全文）</p>",
                    "Art_Media_Name": "东方财富",
                }
                return 200, {"data": body}
        return 404, {"error": "not found"}

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        releases = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                status, payload = releases.answer(
                    parts.path, dict(parse_qsl(parts.query, keep_blank_values=True))
                )
                if parts.path.startswith("/kuaixun/"):
                    time.sleep(FULLTEXT_DELAY)
                body = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_address[1]}"


def release_loop(
    releases: Releases, case: str, until: float, stop: threading.Event, seed: int
) -> None:
    """One thread per source: the case's density, with bursts when busy."""
    rng = random.Random(seed)

    def one(name: str) -> None:
        low, high = (5.0, 20.0) if case == "busy" else (60.0, 180.0)
        while not stop.is_set() and time.monotonic() < until:
            if stop.wait(rng.uniform(low, high)):
                return
            burst = case == "busy" and rng.random() < 0.15
            for _ in range(rng.randint(3, 5) if burst else 1):
                releases.release(name)
                if burst:
                    time.sleep(rng.uniform(0.1, 0.5))

    threads = [threading.Thread(target=one, args=(n,), daemon=True) for n in SOURCES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def listen(url: str, arrived: dict[tuple[str, str], float], stop: threading.Event) -> None:
    """The open page: the event stream, each article's first arrival."""
    while not stop.is_set():
        try:
            with httpx.stream("GET", url, timeout=httpx.Timeout(5, read=None)) as response:
                buffer = ""
                for chunk in response.iter_text():
                    buffer += chunk
                    while "\n\n" in buffer:
                        block, buffer = buffer.split("\n\n", 1)
                        lines = block.splitlines()
                        if "event: article" not in lines:
                            continue
                        data = json.loads("".join(x[6:] for x in lines if x.startswith("data: ")))
                        arrived.setdefault((data["source"], data["upstream_id"]), time.monotonic())
                    if stop.is_set():
                        return
        except httpx.HTTPError:
            time.sleep(0.5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def empty_store(args: argparse.Namespace) -> None:
    """A case on PostgreSQL starts from an empty database (and an empty Redis database
    with ``--celery``): emptied with ``--reset``, refused otherwise."""
    if not args.db:
        return  # SQLite: a new folder per case
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(args.db.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            if args.reset:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            elif inspect(conn).has_table("articles"):
                held = conn.execute(text("SELECT count(*) FROM articles")).scalar_one()
                if held:
                    raise SystemExit(
                        f"{args.db} holds {held} articles (an earlier run?): the same items "
                        "would come back as updates, not news. Give an empty database, or "
                        "--reset to empty it (drops its public schema)."
                    )
    finally:
        engine.dispose()
    if args.celery and args.reset:
        import redis

        client = redis.Redis.from_url(args.redis)
        client.flushdb()
        client.close()


def start_finews(
    args: argparse.Namespace, case: str, base: str, work: Path
) -> tuple[list[subprocess.Popen[bytes]], str]:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FINEWS_")},
        "FINEWS_DATA_DIR": str(work),
        "FINEWS_UPSTREAM_OVERRIDE": ",".join(f"{h}={base}" for h in HOSTS),
        "FINEWS_SOURCES_ENABLED": ",".join(SOURCES.values()),
        "FINEWS_SOURCES_FEEDS": "false",
        "FINEWS_RUN_PACE": case,
        "FINEWS_SERVE_PORT": str(port),
        "PYTHONPATH": args.src,
    }
    if args.db:
        env["FINEWS_DB"] = args.db
    log = (work / "finews.log").open("wb")
    finews = [sys.executable, "-m", "finews"]
    if not args.celery:
        commands = [[*finews, "run"]]
    else:
        env["FINEWS_WORKER_REDIS"] = args.redis
        commands = [
            *([*finews, "worker", "--name", f"w{n}@bench"] for n in range(args.celery)),
            [*finews, "scheduler"],
            [*finews, "serve", "--port", str(port)],
        ]
    procs = [
        subprocess.Popen(c, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        for c in commands
    ]
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(url + "api/sources", timeout=2).status_code == 200:
                return procs, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise SystemExit(f"finews did not start; see {work / 'finews.log'}")
        time.sleep(0.5)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def one_case(args: argparse.Namespace, case: str, seed: int) -> dict[str, Any]:
    empty_store(args)
    releases = Releases()
    server, base = releases.serve()
    work = Path(tempfile.mkdtemp(prefix=f"finews-fresh-{case}-"))
    procs, url = start_finews(args, case, base, work)
    arrived: dict[tuple[str, str], float] = {}
    stop = threading.Event()
    listener = threading.Thread(
        target=listen, args=(url + "api/stream", arrived, stop), daemon=True
    )
    listener.start()
    time.sleep(2)
    started = time.monotonic()
    counted_from = started + WARM_UP
    until = started + args.minutes * 60
    requests_at_start: Counter[str] = Counter()
    releaser = threading.Thread(
        target=release_loop, args=(releases, case, until, stop, seed), daemon=True
    )
    releaser.start()
    time.sleep(WARM_UP)
    requests_at_start.update(releases.list_requests)
    fulltext_at_start = releases.fulltext_requests
    releaser.join()
    window = time.monotonic() - counted_from
    requests = Counter(releases.list_requests)
    requests.subtract(requests_at_start)
    fulltexts = releases.fulltext_requests - fulltext_at_start
    time.sleep(20 if case == "busy" else 90)  # the last releases' way to the page
    stop.set()
    for proc in procs:
        os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        proc.wait(60)
    server.shutdown()
    counted = {k: t for k, t in releases.released.items() if t >= counted_from}
    delays = [arrived[k] - t for k, t in counted.items() if k in arrived]
    return {
        "case": case,
        "released": len(counted),
        "arrived": len(delays),
        "p50": quantile(delays, 0.5) if delays else None,
        "p95": quantile(delays, 0.95) if delays else None,
        "max": max(delays) if delays else None,
        "mean": statistics.fmean(delays) if delays else None,
        "window_s": round(window),
        "list_requests_per_hour": {k: round(requests[k] / window * 3600) for k in SOURCES.values()},
        "fulltext_requests_per_hour": round(fulltexts / window * 3600),
        "work": str(work),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=4.0, help="length of each case")
    parser.add_argument("--cases", nargs="+", default=["busy", "night"], choices=["busy", "night"])
    parser.add_argument("--db", default="", help="a PostgreSQL URL (default: SQLite)")
    parser.add_argument("--celery", type=int, default=0, help="N workers instead of finews run")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/1")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument(
        "--reset",
        action="store_true",
        help="empty the --db PostgreSQL database (drop its public schema) and, with --celery, "
        "the --redis database before each case",
    )
    parser.add_argument(
        "--src",
        default=str(Path(__file__).resolve().parents[1] / "src"),
        help="the finews source tree to run (another checkout: a before/after comparison)",
    )
    args = parser.parse_args()
    if args.celery and not args.db.startswith("postgresql"):
        raise SystemExit("--celery needs --db postgresql://… (workers share the store)")
    for n, case in enumerate(args.cases):
        result = one_case(args, case, args.seed + n)
        if result["p50"] is None:
            print(f"{case}: nothing arrived ({result})")
            continue
        print(
            f"{case}: {result['arrived']}/{result['released']} arrived over "
            f"{result['window_s']} s; release → page p50 {result['p50']:.1f} s, "
            f"p95 {result['p95']:.1f} s, max {result['max']:.1f} s (mean {result['mean']:.1f})"
        )
        per_hour = ", ".join(f"{k} {v}" for k, v in result["list_requests_per_hour"].items())
        print(
            f"  list requests per hour: {per_hour}; "
            f"full-text requests per hour: {result['fulltext_requests_per_hour']}"
        )
        print(f"  (data in {result['work']})")


if __name__ == "__main__":
    main()
