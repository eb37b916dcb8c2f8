"""Search: jieba + FTS5 (finews) vs FTS5's trigram tokenizer vs a plain LIKE scan.

One command:  .venv/bin/python bench/search.py [--size 100000] [--queries 200]

Loads SIZE real articles (the flashes of shared/corpus/flash and the posts of
shared/corpus/jekyll, replicated with new ids and older times beyond that) through
the real write path (stock tagging, reprint clusters, the full-text index) into a
fresh SQLite store, then:

- index build: the time to rebuild finews' index from the stored rows, and its size;
  the same for a trigram FTS5 table over the same title and text;
- latency of a fixed set of queries (bench/search_queries.txt: two-character words,
  four-character names, stock codes, two-word queries, filtered queries), each
  method returning the first page of 20 and the number of matches;
- recall: for each query the relevant articles are the union of what the three
  methods find (without a limit); each method's share of that union.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import articles as flashes

from finews.jekyll.importer import find_posts, read_post
from finews.model import Article
from finews.process.pipeline import Processor
from finews.search.query import parse
from finews.search.service import search as finews_search
from finews.store import Store, fulltext
from finews.store.fulltext import Filters

ROOT = Path(__file__).resolve().parent
WORK = ROOT / "_work" / "search"
JEKYLL = ROOT.parent.parent / "shared" / "corpus" / "jekyll"
QUERIES = ROOT / "search_queries.txt"
NOW = int(time.time())


def corpus(size: int) -> Iterator[Article]:
    posts = []
    for path in find_posts([JEKYLL]):
        try:
            posts.append(read_post(path))
        except Exception:  # the corpus has one broken post (no title, no date)
            continue
    yield from posts
    yield from flashes(size - len(posts))


def save_batched(store: Store, articles: Iterable[Article], verb: str = "loaded") -> float:
    """Save through the real write path, 1,000 per transaction; seconds taken."""
    started = time.perf_counter()
    batch: list[Article] = []
    for i, article in enumerate(articles, 1):
        batch.append(article)
        if len(batch) == 1000:
            store.save(batch)
            batch = []
            if i % 20000 == 0:
                print(f"  {verb} {i:,} ({time.perf_counter() - started:.0f} s)", flush=True)
    store.save(batch)
    return time.perf_counter() - started


def load(size: int, db: Path) -> float:
    if db.exists():
        db.unlink()
    store = Store.open(f"sqlite:///{db}")
    process = Processor.default()
    seconds = save_batched(store, (process(a) for a in corpus(size)))
    store.close()
    return seconds


def table_bytes(conn: sqlite3.Connection, prefix: str) -> int:
    rows = conn.execute(
        "SELECT sum(pgsize) FROM dbstat WHERE name = ? OR name LIKE ?", (prefix, prefix + "_%")
    ).fetchone()
    return int(rows[0] or 0)


def build_indexes(db: Path) -> dict[str, tuple[float, int]]:
    """(seconds, bytes) to build each index from the stored rows."""
    store = Store.open(f"sqlite:///{db}")
    sizes: dict[str, tuple[float, int]] = {}
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM article_fts")
        started = time.perf_counter()
        last = 0
        from sqlalchemy import select

        from finews.store import schema
        from finews.store.rows import row_to_article

        while True:
            rows = conn.execute(
                select(schema.articles)
                .where(schema.articles.c.id > last)
                .order_by("id")
                .limit(2000)
            ).mappings()
            batch = [(row["id"], row_to_article(row)) for row in rows]
            if not batch:
                break
            fulltext.index(conn, batch)
            last = batch[-1][0]
        sizes["jieba"] = (time.perf_counter() - started, 0)
    store.close()
    raw = sqlite3.connect(db)
    raw.create_function("plain", 1, plain_text, deterministic=True)
    raw.execute("DROP TABLE IF EXISTS tri")
    started = time.perf_counter()
    raw.execute("CREATE VIRTUAL TABLE tri USING fts5(title, body, tokenize='trigram')")
    raw.execute(
        "INSERT INTO tri(rowid, title, body) "
        "SELECT id, title, plain(digest || ' ' || body_html) FROM articles"
    )
    raw.commit()
    sizes["trigram"] = (time.perf_counter() - started, table_bytes(raw, "tri"))
    sizes["jieba"] = (sizes["jieba"][0], table_bytes(raw, "article_fts"))
    raw.execute("VACUUM")
    raw.close()
    return sizes


_TAGS = re.compile(r"<[^>]+>")


def plain_text(html_text: str) -> str:
    return _TAGS.sub(" ", html_text or "")


# -- the three methods --------------------------------------------------------


def filters_of(spec: str) -> tuple[str, Filters]:
    """A query line: 'words' or 'words | source=cls.telegraph since=...'."""
    text, _, extra = spec.partition("|")
    values: dict[str, object] = {}
    for pair in extra.split():
        key, _, value = pair.partition("=")
        values[key] = int(value) if key in {"since", "until"} else value
    return text.strip(), Filters(**values)  # type: ignore[arg-type]


def where_filters(filters: Filters, params: list[object]) -> str:
    out = []
    if filters.source:
        out.append("a.source = ?")
        params.append(filters.source)
    if filters.since is not None:
        out.append("a.published_at >= ?")
        params.append(filters.since)
    if filters.stock:
        codes = fulltext.stock_codes(filters.stock)
        out.append(
            "a.id IN (SELECT article_id FROM article_stocks "
            f"WHERE code IN ({','.join('?' * len(codes))}))"
        )
        params.extend(codes)
    return "".join(" AND " + c for c in out)


def like_method(
    conn: sqlite3.Connection, text: str, filters: Filters, limit: int | None
) -> tuple[list[int], int]:
    words = [w for w in text.replace('"', " ").split() if w]
    params: list[object] = []
    conds = []
    for w in words:
        conds.append("(a.title LIKE ? OR a.digest LIKE ? OR a.body_html LIKE ?)")
        params += [f"%{w}%"] * 3
    sql_where = " AND ".join(conds) + where_filters(filters, params)
    total = conn.execute(f"SELECT count(*) FROM articles a WHERE {sql_where}", params).fetchone()[0]
    sql = f"SELECT a.id FROM articles a WHERE {sql_where} ORDER BY a.published_at DESC"
    if limit:
        sql += f" LIMIT {limit}"
    return [r[0] for r in conn.execute(sql, params)], total


def trigram_method(
    conn: sqlite3.Connection, text: str, filters: Filters, limit: int | None
) -> tuple[list[int], int]:
    words = [w for w in text.replace('"', " ").split() if w]
    params: list[object] = []
    match = [w for w in words if len(w) >= 3]
    short = [w for w in words if len(w) < 3]  # trigram cannot MATCH these: LIKE on the table
    conds = []
    if match:
        conds.append("tri MATCH ?")
        params.append(" AND ".join('"' + w.replace('"', '""') + '"' for w in match))
    for w in short:
        conds.append("(tri.title LIKE ? OR tri.body LIKE ?)")
        params += [f"%{w}%"] * 2
    sql_where = " AND ".join(conds) + where_filters(filters, params)
    base = f"FROM tri JOIN articles a ON a.id = tri.rowid WHERE {sql_where}"
    total = conn.execute(f"SELECT count(*) {base}", params).fetchone()[0]
    order = "ORDER BY bm25(tri, 8.0, 1.0)" if match else "ORDER BY a.published_at DESC"
    sql = f"SELECT a.id {base} {order}"
    if limit:
        sql += f" LIMIT {limit}"
    return [r[0] for r in conn.execute(sql, params)], total


def jieba_all(store: Store, text: str, filters: Filters) -> list[int]:
    query = parse(text)
    if query.empty:
        return []
    with store.engine.connect() as conn:
        ranked = fulltext.search(
            conn, query, filters, limit=10**9, offset=0, recent_first=False, now=NOW
        )
    return [i for i, _ in ranked.hits]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed_runs(
    fn: Callable[[str, Filters], object], queries: list[tuple[str, Filters]]
) -> list[float]:
    for text, filters in queries[:10]:  # warm the page cache
        fn(text, filters)
    out = []
    for text, filters in queries:
        started = time.perf_counter()
        fn(text, filters)
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded store")
    parser.add_argument(
        "--latency-only",
        action="store_true",
        help="with --reuse: only finews' latency on the loaded store (no index rebuild, "
        "no trigram or LIKE)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="with --latency-only")
    parser.add_argument(
        "--url", help="with --latency-only: another store (a PostgreSQL URL, or sqlite:///…)"
    )
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    db = WORK / f"search-{args.size}.db"
    if not (args.reuse and (db.exists() or args.url)):
        print(f"loading {args.size:,} articles (tagging, clusters, index) …", flush=True)
        seconds = load(args.size, db)
        print(f"loaded in {seconds:.1f} s ({args.size / seconds:,.0f} articles/s)")
    if args.latency_only:
        latency_only(args.url or db, args.rounds)
        return
    sizes = build_indexes(db)
    print(f"database {db.stat().st_size / 1e6:.0f} MB after VACUUM")
    for name, (seconds, size) in sizes.items():
        print(f"index {name:8s}: built in {seconds:6.1f} s, {size / 1e6:6.1f} MB")

    queries = [
        filters_of(line)
        for line in QUERIES.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    store = Store.open(f"sqlite:///{db}")
    raw = sqlite3.connect(db)
    raw.create_function("plain", 1, plain_text, deterministic=True)
    methods: dict[str, Callable[[str, Filters], object]] = {
        "jieba-fts5": lambda t, f: finews_search(store, t, f, limit=20, now=NOW),
        "trigram": lambda t, f: trigram_method(raw, t, f, 20),
        "like": lambda t, f: like_method(raw, t, f, 20),
    }
    latencies = {name: timed_runs(fn, queries) for name, fn in methods.items()}
    found = {"jieba-fts5": 0, "trigram": 0, "like": 0}
    relevant_total = 0
    for text, filters in queries:
        sets = {
            "jieba-fts5": set(jieba_all(store, text, filters)),
            "trigram": set(trigram_method(raw, text, filters, None)[0]),
            "like": set(like_method(raw, text, filters, None)[0]),
        }
        union = set().union(*sets.values())
        relevant_total += len(union)
        for name, ids in sets.items():
            found[name] += len(ids)
    print(
        f"\n{len(queries)} queries over {args.size:,} articles; recall = share of the "
        f"union of all methods' matches ({relevant_total:,})"
    )
    print(
        f"{'method':12s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s} {'recall':>7s} "
        f"{'p95 vs jieba':>13s}"
    )
    base_p95 = percentile(latencies["jieba-fts5"], 95)
    for name, values in latencies.items():
        p95 = percentile(values, 95)
        print(
            f"{name:12s} {statistics.median(values):8.2f} {p95:8.2f} {max(values):8.2f} "
            f"{found[name] / max(1, relevant_total):7.1%} {p95 / base_p95:12.1f}×"
        )
    groups: dict[str, list[float]] = {}
    for (text, filters), ms in zip(queries, latencies["jieba-fts5"], strict=True):
        kind = (
            "filtered"
            if filters != Filters()
            else (
                "code"
                if re.fullmatch(r"\d{6}", text)
                else ("two words" if " " in text else f"{len(text)} chars")
            )
        )
        groups.setdefault(kind, []).append(ms)
    print("\njieba-fts5 by kind of query:")
    for kind, values in sorted(groups.items()):
        print(
            f"  {kind:10s} n={len(values):3d} p50 {statistics.median(values):6.2f} ms  "
            f"p95 {percentile(values, 95):6.2f} ms"
        )


def read_queries() -> list[tuple[str, Filters]]:
    return [
        filters_of(line)
        for line in QUERIES.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


def latency_only(db: Path | str, rounds: int = 3) -> None:
    """finews' first page of 20 for each fixed query, three rounds; p50 / p95 / max of all,
    and how many were answered relaxed.  Also the CPU time of each query (this thread's:
    SQLite runs in it), which waiting for a core on a shared machine does not inflate."""
    url = db if isinstance(db, str) else f"sqlite:///{db}"
    store = Store.open(url)
    queries = read_queries()
    values: list[float] = []
    cpu: list[float] = []
    relaxed = 0

    for text, filters in queries[:10]:  # warm the page cache
        finews_search(store, text, filters, limit=20, now=NOW)
    for round_ in range(rounds):
        for text, filters in queries:
            started, started_cpu = time.perf_counter(), time.thread_time()
            found = finews_search(store, text, filters, limit=20, now=NOW)
            values.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - started_cpu) * 1000)
            relaxed += found.relaxed if round_ == 0 else 0
    name = url.rsplit("/", 1)[-1]
    print(
        f"{len(queries)} queries × {rounds} over {name}: p50 {statistics.median(values):.2f} ms  "
        f"p95 {percentile(values, 95):.2f} ms  max {max(values):.2f} ms; {relaxed} relaxed; "
        f"CPU p50 {statistics.median(cpu):.2f} ms  p95 {percentile(cpu, 95):.2f} ms"
    )


if __name__ == "__main__":
    main()
