"""Stories (#10): train the same-story model on the tuning half, measure both halves.

    .venv/bin/python bench/story_quality.py            # measure the shipped model
    .venv/bin/python bench/story_quality.py --train    # retrain on the tuning half, then measure
    .venv/bin/python bench/story_quality.py --corpus   # + every flash through the real store

Reads the labelled pairs of bench/quality/story_pairs.jsonl (how they were made:
bench/quality/README.md) and the flashes they name from shared/corpus/flash, through
finews' own adapters and stock tagger.  The split into tuning and test halves is stored in
the file and was drawn once; training and the choice of threshold see the tuning half only.
``--corpus`` stores all 82,457 flashes in a real SQLite store on disk (the write path
``finews fetch`` uses), then reports the pairs' verdicts as the stored stories give them,
the sizes and spans of stories, and the store's speed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from story_pairs import EXCLUDED_DAYS, corpus

from finews.model import Article
from finews.process import story
from finews.process.pipeline import Processor
from finews.store import clusters

HERE = Path(__file__).resolve().parent
PAIRS = HERE / "quality" / "story_pairs.jsonl"
MODEL = HERE.parent / "src" / "finews" / "data" / "story_model.json"


def labelled() -> list[dict]:
    rows = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines()]
    return [r for r in rows if r["label"] in {"SAME", "DIFFERENT"}]


def articles_named(rows: list[dict], *, everything: bool = False) -> dict[tuple[str, str], Article]:
    """The pairs' articles as the store would hold them (adapter, then stock tagging)."""
    wanted = {(r[s]["source"], r[s]["id"]) for r in rows for s in ("a", "b")}
    process = Processor.default()
    found = {}
    for a in corpus(skip_days=None if everything else EXCLUDED_DAYS):
        if everything or a.key in wanted:
            found[a.key] = process(a)
    return found


def scores(tp: int, fp: int, fn: int, tn: int) -> str:
    p = tp / max(1, tp + fp)
    r = tp / max(1, tp + fn)
    return f"precision {p:.3f}, recall {r:.3f} (tp {tp}, fp {fp}, fn {fn}, tn {tn})"


def confusion(rows: list[dict], predicted: dict[int, bool]) -> tuple[int, int, int, int]:
    tp = fp = fn = tn = 0
    for r in rows:
        same, guess = r["label"] == "SAME", predicted[r["n"]]
        tp += same and guess
        fp += guess and not same
        fn += same and not guess
        tn += not same and not guess
    return tp, fp, fn, tn


POOLS = {
    "A_high": 17_612,
    "B_mid": 6_766,
    "C_low": 10_003,
    "D_short_long": 2_730,
    "E_late": 9_189,
    "F_same_stock": 2_030,
    "G_template": 516,
    "H_same_source": 6_875,
}
"""Candidate pairs per stratum in the corpus (bench/quality/README.md): the strata were
drawn at different rates, so each labelled pair stands for pool / drawn pairs of the corpus."""


def weighted(rows: list[dict], predicted: dict[int, bool]) -> str:
    """Precision and recall over the corpus's candidate pairs, each labelled pair weighted by
    the pairs of its stratum it stands for (an estimate of what a reader meets; the
    unweighted figures over-represent the hard strata on purpose)."""
    drawn: dict[str, int] = defaultdict(int)
    for r in rows:
        drawn[r["stratum"]] += 1
    tp = fp = fn = 0.0
    for r in rows:
        w = POOLS[r["stratum"]] / drawn[r["stratum"]]
        same, guess = r["label"] == "SAME", predicted[r["n"]]
        tp += w * (same and guess)
        fp += w * (guess and not same)
        fn += w * (same and not guess)
    return f"precision {tp / max(1e-9, tp + fp):.3f}, recall {tp / max(1e-9, tp + fn):.3f}"


SPLITS = ("tune", "test")
"""The halves reported (``--tune-only``: the tuning half alone, for choosing a constant
without reading the test half)."""


