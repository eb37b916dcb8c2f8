"""Stories (#10, wave 5): do synonyms or corpus word vectors lift same-story recall?

    .venv/bin/python bench/story_cv.py [--seeds 3] [--cache PICKLE]

Cross-validation on the **tuning half only** of bench/quality/story_pairs.jsonl: the test
half's rows are dropped before any label is read.  For each candidate feature set, a
logistic regression like the shipped one (standardised features, C = 1; a pair the
judgement's plausibility gate skips scores 0) is fitted in 5 folds stratified by stratum ×
label, 3 seeds, and the out-of-fold probabilities give the recall at precision ≥ 0.97 and
≥ 0.98 (the best threshold for each) and the average precision.  Candidates:

- **base**: the shipped 15 features (:data:`finews.process.story.FEATURES`);
- **+syn**: the same 15 computed after writing every name of a synonym group one way
  (沪指 / 上证综指 → 上证指数, 以军 → 以色列国防军 …: the search's search_synonyms.txt and
  search_aliases.txt, plus bench/story_synonyms.txt, which wins for its words);
- **+syn concepts**: base plus the Jaccard of the groups each text names, and the rare
  pairs shared after canonicalisation;
- **+vec ...**: base plus features from word2vec vectors trained on the corpus
  (bench/story_vectors.py; built into bench/_work/ on the first run, about 2.5 minutes
  each, 64 dimensions with a window of 5 and 100 with a window of 2): the cosine of the
  IDF-weighted mean vectors of the two texts
  (first 300 characters, as the judgement reads them, or the whole text), and a soft
  containment — the IDF-weighted share of the shorter text's words that have a word of
  cosine ≥ 0.6 in the longer one;
- **both**: +syn and the vector features together.
"""

from __future__ import annotations

import argparse
import json
import pickle
import re
import sys
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import story_vectors
from story_quality import PAIRS, articles_named

from finews.model import Article
from finews.process import story

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "src" / "finews" / "data"
TARGETS = (0.97, 0.98)
VECTORS = ((64, 5), (100, 2))
"""word2vec trainings compared (dimensions, window): the usual topical one, and a narrow
window that puts words used in the same slot (synonyms) closer."""


def tune_rows() -> list[dict]:
    """The tuning half's SAME / DIFFERENT pairs; the test half is dropped unread."""
    rows = []
    for line in PAIRS.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        if r["split"] != "tune":
            continue
        if r["label"] in {"SAME", "DIFFERENT"}:
            rows.append(r)
    return rows


# ---------------------------------------------------------------- synonyms


def synonym_groups() -> list[list[str]]:
    groups = []
    for name in (DATA / "search_synonyms.txt", DATA / "search_aliases.txt"):
        groups += _groups(name.read_text("utf-8"))
    # the story list last: its mapping wins for its words
    groups += _groups((HERE / "story_synonyms.txt").read_text("utf-8"))
    return groups


def _groups(text: str) -> list[list[str]]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names = [story._norm(n) for n in line.split("|")]
            out.append([n for n in names if n])
    return out


@lru_cache(maxsize=1)
def canon_table() -> tuple[re.Pattern[str], dict[str, str]]:
    to: dict[str, str] = {}
    for group in synonym_groups():
        for name in group:
            to[name.lower() if name.isascii() else name] = group[0]
    names = sorted(to, key=len, reverse=True)
    parts = []
    for n in names:
        if n.isascii():  # a Latin name only as a whole token (no letters around it)
            parts.append(r"(?<![A-Za-z])" + re.escape(n) + r"(?![A-Za-z])")
        else:
            parts.append(re.escape(n))
    return re.compile("|".join(parts), re.IGNORECASE), to


def canonical(text: str) -> str:
    pattern, to = canon_table()
    return pattern.sub(lambda m: to.get(m.group(0), to.get(m.group(0).lower(), m.group(0))), text)


def concepts(text: str) -> frozenset[str]:
    pattern, to = canon_table()
    return frozenset(
        to.get(m.group(0), to.get(m.group(0).lower(), "")) for m in pattern.finditer(text)
    )


def canon_facts(f: story.Facts) -> story.Facts:
    return story.Facts(
        published=f.published,
        source=f.source,
        title=canonical(f.title),
        lead=canonical(f.lead),
        text=canonical(f.text),
        subject=canonical(f.subject),
        codes=f.codes,
        headline_figures=f.headline_figures,
        figures=f.figures,
    )


