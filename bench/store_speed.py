"""The store's write path with stories (#10): speed, and which story each article lands in.

    .venv/bin/python bench/store_speed.py [--n 5000] [--runs 3] [--profile out.prof]

The first ``--n`` real flashes of shared/corpus/flash in bench/quality.py's order (its
throughput figure: through finews' own adapters, oldest first), tagged and stored one batch
of 500 at a time in a fresh SQLite file on this machine's disk (bench/quality/, not /tmp),
as ``finews fetch`` stores them.  Prints articles/s per run — CPU of this process, and wall:
since wave 6 a helper process derives most search documents on a second core
(finews.store.derivehelper), so wall is the speed a user sees — and a SHA-256 of
the mapping article → story (each as source/upstream id; a story named by its first report),
so two versions of the code can be shown to make the same judgements: run it with
``PYTHONPATH=<other checkout>/src`` for the other version.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from quality import records
from story_pairs import normalise

import finews
from finews.process.stocks import StockTagger, load_directory
from finews.store import Store, clusters

HERE = Path(__file__).resolve().parent / "quality"


def run(
    articles: list, tagger: StockTagger, profile: str | None
) -> tuple[float, float, str, int, int]:
    """(CPU s, wall s, mapping hash, stories, stories told more than once) of one fresh
    store loaded with ``articles``."""
    with tempfile.TemporaryDirectory(dir=HERE) as tmp, Store.open(f"sqlite:///{tmp}/s.db") as st:
        prof = cProfile.Profile() if profile else None
        started, wall = time.process_time(), time.perf_counter()
        if prof:
            prof.enable()
        for i in range(0, len(articles), 500):
            st.save(tagger.tag(a) for a in articles[i : i + 500])
        if prof:
            prof.disable()
            prof.dump_stats(profile)
        cpu, wall = time.process_time() - started, time.perf_counter() - wall
        with st.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT a.source, a.upstream_id, f.source, f.upstream_id"
                " FROM articles a JOIN articles f ON f.id = a.cluster_id"
            ).all()
    mapping = sorted(f"{s}/{u}\t{fs}/{fu}" for s, u, fs, fu in rows)
    digest = hashlib.sha256("\n".join(mapping).encode()).hexdigest()
    sizes = Counter((fs, fu) for _, _, fs, fu in rows)
    return cpu, wall, digest, len(sizes), sum(1 for n in sizes.values() if n > 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--newest",
        action="store_true",
        help="the N newest flashes of all three sources (many stories told more than once) "
        "instead of bench/quality.py's first N (mostly one source)",
    )
    parser.add_argument("--profile", help="write a cProfile of the first run's writes here")
    parser.add_argument(
        "--candidates", type=int, help="clusters.MAX_CANDIDATES for this run (wave 15)"
    )
    args = parser.parse_args()
    recs = records()
    if args.candidates is not None:
        clusters.MAX_CANDIDATES = args.candidates
    if args.newest:
        recs = sorted(recs, key=lambda r: (str(r["datetime"]), r["source"], str(r["id"])))
        recs = recs[-args.n :]
    else:
        recs = recs[: args.n]
    articles = sorted((normalise(r["source"], r["raw"]) for r in recs), key=lambda a: a.published)
    tagger = StockTagger(load_directory())
    print(f"finews from {Path(finews.__file__).parent}; {len(articles)} flashes")
    try:
        from finews.store import derivehelper
    except ImportError:  # a version before the helper (#10's write speed, wave 6)
        derivehelper = None  # type: ignore[assignment]
    for i in range(args.runs):
        helped = derivehelper.helped() if derivehelper else 0
        cpu, wall, digest, stories, told = run(articles, tagger, args.profile if i == 0 else None)
        helped = (derivehelper.helped() if derivehelper else 0) - helped
        print(
            f"run {i + 1}: {len(articles) / cpu:,.0f} articles/s CPU, "
            f"{len(articles) / wall:,.0f}/s wall; {stories} stories ({told} told more than "
            f"once); "
            f"article→story sha256 {digest[:16]}; "
            f"{helped * derivehelper.CHUNK if derivehelper else 0} derived by the helper",
            flush=True,
        )


if __name__ == "__main__":
    main()