def report(title: str, rows: list[dict], predicted: dict[int, bool]) -> None:
    print(f"\n## {title}")
    rows = [r for r in rows if r["split"] in SPLITS]
    for split in SPLITS:
        part = [r for r in rows if r["split"] == split]
        print(f"{split:5} ({len(part)} pairs): {scores(*confusion(part, predicted))}")
        print(f"      weighted to the corpus's candidate pairs: {weighted(part, predicted)}")
    by: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        by[(r["split"], r["stratum"])].append(r)
    for split, name in sorted(by, key=lambda k: (k[0] != "tune", k[1])):
        part = by[(split, name)]
        print(f"  {split:4} {name:14} {len(part):4}: {scores(*confusion(part, predicted))}")


def train(rows: list[dict], facts: dict[int, tuple[story.Facts, story.Facts]]) -> story.Model:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    tune = [r for r in rows if r["split"] == "tune"]
    x = np.array([story.features(*facts[r["n"]]) for r in tune])
    y = np.array([r["label"] == "SAME" for r in tune])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    fit = LogisticRegression(C=1.0, max_iter=2000).fit((x - mean) / scale, y)
    candidate = story.Model(
        tuple(float(w) for w in fit.coef_[0]),
        float(fit.intercept_[0]),
        0.5,
        tuple(float(m) for m in mean),
        tuple(float(s) for s in scale),
    )
    # the threshold: the best F1 on the tuning half, precision weighted a little more
    probs = [(candidate.probability(*facts[r["n"]]), r["label"] == "SAME") for r in tune]
    best = (-1.0, 0.5)
    for step in range(10, 91):
        t = step / 100
        tp = sum(p >= t and s for p, s in probs)
        fp = sum(p >= t and not s for p, s in probs)
        fn = sum(p < t and s for p, s in probs)
        prec, rec = tp / max(1, tp + fp), tp / max(1, tp + fn)
        f = (1 + 0.5**2) * prec * rec / max(1e-9, 0.5**2 * prec + rec)
        if f > best[0]:
            best = (f, t)
    model = story.Model(candidate.weights, candidate.bias, best[1], candidate.mean, candidate.scale)
    MODEL.write_text(json.dumps(model.to_dict(), indent=1) + "\n", encoding="utf-8")
    print(f"trained on {len(tune)} tuning pairs; threshold {best[1]:.2f} → {MODEL}")
    for name, w in zip(story.FEATURES, model.weights, strict=True):
        print(f"  {name:18} {w:+.3f}")
    story.model.cache_clear()
    return model


def store_run(rows: list[dict]) -> None:
    """Every flash through a real SQLite store on disk, oldest first, then the stories."""
    from finews.store.sqlstore import Store

    everything = articles_named(rows, everything=True)
    ordered = sorted(everything.values(), key=lambda a: (a.published, a.key))
    with tempfile.TemporaryDirectory(dir=HERE) as tmp, Store.open(f"sqlite:///{tmp}/s.db") as st:
        started = time.perf_counter()
        cpu = time.process_time()
        for i in range(0, len(ordered), 500):
            st.save(ordered[i : i + 500])
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"\nstored {len(ordered):,} flashes: {len(ordered) / wall:,.0f} articles/s wall, "
            f"{len(ordered) / cpu:,.0f}/s CPU"
        )
        with st.engine.connect() as conn:
            got = conn.exec_driver_sql(
                "SELECT source, upstream_id, cluster_id, published_at, title, id FROM articles"
            ).all()
    story_of = {(s, u): c for s, u, c, _, _, _ in got}
    predicted = {
        r["n"]: story_of.get((r["a"]["source"], r["a"]["id"]))
        == story_of.get((r["b"]["source"], r["b"]["id"]))
        for r in rows
    }
    report("stories as stored (every flash of the corpus through the store)", rows, predicted)
    members: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for _s, _u, c, t, title, _ in got:
        members[c].append((t, title))
    sizes = Counter(len(m) for m in members.values())
    biggest = max(members.values(), key=len)
    longest = max(members.values(), key=lambda m: max(t for t, _ in m) - min(t for t, _ in m))
    subjects = max(
        (len({story._SUBJECT.match(t).group(1) for _, t in m if story._SUBJECT.match(t)}), i)
        for i, m in members.items()
    )
    in_big = sum(n * k for n, k in sizes.items() if n > 10)
    print(
        f"\n{len(got):,} articles in {len(members):,} stories; largest {len(biggest)}; "
        f"longest span {(max(t for t, _ in longest) - min(t for t, _ in longest)) / 3600:.1f} h; "
        f"most distinct headline subjects in one story {subjects[0]}; "
        f"articles in stories of more than 10 reports {in_big} ({in_big / len(got):.2%}); "
        f"stories with 2+ reports {sum(k for n, k in sizes.items() if n > 1):,}"
    )
    for t, title in sorted(biggest)[:12]:
        print(f"   {time.strftime('%m-%d %H:%M', time.localtime(t))} {title[:60]}")
    print(split_reprints(got))


