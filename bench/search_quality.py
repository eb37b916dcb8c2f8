"""Search quality on a judged query set: nDCG@10 and recall@50, by kind, tune/test split.

One command:  .venv/bin/python bench/search_quality.py [--reuse] [--json OUT]

Loads the judged corpus — the real flashes of every fourth day of shared/corpus/flash
(18,550 flashes, May–August 2026) — through the real write path into a fresh SQLite store
under bench/_work/quality/, runs the 84 queries of bench/search_judged/queries.tsv through
the search service (the first 50 results, as ``finews search`` ranks them, "now" being the
end of the corpus) and scores them against the judge's criteria (bench/search_judged/README.md):

- nDCG@10 with gains 2^grade − 1 (grade 2: about the query, 1: mentions it), the ideal
  ranking taken from every judged article of the corpus;
- recall@50: the share of the relevant articles (grade ≥ 1) in the first 50, out of at most
  50 (a query with 300 relevant articles is perfect with 50 relevant ones in its first 50);
- literal recall: for every query, the share of the articles that contain the typed text
  (each word, quotes removed) that the search finds at all (no limit).

``--postgres URL`` runs the same on a PostgreSQL store (the database is emptied and loaded).

The same script runs against an older checkout (``PYTHONPATH=old/src``) for the "before"
figures; ``--substring`` scores a plain substring search (every word, newest first) instead.
``--set NAME=VALUE`` overrides a ranking constant of finews.store.fulltext (WEIGHTS,
RECENCY_SCALE, RELAX_BELOW, RERANK_TOP) or, as ``rerank.NAME``, of finews.search.rerank
(LEAD_WEIGHT, BLEND), or as ``fts_postgres.RANK_NORMALIZATION`` ts_rank's, for tuning,
which is done on the tune half only.
"""

from __future__ import annotations

import argparse
import ast
import gzip
import json
import math
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import SHARED, _flash
from sqlalchemy import text as sql
from story_pairs import normalise

from finews.process.pipeline import Processor
from finews.search import rerank
from finews.search.query import parse
from finews.search.service import search as finews_search
from finews.store import Store, fts_postgres, fulltext
from finews.store.fulltext import Filters

ROOT = Path(__file__).resolve().parent
WORK = ROOT / "_work" / "quality"
QUERIES = ROOT / "search_judged" / "queries.tsv"
NOW = int(datetime.fromisoformat("2026-08-23T00:00:00+08:00").timestamp())
"""The end of the corpus: recency counts as it would have the day after."""


def judged_records() -> list[dict[str, object]]:
    """The flashes of every fourth day of the corpus (all three sources)."""
    dates = sorted({p.name for p in SHARED.glob("*/*.jsonl.gz")})
    picked = set(dates[::4])
    out = []
    for path in sorted(SHARED.glob("*/*.jsonl.gz")):
        if path.name in picked:
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                out.extend(json.loads(line) for line in handle)
    return out


def key_of(record: dict[str, object]) -> tuple[str, str]:
    article = _flash(record)
    return article.source, article.upstream_id


@dataclass(frozen=True)
class Judged:
    id: str
    kind: str
    split: str
    query: str
    criterion: list[re.Pattern[str]]

    def grade(self, title: str, text: str) -> int:
        lede = title + " " + re.split(r"[。！？\n]", text, maxsplit=1)[0][:120]
        if all(p.search(lede) for p in self.criterion):
            return 2
        if all(p.search(title + " " + text) for p in self.criterion):
            return 1
        return 0


def read_queries(path: Path = QUERIES) -> list[Judged]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        qid, kind, split, query, criterion = line.split("\t")
        patterns = [re.compile(part, re.I) for part in criterion.split("&&")]
        out.append(Judged(qid, kind, split, query, patterns))
    return out


def literal_words(q: Judged) -> list[str]:
    """What a substring search looks for: each word, a quoted Chinese phrase without its
    spaces; nothing for plain ASCII (an English word matches as a whole word by design)."""
    text = q.query.strip()
    if text.startswith('"') and not text.isascii():
        words = ["".join(text.strip('"').split())]
    else:
        words = text.replace('"', " ").split()
    return [w.lower() for w in words if not w.isascii()]


