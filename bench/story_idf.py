"""Stories (#10): build the table of common character pairs the judgement weighs words by.

    .venv/bin/python bench/story_idf.py     # writes src/finews/data/story_bigrams.tsv

Two reports that share rare words (a company's name, 乙支自由之盾, HBM4E) are more likely one
story than two that share as many common ones (公司, 同比, 财联社); plain n-gram overlap counts
both alike.  This counts, over every flash of shared/corpus/flash (through finews' own
adapters and the judgement's own text: :func:`finews.process.story.facts`), in how many
flashes each character pair occurs, and keeps the pairs found in at least ``FLOOR`` of
them: the judgement reads a pair's inverse document frequency from it, and gives a pair
missing from the table the weight of one just below the floor (a rare pair).  No labels
are read: only the texts, so the table carries no knowledge of the labelled pairs' verdicts.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from story_pairs import corpus

from finews.process import story

OUT = Path(__file__).resolve().parents[1] / "src" / "finews" / "data" / "story_bigrams.tsv"
FLOOR = 20
"""Flashes a character pair must occur in to be listed (51k pairs of 82k flashes; the
rarer ones all weigh alike, which cost nothing on the tuning half's cross-validation)."""


def main() -> None:
    df: Counter[str] = Counter()
    flashes = 0
    for article in corpus():
        df.update(story._grams(story.facts(article).text, 2))
        flashes += 1
    kept = sorted((g, n) for g, n in df.items() if n >= FLOOR and "\t" not in g and "\n" not in g)
    lines = [f"#flashes\t{flashes}", f"#floor\t{FLOOR}", *(f"{g}\t{n}" for g, n in kept)]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{flashes:,} flashes, {len(df):,} character pairs, {len(kept):,} kept → {OUT}")


if __name__ == "__main__":
    main()
