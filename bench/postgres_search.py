"""Search on PostgreSQL vs SQLite, side by side, on the same 100,000 real articles.

One command:  .venv/bin/python bench/postgres_search.py [--size 100000] [--postgres URL]

PostgreSQL comes from scripts/services.sh (its database ``finews_bench`` is emptied).  The
SQLite store is the one bench/search.py loads (bench/_work/search/search-SIZE.db; loaded here
when missing).  Its
articles are copied into PostgreSQL through the real write path (clusters and the
``tsvector`` index rebuilt), then the fixed queries of bench/search_queries.txt run on both
through the same search service: latency (p50/p95), and whether both find the same number of
matches for every query.

Options (wave 3 of #11): ``--sqlite PATH`` compares against another loaded SQLite store (e.g.
bench/search_quality.py's judged corpus); ``--schema NAME`` keeps the PostgreSQL store in a
schema of its own (the database's ``public`` one is left alone); ``--rounds N`` alternates
the two stores N times; ``--load-only`` loads PostgreSQL straight from the corpus (the same
articles bench/search.py loads into SQLite), so that the two loads can run side by side.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from search import (
    NOW,
    QUERIES,
    WORK,
    corpus,
    filters_of,
    load,
    percentile,
    save_batched,
    timed_runs,
)
from sqlalchemy import create_engine

from finews.process.pipeline import Processor
from finews.search.service import search as finews_search
from finews.store import Store


def empty_postgres(url: str, schema: str = "public") -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()


def in_schema(url: str, schema: str) -> str:
    """The URL with its connections' search_path set to ``schema`` (one database can hold
    the benchmark's store beside another)."""
    if schema == "public":
        return url
    return url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument(
        "--postgres",
        default="postgresql://finews:finews@127.0.0.1:5432/finews_bench",
    )
    parser.add_argument("--reuse", action="store_true", help="keep the loaded PostgreSQL data")
    parser.add_argument(
        "--schema", default="public", help="the schema of the database to use (emptied)"
    )
    parser.add_argument(
        "--load-only",
        action="store_true",
        help="load PostgreSQL from the corpus through the write path (the same articles as "
        "bench/search.py loads into SQLite) and stop: the two loads can run side by side",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of the fixed queries on each store"
    )
    parser.add_argument(
        "--sqlite",
        help="an SQLite store already loaded with the same articles (default: bench/search.py's "
        "store of SIZE articles; e.g. bench/search_quality.py's judged corpus, with --reuse)",
    )
    args = parser.parse_args()
    url = in_schema(args.postgres, args.schema)
    if args.load_only:
        if not args.reuse:
            empty_postgres(args.postgres, args.schema)
        pg = Store.open(url)
        process = Processor.default()
        print(f"loading {args.size:,} articles into PostgreSQL …", flush=True)
        seconds = save_batched(pg, (process(a) for a in corpus(args.size)))
        print(f"loaded in {seconds:.0f} s ({args.size / seconds:,.0f} articles/s)")
        pg.close()
        return
    WORK.mkdir(parents=True, exist_ok=True)
    db = Path(args.sqlite) if args.sqlite else WORK / f"search-{args.size}.db"
    if not db.exists():
        print(f"loading {args.size:,} articles into SQLite …", flush=True)
        load(args.size, db)
    lite = Store.open(f"sqlite:///{db}")
    if not args.reuse:
        empty_postgres(args.postgres, args.schema)
    pg = Store.open(url)
    if pg.count() != lite.count():
        print(f"copying {lite.count():,} articles into PostgreSQL (clusters, index) …", flush=True)
        seconds = save_batched(pg, lite.iter_articles(), "copied")
        print(f"copied in {seconds:.0f} s ({lite.count() / seconds:,.0f} articles/s)")
    # VACUUM as well as ANALYZE: a freshly loaded table has no visibility map, and every
    # count then visits each matching heap page (the SQLite store is VACUUMed too); in a
    # running installation autovacuum does this
    with pg.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
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
    # alternate the stores, round by round: the machine's load changes over minutes
    latencies: dict[str, list[float]] = {name: [] for name in stores}
    for _ in range(args.rounds):
        for name, store in stores.items():
            latencies[name] += timed_runs(
                lambda t, f, s=store: finews_search(s, t, f, limit=20, now=NOW), queries
            )
    same = sum(
        finews_search(lite, t, f, limit=1, now=NOW).total
        == finews_search(pg, t, f, limit=1, now=NOW).total
        for t, f in queries
    )
    print(
        f"\n{len(queries)} queries × {args.rounds} over {lite.count():,} articles, first page of 20"
    )
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