def load(url: str, records: list[dict[str, object]], adapters: bool = False) -> None:
    """The judged corpus into a fresh store: each record as the archive normalised it
    (``_flash``: an untitled flash's title is its text's first 60 characters, dateline
    included), or — ``adapters`` — as finews' own adapters make it of the upstream payload
    (the headline a reader sees: the first sentence without the dateline)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    else:
        empty_postgres(url)
    store = Store.open(url)
    process = Processor.default()
    started = time.perf_counter()
    batch = []
    skipped = 0
    for record in records:
        try:
            article = (
                normalise(str(record["source"]), record["raw"])  # type: ignore[arg-type]
                if adapters
                else _flash(record)
            )
        except (KeyError, ValueError, TypeError):
            skipped += 1
            continue
        batch.append(process(article))
        if len(batch) == 1000:
            store.save(batch)
            batch = []
    store.save(batch)
    store.close()
    print(
        f"loaded {len(records) - skipped:,} flashes in {time.perf_counter() - started:.0f} s"
        f" ({skipped} the adapters refused)",
        flush=True,
    )


def empty_postgres(url: str) -> None:
    """Drop everything in a PostgreSQL database (the benchmark's own: --postgres)."""
    from sqlalchemy import create_engine

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def ndcg(grades: list[int], ideal: list[int], k: int = 10) -> float:
    def dcg(values: list[int]) -> float:
        return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(values[:k]))

    best = dcg(sorted(ideal, reverse=True))
    return dcg(grades) / best if best else 1.0


def substring_search(
    records: list[tuple[tuple[str, str], str, int]], query: str
) -> Callable[[], list[tuple[str, str]]]:
    words = [w.lower() for w in query.replace('"', " ").split() if w]

    def run() -> list[tuple[str, str]]:
        hits = [(ts, key) for key, text, ts in records if all(w in text for w in words)]
        return [key for _, key in sorted(hits, reverse=True)]

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded store")
    parser.add_argument("--db", default="judged", help="name of the store under _work")
    parser.add_argument("--substring", action="store_true", help="score a substring search")
    parser.add_argument(
        "--adapters",
        action="store_true",
        help="load the corpus through finews' own adapters (the product's titles) into "
        "the store named by --db (default judged-adapters)",
    )
    parser.add_argument("--set", action="append", default=[], help="NAME=VALUE (tuning)")
    parser.add_argument("--split", choices=["tune", "test", "all"], default="all")
    parser.add_argument(
        "--queries",
        type=Path,
        default=QUERIES,
        help="the judged queries (default: search_judged/queries.tsv; the second judge's "
        "independent set: search_judged/queries2.tsv)",
    )
    parser.add_argument("--json", help="write per-query figures here")
    parser.add_argument("--quiet", action="store_true", help="only the summary lines")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="the judged corpus in this PostgreSQL database instead of SQLite (emptied "
        "unless --reuse)",
    )
    parser.add_argument(
        "--tune", action="store_true", help="grid of ranking constants on the tune half"
    )
    args = parser.parse_args()
    for assignment in args.set:
        name, _, value = assignment.partition("=")
        module, _, attribute = name.rpartition(".")
        target = {
            "": fulltext,
            "fulltext": fulltext,
            "rerank": rerank,
            "fts_postgres": fts_postgres,
        }[module]
        setattr(target, attribute, ast.literal_eval(value))

    records = judged_records()
    keyed = [
        (key_of(r), str(r.get("title") or ""), str(r.get("content") or r.get("brief") or ""))
        for r in records
    ]
    stamps = [int(datetime.fromisoformat(str(r["datetime"])).timestamp()) for r in records]
    queries = [q for q in read_queries(args.queries) if args.split in {"all", q.split}]
    WORK.mkdir(parents=True, exist_ok=True)
    if args.adapters and args.db == "judged":
        args.db = "judged-adapters"
    db = WORK / f"{args.db}.db"
    url = args.postgres or f"sqlite:///{db}"
    if not args.substring and not (args.reuse and (args.postgres or db.exists())):
        load(url, records, args.adapters)
    store = None if args.substring else Store.open(url)
    lowered = [
        (key, (title + " " + text).lower(), ts)
        for (key, title, text), ts in zip(keyed, stamps, strict=True)
    ]

    keys: dict[int, tuple[str, str]] = {}
    if store is not None:
        with store.engine.connect() as conn:
            for i, source, upstream in conn.execute(
                sql("SELECT id, source, upstream_id FROM articles")
            ):
                keys[int(i)] = (str(source), str(upstream))

    def ranked(query: str, limit: int) -> list[tuple[str, str]]:
        if store is None:
            return substring_search(lowered, query)()[:limit]
        found = finews_search(store, query, limit=limit, now=NOW)
        return [(r.article.source, r.article.upstream_id) for r in found.results]

    def matched(query: str) -> set[tuple[str, str]]:
        """Every article the search finds (ids only, no page)."""
        if store is None:
            return set(substring_search(lowered, query)())
        parsed = parse(query)
        if parsed.empty:
            return set()
        with store.engine.connect() as conn:
            found = fulltext.search(
                conn, parsed, Filters(), limit=10**6, offset=0, recent_first=False, now=NOW
            )
        hits = found.hits if hasattr(found, "hits") else found[0]  # older checkouts: a tuple
        return {keys[i] for i, _ in hits}

    if args.tune:
        tune(queries, keyed, ranked)
        return
    rows = []
    latencies = []
    for q in queries:
        grades = {key: q.grade(title, text) for key, title, text in keyed}
        relevant = {k for k, g in grades.items() if g > 0}
        started = time.perf_counter()
        top = ranked(q.query, 50)
        latencies.append((time.perf_counter() - started) * 1000)
        top_grades = [grades.get(k, 0) for k in top]
        literal = {key for key, text, _ in lowered if all(w in text for w in literal_words(q))}
        everything = matched(q.query) if literal and literal_words(q) else set()
        rows.append(
            {
                "id": q.id,
                "kind": q.kind,
                "split": q.split,
                "query": q.query,
                "relevant": len(relevant),
                "ndcg10": ndcg(top_grades, list(grades.values())),
                "recall50": (
                    len(relevant & set(top)) / min(50, len(relevant)) if relevant else 1.0
                ),
                "literal": (
                    len(literal & everything) / len(literal)
                    if literal and literal_words(q)
                    else 1.0
                ),
                "found": len(top),
            }
        )
        if not args.quiet:
            r = rows[-1]
            print(
                f"{q.id} {q.split:4s} {q.kind:8s} nDCG@10 {r['ndcg10']:.2f} "
                f"R@50 {r['recall50']:.2f} literal {r['literal']:.2f} rel {len(relevant):4d} "
                f"{q.query}",
                flush=True,
            )
    report(rows, latencies)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, ensure_ascii=False, indent=1))