# ---------------------------------------------------------------- vectors


class Vectors:
    def __init__(self, path: Path) -> None:
        z = np.load(path)
        words = bytes(z["words"]).decode("utf-8").split("\n")
        self.index = {w: i for i, w in enumerate(words)}
        self.vectors = z["vectors"].astype(np.float32)
        flashes = int(z["flashes"][0])
        self.idf = np.log((flashes + 1) / (z["df"].astype(np.float64) + 1))

    def bag(self, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Unique known words' rows and IDF weights."""
        ids = sorted({self.index[w] for w in words if w in self.index})
        if not ids:
            return np.zeros((0, self.vectors.shape[1]), np.float32), np.zeros(0)
        return self.vectors[ids], self.idf[ids]


@lru_cache(maxsize=1)
def _cutter() -> Callable[[str], list[str]]:
    from finews.search import segment

    tok = segment.tokenizer()
    return lambda s: [w for w in tok.cut(s, HMM=False) if any(c.isalnum() for c in w)]


def words_of(article: Article, limit: int) -> list[str]:
    title, text = story._headline_and_text(article)
    return _cutter()((title + "。" + text)[:limit])


def mean_cos(va: Vectors, a: list[str], b: list[str], min_idf: float) -> float:
    xa, wa = va.bag(a)
    xb, wb = va.bag(b)
    ka, kb = wa >= min_idf, wb >= min_idf
    xa, wa, xb, wb = xa[ka], wa[ka], xb[kb], wb[kb]
    if not len(wa) or not len(wb):
        return 0.0
    ma, mb = (wa[:, None] * xa).sum(0), (wb[:, None] * xb).sum(0)
    return float(ma @ mb / max(1e-9, np.linalg.norm(ma) * np.linalg.norm(mb)))


def _best_cosines(
    va: Vectors, a: list[str], b: list[str], min_idf: float
) -> tuple[np.ndarray, np.ndarray]:
    """For each word of the shorter bag (of words with IDF ≥ min_idf): its best cosine in
    the longer bag, and its IDF weight; both empty when either bag is."""
    xa, wa = va.bag(a)
    xb, wb = va.bag(b)
    ka, kb = wa >= min_idf, wb >= min_idf
    xa, wa, xb, wb = xa[ka], wa[ka], xb[kb], wb[kb]
    if not len(wa) or not len(wb):
        return np.zeros(0), np.zeros(0)
    if len(wa) > len(wb):
        xa, wa, xb, wb = xb, wb, xa, wa
    return (xa @ xb.T).max(axis=1), wa


def soft_containment(va: Vectors, a: list[str], b: list[str], cos: float, min_idf: float) -> float:
    """IDF-weighted share of the shorter bag's words with a word of cosine ≥ cos in the
    longer bag (an identical word counts: cosine 1)."""
    best, wa = _best_cosines(va, a, b, min_idf)
    if not len(wa):
        return 0.0
    return float((wa * (best >= cos)).sum() / wa.sum())


def soft_graded(va: Vectors, a: list[str], b: list[str], min_idf: float) -> float:
    """IDF-weighted mean of each shorter-bag word's best cosine in the longer bag."""
    best, wa = _best_cosines(va, a, b, min_idf)
    if not len(wa):
        return 0.0
    best = np.clip(best, 0, 1)
    return float((wa * best).sum() / wa.sum())


# ---------------------------------------------------------------- cross-validation


def recall_at(y: np.ndarray, p: np.ndarray, target: float) -> float:
    order = np.argsort(-p, kind="stable")
    ys, ps = y[order], p[order]
    tp = np.cumsum(ys)
    fp = np.cumsum(1 - ys)
    last = np.r_[ps[1:] != ps[:-1], True]  # a threshold between distinct scores only
    prec = tp / np.maximum(1, tp + fp)
    ok = last & (prec >= target) & (ps > 0)
    return float(tp[ok].max() / ys.sum()) if ok.any() else 0.0


def cross_validate(
    x: np.ndarray, y: np.ndarray, gate: np.ndarray, groups: list[str], seeds: int
) -> tuple[float, float, float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score
    from sklearn.model_selection import StratifiedKFold

    out = []
    for seed in range(seeds):
        oof = np.zeros(len(y))
        for train, test in StratifiedKFold(5, shuffle=True, random_state=seed).split(x, groups):
            mean, scale = x[train].mean(0), x[train].std(0)
            scale[scale == 0] = 1.0
            fit = LogisticRegression(C=1.0, max_iter=2000).fit((x[train] - mean) / scale, y[train])
            oof[test] = fit.predict_proba((x[test] - mean) / scale)[:, 1]
        oof[~gate] = 0.0
        out.append(
            (*(recall_at(y, oof, t) for t in TARGETS), float(average_precision_score(y, oof)))
        )
    return tuple(float(v) for v in np.mean(out, axis=0))  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, default=HERE / "_work", help="vectors are kept here")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--cache", type=Path, help="pickle of the pairs' articles (speed)")
    args = parser.parse_args()
    rows = tune_rows()
    if args.cache and args.cache.exists():
        arts = pickle.loads(args.cache.read_bytes())
    else:
        arts = articles_named(rows)
        if args.cache:
            args.cache.write_bytes(pickle.dumps(arts))
    pairs = [
        (arts[(r["a"]["source"], r["a"]["id"])], arts[(r["b"]["source"], r["b"]["id"])])
        for r in rows
    ]
    y = np.array([r["label"] == "SAME" for r in rows], dtype=int)
    groups = [f"{r['stratum']}|{r['label']}" for r in rows]
    facts = [(story.facts(a), story.facts(b)) for a, b in pairs]
    cfacts = [(canon_facts(a), canon_facts(b)) for a, b in facts]
    base = np.array([story.features(a, b) for a, b in facts])
    gate = np.array([story.plausible(a, b) for a, b in facts])
    syn = np.array([story.features(a, b) for a, b in cfacts])
    syn_gate = np.array([story.plausible(a, b) for a, b in cfacts])

    def concept_j(a: story.Facts, b: story.Facts) -> float:
        ca, cb = concepts(a.text), concepts(b.text)
        return len(ca & cb) / len(ca | cb) if ca | cb else 0.0

    syn_extra = np.array(
        [
            [concept_j(a, b), story.rare_shared(ca, cb)]
            for (a, b), (ca, cb) in zip(facts, cfacts, strict=True)
        ]
    )
    print(f"{len(rows)} tuning pairs ({int(y.sum())} same); test half not read")
    print(f"{'candidate':48} R@P.97  R@P.98  AP")

    def show(name: str, x: np.ndarray, g: np.ndarray = gate) -> float:
        r97, r98, ap = cross_validate(x, y, g, groups, args.seeds)
        print(f"{name:48} {r97:.3f}   {r98:.3f}   {ap:.3f}", flush=True)
        return r97

    show("base (15 features)", base)
    show("+syn (15 on canonical text)", syn, syn_gate)
    show("+syn concepts (base + 2)", np.hstack([base, syn_extra]))
    show("+syn concept Jaccard (base + 1)", np.hstack([base, syn_extra[:, :1]]))
    best: tuple[float, str, np.ndarray] | None = None
    w300 = [(words_of(a, story.TEXT + 40), words_of(b, story.TEXT + 40)) for a, b in pairs]
    wall = [(words_of(a, 3000), words_of(b, 3000)) for a, b in pairs]
    for dim, window in VECTORS:
        path = args.work / f"story_vectors_{dim}d_w{window}.npz"
        if not path.exists():
            story_vectors.build(path, dim, window, min_count=5)
        vec = Vectors(path)
        cand: dict[str, np.ndarray] = {}
        for idf in (0.0, 3.0):
            for span, bags in (("300", w300), ("all", wall)):
                cand[f"cos{span} idf≥{idf:g}"] = np.array(
                    [[mean_cos(vec, a, b, idf)] for a, b in bags]
                )
                cand[f"graded{span} idf≥{idf:g}"] = np.array(
                    [[soft_graded(vec, a, b, idf)] for a, b in bags]
                )
                for c in (0.6, 0.75):
                    cand[f"soft{span} cos≥{c} idf≥{idf:g}"] = np.array(
                        [[soft_containment(vec, a, b, c, idf)] for a, b in bags]
                    )
        for name, col in cand.items():
            r97 = show(f"+vec {dim}d w{window} {name}", np.hstack([base, col]))
            if best is None or r97 > best[0]:
                best = (r97, f"{dim}d w{window} {name}", col)
    assert best is not None
    _, name, col = best
    show(f"both: +syn, +vec {name}", np.hstack([syn, col]), syn_gate)
    show(f"both: +syn concepts, +vec {name}", np.hstack([base, syn_extra, col]))


if __name__ == "__main__":
    main()
