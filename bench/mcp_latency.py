"""MCP tool-call latency (issue #14): p50/p95 over 100 calls through the real protocol.

One command:  .venv/bin/python bench/mcp_latency.py [--size 100000] [--reuse] [--calls 100]

Loads SIZE real articles (the flashes of shared/corpus/flash, replicated with new ids and
older times beyond 82,457: bench/corpus.py) through the real write path (stock tags,
stories, the full-text index) into a fresh SQLite store, then starts `finews mcp` as an MCP
client would (a subprocess on stdio) and drives it with the SDK's own client: CALLS tool
calls in a fixed rotation over the seven tools (search_news with the words of
bench/search_queries.txt, latest_news, stock_news, get_article, get_story, top_stories over
the corpus's last day, source_health).  Each call's time is the client's round trip: JSON-RPC
over the pipe, argument validation, the store, the result's schema.  ``--max-seconds``
stops the load early (the store then holds what was loaded in that time) and says so.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import articles as flashes

from finews.model import Article
from finews.process.pipeline import Processor
from finews.store import Store

ROOT = Path(__file__).resolve().parent
WORK = ROOT / "_work" / "mcp"
QUERIES = ROOT / "search_queries.txt"
SRC = ROOT.parent / "src"


def load(size: int, db: Path, max_seconds: float, resume: bool = False) -> tuple[int, float]:
    """(articles stored, seconds): 1,000 per transaction through the real write path;
    ``resume`` goes on from a store a --max-seconds run left (its articles are the first of
    the same sequence)."""
    if db.exists() and not resume:
        db.unlink()
    store = Store.open(f"sqlite:///{db}")
    process = Processor.default()
    started = time.perf_counter()
    batch: list[Article] = []
    done = store.count() if resume else 0
    for n, article in enumerate(flashes(size)):
        if n < done:
            continue
        batch.append(process(article))
        if len(batch) == 1000:
            store.save(batch)
            done += len(batch)
            batch = []
            elapsed = time.perf_counter() - started
            if done % 10000 == 0:
                print(f"  loaded {done:,} ({elapsed:.0f} s)", flush=True)
            if elapsed > max_seconds:
                print(f"  stopped at {done:,} after {elapsed:.0f} s (--max-seconds)", flush=True)
                break
    else:
        store.save(batch)
        done += len(batch)
    store.close()
    return done, time.perf_counter() - started


def words() -> list[str]:
    return [
        line.strip()
        for line in QUERIES.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#") and "|" not in line
    ]


async def measure(db: Path, calls: int) -> dict[str, list[float]]:
    from mcp import Client, StdioServerParameters

    env = {**os.environ, "PYTHONPATH": str(SRC)}
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "finews", "--db", str(db), "mcp"], env=env
    )
    times: dict[str, list[float]] = defaultdict(list)
    queries = words()
    async with Client(params, mode="legacy") as client:
        first = await client.call_tool("latest_news", {"limit": 50})
        assert not first.is_error, first.content
        items: list[dict[str, Any]] = (first.structured_content or {})["items"]
        newest = items[0]["time"][:10]
        stocks = [s["code"] for i in items for s in i["stocks"]] or ["600519.SH"]
        for n in range(calls):
            kind = n % 7
            name, args = [
                ("search_news", {"query": queries[n % len(queries)], "limit": 10}),
                ("latest_news", {"limit": 20, "important": n % 2 == 0}),
                ("stock_news", {"stock": stocks[n % len(stocks)], "limit": 20}),
                ("get_article", {"id": items[n % len(items)]["id"]}),
                ("get_story", {"story": items[n % len(items)]["story"]}),
                ("top_stories", {"since": newest, "limit": 10}),
                ("source_health", {}),
            ][kind]
            started = time.perf_counter()
            result = await client.call_tool(name, args)
            times[name].append(time.perf_counter() - started)
            assert not result.is_error, (name, args, result.content)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded store")
    parser.add_argument("--max-seconds", type=float, default=3600.0)
    parser.add_argument("--resume", action="store_true", help="go on loading a store cut short")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    db = WORK / f"mcp-{args.size}.db"
    if not (args.reuse and db.exists()):
        stored, seconds = load(args.size, db, args.max_seconds, args.resume)
        print(f"store: {stored:,} articles loaded in {seconds:.0f} s ({stored / seconds:.0f}/s)")
    with Store.open(f"sqlite:///{db}", create=False) as store:
        print(f"store: {store.count():,} articles, {db.stat().st_size / 1e6:.0f} MB")
    times = asyncio.run(measure(db, args.calls))
    every = sorted(t for ts in times.values() for t in ts)

    def pct(values: list[float], q: float) -> float:
        values = sorted(values)
        return values[min(len(values) - 1, round(q * (len(values) - 1)))] * 1000

    print(
        f"\n{len(every)} calls: p50 {pct(every, 0.5):.1f} ms, p95 {pct(every, 0.95):.1f} ms, "
        f"max {every[-1] * 1000:.1f} ms, mean {statistics.mean(every) * 1000:.1f} ms"
    )
    print(f"{'tool':<14} {'calls':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, ts in sorted(times.items()):
        print(
            f"{name:<14} {len(ts):>5} {pct(ts, 0.5):>8.1f} {pct(ts, 0.95):>8.1f} "
            f"{max(ts) * 1000:>8.1f}"
        )


if __name__ == "__main__":
    main()
