"""Quality of stock tagging and reprint clustering, and their throughput.

Run: .venv/bin/python bench/quality.py            (reads shared/corpus/flash, tests/data)
     .venv/bin/python bench/quality.py --sample   (prints a fresh sample of text-found tags)

1. Stock tagging recall against the upstreams' own tags: each flash's structured stocks
   (财联社 stock_list, Eastmoney stockList, 同花顺 stock) and the real posts' inline Eastmoney
   markers are removed, the text alone is tagged, and recall is counted over the A-share tags
   whose name or code appears in the text.
2. Precision of text-found tags on a hand-checked sample (bench/quality/tag_precision.jsonl).
3. The same-story judgement on the 140 pairs labelled for #5 (bench/quality/cluster_pairs.jsonl);
   the story pairs of #10 are measured by bench/story_quality.py.
4. Throughput of clean + tag + sign on one core, and of the store path with clustering.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from corpus import SHARED, _flash, upstream_codes
from story_pairs import normalise

from finews.process import dedup, story
from finews.process.clean import clean_body
from finews.process.pipeline import Processor
from finews.process.stocks import StockTagger, load_directory, marker_codes
from finews.store import Store

HERE = Path(__file__).resolve().parent / "quality"


def records() -> list[dict]:
    out = []
    for path in sorted(SHARED.glob("*/*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            out.extend(json.loads(line) for line in handle)
    return out


def tagging_recall(tagger: StockTagger, recs: list[dict]) -> None:
    directory = tagger.directory
    expected = found = 0
    missed: list[str] = []
    for rec in recs:
        truth = upstream_codes(rec)
        if not truth:
            continue
        article = replace(_flash(rec), stocks=())
        text = f"{article.title}\n{article.body_html}"
        wanted = set()
        for code, name in truth:
            names = {name, directory.display.get(code, "")} - {""}
            if code.split(".")[0] in text or any(n in text for n in names):
                wanted.add(code)
        if not wanted:
            continue
        got = {s.code for s in tagger.tag(article).stocks}
        expected += len(wanted)
        found += len(wanted & got)
        missed.extend(f"{c} {directory.display.get(c, '')}" for c in wanted - got)
    print(f"tag recall, flashes: {found}/{expected} = {found / expected:.3f}")
    common = {}
    for m in missed:
        common[m] = common.get(m, 0) + 1
    print("  most missed:", sorted(common.items(), key=lambda kv: -kv[1])[:12])


def marker_recall(tagger: StockTagger) -> None:
    from finews.jekyll.read import parse_post

    expected = found = 0
    real = Path(__file__).resolve().parents[1] / "tests" / "data" / "jekyll"
    for path in sorted(real.rglob("*")):
        if not path.is_file() or "bad-" in path.name:
            continue
        try:
            post = parse_post(path.read_text(encoding="utf-8"), str(path))
        except Exception:
            continue
        truth = {c for c in marker_codes(post.body_html) if not c.endswith(".US")}
        if not truth:
            continue
        text_only = re.sub(
            r"<[^>]+>", "", re.sub(r"<!--.*?-->.*?<!--.*?-->", "", post.body_html, flags=re.S)
        )
        article = replace(post, body_html=text_only, stocks=())
        plain = f"{post.title}{text_only}"
        wanted = {
            c for c in truth if tagger.directory.display.get(c, "@") in plain or c[:6] in plain
        }
        got = {s.code for s in tagger.tag(article).stocks}
        expected += len(wanted)
        found += len(wanted & got)
    if expected:
        print(
            f"tag recall, real posts' inline markers: {found}/{expected} = {found / expected:.3f}"
        )


def text_found_sample(tagger: StockTagger, recs: list[dict], n: int, seed: int) -> list[dict]:
    random.seed(seed)
    pool = []
    for rec in random.sample(recs, 4000):
        article = replace(_flash(rec), stocks=())
        for tag in tagger.tag(article).stocks:
            if tag.origin in {"name", "code"}:
                text = f"{article.title}｜{article.digest}"
                pos = text.find(tag.name) if tag.name else -1
                context = text[max(0, pos - 25) : pos + 35] if pos >= 0 else text[:60]
                pool.append(
                    {
                        "id": f"{rec['source']}/{rec['id']}",
                        "code": tag.code,
                        "name": tag.name,
                        "origin": tag.origin,
                        "context": context,
                    }
                )
    random.shuffle(pool)
    return pool[:n]


def precision() -> None:
    path = HERE / "tag_precision.jsonl"
    if not path.exists():
        print("tag precision: no hand-checked sample yet (run with --sample)")
        return
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    right = sum(1 for r in rows if r["correct"])
    print(f"tag precision, hand-checked sample: {right}/{len(rows)} = {right / len(rows):.3f}")


def clustering(recs: list[dict]) -> None:
    """The same-story judgement (#10) on the 140 pairs labelled for #5 (2026-06-01 … 06-11):
    days the story pairs of bench/quality/story_pairs.jsonl leave out, so a third check on
    pairs the model never saw."""
    by_key = {(r["source"], str(r["id"])): r for r in recs}
    names = {"cls.telegraph": "cls", "eastmoney.fast": "eastmoney", "ths.flash": "ths"}
    process = Processor.default()
    model = story.model()
    tp = fp = fn = tn = 0
    for line in (HERE / "cluster_pairs.jsonl").read_text(encoding="utf-8").splitlines():
        pair = json.loads(line)
        ra = by_key[(names[pair["a"]["source"]], pair["a"]["id"])]
        rb = by_key[(names[pair["b"]["source"]], pair["b"]["id"])]
        a = process(normalise(ra["source"], ra["raw"]))
        b = process(normalise(rb["source"], rb["raw"]))
        predicted = model.same_story(story.facts(a), story.facts(b))
        if pair["same_story"]:
            tp += predicted
            fn += not predicted
        else:
            fp += predicted
            tn += not predicted
    print(
        f"same-story judgement on the {tp + fp + fn + tn} pairs of #5: "
        f"precision {tp / max(1, tp + fp):.3f}, "
        f"recall {tp / max(1, tp + fn):.3f} (tp {tp}, fp {fp}, fn {fn}, tn {tn})"
    )


def throughput(tagger: StockTagger, recs: list[dict]) -> None:
    articles = sorted(
        (normalise(r["source"], r["raw"]) for r in recs[:5000]), key=lambda a: a.published
    )
    started = time.process_time()
    for a in articles:  # what a write derives before the store's lock
        clean_body(a.body_html, a.url)
        dedup.signature(tagger.tag(a))
    cpu = time.process_time() - started
    print(f"clean + tag + sign + facts, one core: {len(articles) / cpu:,.0f} articles/s (CPU)")
    with tempfile.TemporaryDirectory(dir=HERE) as tmp, Store.open(f"sqlite:///{tmp}/q.db") as st:
        started = time.process_time()
        wall = time.perf_counter()
        for i in range(0, len(articles), 500):
            st.save(tagger.tag(a) for a in articles[i : i + 500])
        cpu = time.process_time() - started
        wall = time.perf_counter() - wall
        clusters = (
            st.engine.connect()
            .exec_driver_sql("SELECT COUNT(DISTINCT cluster_id), COUNT(*) FROM articles")
            .one()
        )
    print(
        f"tag + store with stories (real SQLite file on disk), one core: "
        f"{len(articles) / cpu:,.0f} articles/s CPU, {len(articles) / wall:,.0f}/s wall "
        f"({clusters[1]} articles in {clusters[0]} stories)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=int, default=0, help="print N text-found tags to check")
    args = parser.parse_args()
    tagger = StockTagger(load_directory())
    recs = records()
    if args.sample:
        for row in text_found_sample(tagger, recs, args.sample, seed=5):
            print(json.dumps(row, ensure_ascii=False))
        return
    tagging_recall(tagger, recs)
    marker_recall(tagger)
    precision()
    clustering(recs)
    throughput(tagger, recs)


if __name__ == "__main__":
    main()
