"""Stories (#10): word vectors trained on the corpus itself, for the same-story experiment.

    .venv/bin/python bench/story_vectors.py [--out PATH] [--dim 64] [--window 5] [--min-count 5]

Cuts every flash of shared/corpus/flash (headline and text, as the judgement reads them:
:func:`finews.process.story._headline_and_text`) into words with the search's jieba
dictionary (jieba's own plus the alias names, no HMM), trains word2vec (gensim, CBOW) on
them and writes the vectors with each word's document frequency, as a numpy ``.npz``:
``words`` (UTF-8, one word a line, as bytes), ``vectors`` (float16, one row a word, unit
length) and ``df`` (flashes the word occurs in), plus ``flashes``.  Only the texts are
read — no labels — so the vectors carry no knowledge of the labelled pairs' verdicts.
gensim is a benchmark dependency only (pyproject's ``bench`` extra).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from story_pairs import corpus

from finews.process import story
from finews.search import segment

OUT = Path(__file__).resolve().parent / "_work" / "story_vectors.npz"
"""Not shipped: wave 5's cross-validation found no gain in them (docs/quality.md)."""


def sentences() -> list[list[str]]:
    """Every flash's words, in corpus order (kept in memory: about 10 M words)."""
    cut = segment.tokenizer()
    out = []
    for article in corpus():
        title, text = story._headline_and_text(article)
        words = [w for w in cut.cut(title + "。" + text, HMM=False) if w.strip()]
        out.append([w for w in words if any(c.isalnum() for c in w)])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--keep", type=int, default=0, help="most frequent words kept (0: all)")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    build(args.out, args.dim, args.window, args.min_count, args.keep, args.workers)


def build(
    out: Path, dim: int, window: int, min_count: int, keep: int = 0, workers: int = 1
) -> None:
    """Cut the corpus, train word2vec, write the ``.npz`` (about 2.5 minutes on one core)."""
    from gensim.models import Word2Vec

    started = time.perf_counter()
    sents = sentences()
    print(f"{len(sents):,} flashes cut in {time.perf_counter() - started:.0f} s", flush=True)
    df: Counter[str] = Counter()
    for s in sents:
        df.update(set(s))
    started = time.perf_counter()
    w2v = Word2Vec(
        sents,
        vector_size=dim,
        window=window,
        min_count=min_count,
        workers=workers,
        epochs=8,
        seed=1,
    )
    print(f"trained in {time.perf_counter() - started:.0f} s", flush=True)
    words = list(w2v.wv.index_to_key)  # most frequent first
    if keep:
        words = words[:keep]
    vectors = np.array([w2v.wv[w] for w in words], dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        words=np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8),
        vectors=vectors.astype(np.float16),
        df=np.array([df[w] for w in words], dtype=np.int32),
        flashes=np.array([len(sents)], dtype=np.int32),
    )
    size = out.stat().st_size
    print(f"{len(words):,} words × {dim} → {out} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