GRID = {
    "WEIGHTS": [
        (title, 1.0, tags, grams)
        for title, tags in ((8.0, 4.0), (4.0, 2.0), (3.0, 1.0), (2.0, 1.0), (12.0, 4.0), (8.0, 2.0))
        for grams in (0.0, 0.5, 1.0)
    ],
    "RECENCY_SCALE": [365 * 86400, 1000 * 86400, 3650 * 86400],
    "RELAX_BELOW": [10, 20, 50],
}


def tune(
    queries: list[Judged],
    keyed: list[tuple[tuple[str, str], str, str]],
    ranked: Callable[[str, int], list[tuple[str, str]]],
) -> None:
    """Every combination of GRID on the tune half only; best mean of nDCG@10 and
    recall@50 first."""
    tuning = [q for q in queries if q.split == "tune"]
    grades = {q.id: {k: q.grade(t, x) for k, t, x in keyed} for q in tuning}
    results = []
    for weights in GRID["WEIGHTS"]:
        for scale in GRID["RECENCY_SCALE"]:
            for below in GRID["RELAX_BELOW"]:
                fulltext.WEIGHTS = weights  # type: ignore[misc]
                fulltext.RECENCY_SCALE = scale  # type: ignore[misc]
                fulltext.RELAX_BELOW = below  # type: ignore[misc]
                fts_postgres.RELAX_BELOW = below  # type: ignore[misc]
                n, r = [], []
                for q in tuning:
                    g = grades[q.id]
                    top = ranked(q.query, 50)
                    relevant = {k for k, v in g.items() if v > 0}
                    n.append(ndcg([g.get(k, 0) for k in top], list(g.values())))
                    r.append(len(relevant & set(top)) / min(50, len(relevant)) if relevant else 1)
                results.append((statistics.fmean(n), statistics.fmean(r), weights, scale, below))
                print(
                    f"weights {weights} scale {scale / 86400:>12.0f} d relax<{below:3d}: "
                    f"nDCG@10 {results[-1][0]:.3f} recall@50 {results[-1][1]:.3f}",
                    flush=True,
                )
    print("\nbest on the tune half:")
    for row in sorted(results, key=lambda x: -(x[0] + x[1]))[:5]:
        print(f"  nDCG@10 {row[0]:.3f} recall@50 {row[1]:.3f}  {row[2:]}")


def report(rows: list[dict[str, object]], latencies: list[float]) -> None:
    def line(label: str, subset: list[dict[str, object]]) -> str:
        if not subset:
            return ""
        n = statistics.fmean(float(r["ndcg10"]) for r in subset)  # type: ignore[arg-type]
        r50 = statistics.fmean(float(r["recall50"]) for r in subset)  # type: ignore[arg-type]
        lit = min(float(r["literal"]) for r in subset)  # type: ignore[arg-type]
        return (
            f"{label:16s} n={len(subset):3d} nDCG@10 {n:.3f}  recall@50 {r50:.3f}  "
            f"literal(min) {lit:.3f}"
        )

    print()
    print(line("all", rows))
    for split in ("tune", "test"):
        print(line(split, [r for r in rows if r["split"] == split]))
    for kind in sorted({str(r["kind"]) for r in rows}):
        print(line(kind, [r for r in rows if r["kind"] == kind]))
    ordered = sorted(latencies)
    print(
        f"latency (first 50, 18.5k articles): p50 {statistics.median(ordered):.1f} ms  "
        f"p95 {ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]:.1f} ms"
    )


if __name__ == "__main__":
    main()
