"""Search on PostgreSQL vs SQLite, side by side, on the same 100,000 real articles.

One command:  .venv/bin/python bench/postgres_search.py [--size 100000] [--postgres URL]

PostgreSQL comes from scripts/services.sh (its database ``finews_bench`` is emptied).  The
SQLite store is the one bench/search.py loads (bench/_work/search/search-SIZE.db; loaded here
when missing).  Its
articles are copied into PostgreSQL through the real write path (clusters and the
``tsvector`` index rebuilt), then the fixed queries of bench/search_queries.txt run on both
through the same search service: latency (p50/p95), and whether both find the same number of
matches for every query.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from search import NOW, QUERIES, WORK, filters_of, load, percentile, save_batched, timed_runs
from sqlalchemy import create_engine

from finews.search.service import search as finews_search
from finews.store import Store


def empty_postgres(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument(
        "--postgres",
        default="postgresql://finews:finews@127.0.0.1:5432/finews_bench",
    )
    parser.add_argument("--reuse", action="store_true", help="keep the loaded PostgreSQL data")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    db = WORK / f"search-{args.size}.db"
    if not db.exists():
        print(f"loading {args.size:,} articles into SQLite …", flush=True)
        load(args.size, db)
    lite = Store.open(f"sqlite:///{db}")
    if not args.reuse:
        empty_postgres(args.postgres)
    pg = Store.open(args.postgres)
    if pg.count() != lite.count():
        print(f"copying {lite.count():,} articles into PostgreSQL (clusters, index) …", flush=True)
        seconds = save_batched(pg, lite.iter_articles(), "copied")
        print(f"copied in {seconds:.0f} s ({lite.count() / seconds:,.0f} articles/s)")
    with pg.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        index_mb = (
            conn.exec_driver_sql("SELECT pg_total_relation_size('article_search')").scalar_one()
            / 1e6
        )
    print(f"PostgreSQL search index (tsvector + GIN): {index_mb:.0f} MB")

    queries = [
        filters_of(line)
        for line in QUERIES.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    stores = {"SQLite FTS5": lite, "PostgreSQL GIN": pg}
    latencies = {
        name: timed_runs(lambda t, f, s=store: finews_search(s, t, f, limit=20, now=NOW), queries)
        for name, store in stores.items()
    }
    same = sum(
        finews_search(lite, t, f, limit=1, now=NOW).total
        == finews_search(pg, t, f, limit=1, now=NOW).total
        for t, f in queries
    )
    print(f"\n{len(queries)} queries over {lite.count():,} articles, first page of 20")
    print(f"{'store':16s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s} {'p95 vs SQLite':>14s}")
    base = percentile(latencies["SQLite FTS5"], 95)
    for name, values in latencies.items():
        p95 = percentile(values, 95)
        print(
            f"{name:16s} {statistics.median(values):8.2f} {p95:8.2f} {max(values):8.2f} "
            f"{p95 / base:13.1f}×"
        )
    print(f"same number of matches on both: {same}/{len(queries)} queries")
    lite.close()
    pg.close()


if __name__ == "__main__":
    main()