def split_reprints(got: list) -> str:
    """A check no label is needed for (wave 9): two outlets' reports with the same headline
    (normalised, 8 characters or more) within 5 minutes are one story — how many such pairs
    the stored stories split."""
    by_title: dict[str, list[tuple[int, str, int]]] = defaultdict(list)
    for source, _u, cluster, published, title, _ in got:
        key = story._norm(title or "")
        if len(key) >= 8:
            by_title[key].append((published, source, cluster))
    pairs = split = 0
    for reports in by_title.values():
        reports.sort()
        for i, (t1, s1, c1) in enumerate(reports):
            for t2, s2, c2 in reports[i + 1 :]:
                if t2 - t1 > 300:
                    break
                if s1 != s2:
                    pairs += 1
                    split += c1 != c2
    return (
        f"identical headlines from two outlets within 5 minutes: {pairs:,} pairs, "
        f"{split} in different stories ({split / max(1, pairs):.2%})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", action="store_true")
    parser.add_argument("--corpus", action="store_true")
    parser.add_argument(
        "--tune-only", action="store_true", help="report the tuning half only (choosing)"
    )
    parser.add_argument(
        "--twin",
        type=float,
        help="story.TWIN for this run (a report this close to one of a story's reports "
        "joins it; docs/quality.md, wave 9; 0: off)",
    )
    parser.add_argument(
        "--same-headline",
        type=int,
        help="story.SAME_HEADLINE_WITHIN for this run, seconds (0: off)",
    )
    parser.add_argument(
        "--candidates",
        type=int,
        help="clusters.MAX_CANDIDATES for this run (candidates read per article; wave 15)",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        help="the pair judgement's threshold for this run (the model's own: unchanged)",
    )
    args = parser.parse_args()
    if args.tune_only:
        global SPLITS
        SPLITS = ("tune",)
    if args.twin is not None:
        story.TWIN = args.twin if args.twin > 0 else None
    if args.same_headline is not None:
        story.SAME_HEADLINE_WITHIN = args.same_headline if args.same_headline > 0 else None
    if args.candidates is not None:
        clusters.MAX_CANDIDATES = args.candidates
    print(
        f"story.TWIN = {story.TWIN}, SAME_HEADLINE_WITHIN = {story.SAME_HEADLINE_WITHIN},"
        f" MAX_CANDIDATES = {clusters.MAX_CANDIDATES}"
    )
    rows = labelled()
    arts = articles_named(rows)
    keyed = {
        r["n"]: (arts[(r["a"]["source"], r["a"]["id"])], arts[(r["b"]["source"], r["b"]["id"])])
        for r in rows
    }
    facts = {n: (story.facts(a), story.facts(b)) for n, (a, b) in keyed.items()}
    counts = Counter((r["split"], r["label"]) for r in rows)
    print(f"{len(rows)} labelled pairs: {dict(sorted(counts.items()))}")
    model = train(rows, facts) if args.train else story.model()
    if args.threshold is not None:
        model = dataclasses.replace(model, threshold=args.threshold)
        print(f"threshold {args.threshold} for this run (the model's: {story.model().threshold})")
    predicted = {n: model.same_story(*f) for n, f in facts.items()}
    report("pair judgement (the model on each labelled pair)", rows, predicted)
    if args.corpus:
        store_run(rows)


if __name__ == "__main__":
    main()
