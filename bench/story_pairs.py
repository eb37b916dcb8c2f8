"""Sample cross-source pairs of real flashes for labelling same story / different story (#10).

    .venv/bin/python bench/story_pairs.py --make bench/quality/story_pairs_unlabelled.jsonl

Reads every flash of shared/corpus/flash through finews' own adapters (the articles the
store would hold), leaves out 2026-06-01 … 06-11 (the days of the old 140-pair set), and
draws pairs in strata built to hold the hard cases of issue #10 as well as plain reprints
and plain different stories (see bench/quality/README.md for the strata and how the pairs
were labelled).  Sampling uses its own plain character-3-gram Jaccard on a lead, not the
judgement under test.  Seeded: the same corpus gives the same pairs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from finews.model import Article
from finews.process.text import body_text
from finews.sources import cls, eastmoney, ths

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpus" / "flash"
EXCLUDED_DAYS = {f"2026-06-{d:02d}" for d in range(1, 12)}
PAGE_BASE = "https://finance.eastmoney.com"


def normalise(source: str, raw: dict) -> Article:
    """A corpus record's upstream item → the article finews' adapter makes of it."""
    if source == "cls":
        return cls.normalise(raw)
    if source == "eastmoney":
        return eastmoney.normalise_fast(raw, PAGE_BASE)
    return ths.normalise(raw)


def corpus(folder: Path = SHARED, *, skip_days: set[str] | None = None) -> Iterator[Article]:
    """Every flash of the shared corpus as an article, oldest file first."""
    for path in sorted(folder.glob("*/*.jsonl.gz")):
        if skip_days and path.name.removesuffix(".jsonl.gz") in skip_days:
            continue
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                try:
                    yield normalise(record["source"], record["raw"])
                except (KeyError, ValueError, TypeError):
                    continue


def text_of(a: Article) -> str:
    return body_text(a.body_html) or a.digest


_NOISE = re.compile(r"[\s\W_]+")
_DATELINE = re.compile(r"^.{0,12}?\d{1,2}月\d{1,2}日(?:电|讯|消息)?[，,]?")


def sampling_lead(a: Article) -> str:
    """Title, then the text without a repeated 【title】 and dateline, punctuation gone."""
    text = text_of(a)
    text = re.sub(r"^【[^】]*】", "", text)
    text = _DATELINE.sub("", text)
    title = a.title if a.title and not text.startswith(a.title[:10]) else ""
    return _NOISE.sub("", title + text)[:160]


@dataclass
class Item:
    a: Article
    t: int
    lead: str
    grams: frozenset[str]
    codes: frozenset[str]


def items(articles: list[Article]) -> list[Item]:
    out = []
    for a in articles:
        lead = sampling_lead(a)
        if len(lead) < 8:
            continue
        grams = frozenset(lead[i : i + 3] for i in range(len(lead) - 2))
        codes = frozenset(s.code for s in a.stocks)
        out.append(Item(a, int(a.published.timestamp()), lead, grams, codes))
    out.sort(key=lambda it: it.t)
    return out


def candidate_pairs(its: list[Item], window: int, *, same_source: bool) -> dict:
    """(i, j) → (jaccard, containment) for pairs sharing 3-grams within the window."""
    postings: dict[str, list[int]] = defaultdict(list)
    for i, it in enumerate(its):
        for g in it.grams:
            postings[g].append(i)
    pairs: dict[tuple[int, int], tuple[float, float]] = {}
    for i, it in enumerate(its):
        shared: Counter[int] = Counter()
        for g in it.grams:
            post = postings[g]
            if len(post) > 400:
                continue
            for j in post:
                if j <= i:
                    continue
                other = its[j]
                if other.t - it.t > window:
                    continue
                if (other.a.source == it.a.source) != same_source:
                    continue
                shared[j] += 1
        for j, n in shared.items():
            if n < 3:
                continue
            other = its[j]
            jac = n / (len(it.grams) + len(other.grams) - n)
            cont = n / min(len(it.grams), len(other.grams))
            pairs[(i, j)] = (jac, cont)
    return pairs


def head_subject(title: str) -> str:
    """What a templated headline is about: the part before its first '：'."""
    for sep in ("：", ":"):
        if sep in title:
            return title.split(sep, 1)[0].strip()
    return ""


def render(it: Item) -> dict:
    return {
        "source": it.a.source,
        "id": it.a.upstream_id,
        "time": it.a.published_beijing.isoformat(),
        "title": it.a.title,
        "text": text_of(it.a)[:500],
        "stocks": [f"{s.code} {s.name}".strip() for s in it.a.stocks],
    }


def make(out: Path, seed: int) -> None:
    rng = random.Random(seed)
    its = items(list(corpus(skip_days=EXCLUDED_DAYS)))
    print(f"{len(its)} flashes")
    cross = candidate_pairs(its, 48 * 3600, same_source=False)
    same = candidate_pairs(its, 12 * 3600, same_source=True)
    print(f"{len(cross)} cross-source candidate pairs, {len(same)} same-source")
    HOUR = 3600

    def dt(p: tuple[int, int]) -> int:
        return abs(its[p[1]].t - its[p[0]].t)

    strata: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for p, (jac, cont) in cross.items():
        a, b = its[p[0]], its[p[1]]
        short = min(len(a.lead), len(b.lead))
        long_ = max(len(a.lead), len(b.lead))
        sa, sb = head_subject(a.a.title), head_subject(b.a.title)
        if dt(p) > 6 * HOUR:
            if jac >= 0.15:
                strata["E_late"].append(p)
            continue
        if sa and sb and sa != sb and jac >= 0.25:
            strata["G_template"].append(p)
        elif jac >= 0.5:
            strata["A_high"].append(p)
        elif jac >= 0.3:
            strata["B_mid"].append(p)
        elif jac >= 0.15:
            strata["C_low"].append(p)
        elif cont >= 0.3 and long_ >= 1.8 * short:
            strata["D_short_long"].append(p)
        elif a.codes & b.codes and dt(p) <= 24 * HOUR:
            strata["F_same_stock"].append(p)
    for p, (jac, _cont) in same.items():
        if jac >= 0.2 and its[p[0]].a.upstream_id != its[p[1]].a.upstream_id:
            strata["H_same_source"].append(p)
    sizes = {
        "A_high": 200,
        "B_mid": 300,
        "C_low": 330,
        "D_short_long": 200,
        "E_late": 200,
        "F_same_stock": 170,
        "G_template": 250,
        "H_same_source": 150,
    }
    chosen: list[tuple[str, tuple[int, int]]] = []
    used: set[tuple[int, int]] = set()
    for name, want in sizes.items():
        pool = sorted(strata[name])
        rng.shuffle(pool)
        print(f"{name}: {len(pool)} candidates, {min(want, len(pool))} drawn")
        for p in pool[:want]:
            if p not in used:
                used.add(p)
                chosen.append((name, p))
    rng.shuffle(chosen)
    with out.open("w", encoding="utf-8") as handle:
        for n, (name, (i, j)) in enumerate(chosen):
            row = {"n": n, "stratum": name, "a": render(its[i]), "b": render(its[j])}
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(chosen)} pairs → {out}")


def merge(unlabelled: Path, labels: list[Path], out: Path, seed: int) -> None:
    """The pairs with their labels; a pair two labellers disagree on is UNSURE; the split
    into tuning and test halves drawn once here (per stratum, seeded)."""
    given: dict[int, list[dict]] = defaultdict(list)
    for path in labels:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                given[int(row["n"])].append(row)
    rows = [json.loads(line) for line in unlabelled.read_text(encoding="utf-8").splitlines()]
    rng = random.Random(seed)
    by_stratum: dict[str, list[dict]] = defaultdict(list)
    double = agree = 0
    for row in rows:
        votes = given.get(row["n"], [])
        names = {v["label"] for v in votes}
        if len(votes) > 1:
            double += 1
            agree += len(names) == 1
        row["label"] = votes[0]["label"] if len(names) == 1 else ("UNSURE" if votes else "")
        row["why"] = " / ".join(v.get("why", "") for v in votes if v.get("why"))
        row["labellers"] = len(votes)
        by_stratum[row["stratum"]].append(row)
    for group in by_stratum.values():
        rng.shuffle(group)
        for i, row in enumerate(group):
            row["split"] = "tune" if i % 2 == 0 else "test"
    with out.open("w", encoding="utf-8") as handle:
        for row in sorted(rows, key=lambda r: r["n"]):
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    labels_seen = Counter(r["label"] for r in rows)
    print(f"{len(rows)} pairs → {out}: {dict(labels_seen)}; {double} labelled twice, {agree} agree")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--make", type=Path, help="sample the pairs into this file")
    parser.add_argument("--merge", nargs="+", type=Path, help="label files to merge")
    parser.add_argument("--pairs", type=Path, help="the sampled pairs (with --merge)")
    parser.add_argument("--out", type=Path, help="the labelled set (with --merge)")
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args()
    if args.make:
        make(args.make, args.seed)
    elif args.merge and args.pairs and args.out:
        merge(args.pairs, args.merge, args.out, args.seed)
    else:
        parser.error("--make FILE, or --merge LABELS... --pairs FILE --out FILE")


if __name__ == "__main__":
    main()
