"""Quality of stock tagging and reprint clustering, and their throughput.

Run: .venv/bin/python bench/quality.py            (reads shared/corpus/flash, tests/data)
     .venv/bin/python bench/quality.py --sample   (prints a fresh sample of text-found tags)

1. Stock tagging recall against the upstreams' own tags: each flash's structured stocks
   (财联社 stock_list, Eastmoney stockList, 同花顺 stock) and the real posts' inline Eastmoney
   markers are removed, the text alone is tagged, and recall is counted over the A-share tags
   whose name or code appears in the text.
2. Precision of text-found tags on a hand-checked sample (bench/quality/tag_precision.jsonl).
3. Clustering precision and recall on the hand-labelled pairs (bench/quality/cluster_pairs.jsonl).
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

from finews.process import dedup
from finews.process.clean import clean_body
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
    from finews.formats.jekyll import parse_post

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
    by_key = {(r["source"], str(r["id"])): r for r in recs}
    names = {"cls.telegraph": "cls", "eastmoney.fast": "eastmoney", "ths.flash": "ths"}
    tp = fp = fn = tn = 0
    for line in (HERE / "cluster_pairs.jsonl").read_text(encoding="utf-8").splitlines():
        pair = json.loads(line)
        a = _flash(by_key[(names[pair["a"]["source"]], pair["a"]["id"])])
        b = _flash(by_key[(names[pair["b"]["source"]], pair["b"]["id"])])
        sa, sb = dedup.signature(a), dedup.signature(b)
        predicted = bool(
            sa and sb and set(sa.bands) & set(sb.bands) and sa.similarity(sb) >= dedup.THRESHOLD
        )
        if pair["same_story"]:
            tp += predicted
            fn += not predicted
        else:
            fp += predicted
            tn += not predicted
    print(
        f"clustering on {tp + fp + fn + tn} labelled pairs: precision {tp / max(1, tp + fp):.3f}, "
        f"recall {tp / max(1, tp + fn):.3f} (tp {tp}, fp {fp}, fn {fn}, tn {tn})"
    )


def throughput(tagger: StockTagger, recs: list[dict]) -> None:
    articles = sorted((_flash(r) for r in recs[:5000]), key=lambda a: a.published)
    started = time.process_time()
    buckets: dict[int, list[tuple[int, dedup.Signature, int, int]]] = {}
    clusters = 0
    for n, a in enumerate(articles):
        clean_body(a.body_html, a.url)
        sig = dedup.signature(tagger.tag(a))
        if sig is None:
            continue
        at = int(a.published.timestamp())
        best = None
        for key in sig.bands:  # the same LSH as the store's, in memory
            for _other, other_sig, other_at, cluster in buckets.get(key, ()):
                if (
                    abs(other_at - at) <= dedup.WINDOW
                    and sig.similarity(other_sig) >= dedup.THRESHOLD
                ):
                    best = cluster
                    break
            if best is not None:
                break
        cluster = best if best is not None else n
        clusters += best is None
        for key in sig.bands:
            buckets.setdefault(key, []).append((n, sig, at, cluster))
    cpu = time.process_time() - started
    print(
        f"clean + tag + cluster (in-memory LSH), one core: {len(articles) / cpu:,.0f} articles/s "
        f"(CPU time; {clusters} clusters)"
    )
    with tempfile.TemporaryDirectory() as tmp, Store.open(f"sqlite:///{tmp}/q.db") as store:
        ordered = sorted(articles, key=lambda a: a.published)
        started = time.process_time()
        for i in range(0, len(ordered), 500):
            store.save(tagger.tag(a) for a in ordered[i : i + 500])
        cpu = time.process_time() - started
        clusters = (
            store.engine.connect()
            .exec_driver_sql("SELECT COUNT(DISTINCT cluster_id), COUNT(*) FROM articles")
            .one()
        )
    print(
        f"tag + store with clustering, one core: {len(articles) / cpu:,.0f} articles/s "
        f"(CPU time; {clusters[1]} articles in {clusters[0]} clusters)"
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
