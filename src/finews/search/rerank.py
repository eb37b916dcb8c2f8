"""The second pass of the ranking: what the headline says before how often the text does.

BM25 (SQLite's ``bm25()``, PostgreSQL's ``ts_rank``) adds up every match of every word,
and a word's aliases and synonyms are alternatives of one expression: a digest or a
calendar that names 欧佩克 and 石油输出国组织 ten times outranks the flash whose headline
says 欧佩克+ raises output once.  A reader means the article *about* the query — the one
whose headline (or lead) says it.  So the store ranks its best candidates again
(:data:`finews.store.fulltext.RERANK_TOP`, a few dozen: never every match) by

    score = coverage + BLEND · s / (s + s_median)

- **coverage** — the share of the query's concepts (its required terms; a light verb such
  as 发布 is not one), each weighing what it says (an IDF from the segmentation
  dictionary's word frequencies, :func:`finews.search.segment.word_weight`: CPI more than
  数据), that the headline names, a concept counting :data:`LEAD_WEIGHT` when
  only the lead (the first sentence of the text) names it.  A concept is found by any of
  its alternatives, so an article naming two aliases of a company counts it once; a
  compound word (关税政策) not found whole counts the share of its parts that are.
- **s / (s + s_median)** — the first pass's score (BM25 or ts_rank blended with recency,
  made positive), saturated against the median of the candidates: it orders articles of
  equal coverage as before, and ten more mentions in a long digest can no longer beat a
  headline.

Pure: text in, order out (issue #16, the docs' #11; docs/design.md).
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from finews.search import segment
from finews.search.query import LIGHT_WORDS, Query, Term

LEAD_WEIGHT = 0.8
"""A concept the lead names but the headline does not counts this much (chosen on the
tune half of bench/search_judged)."""
BLEND = 2.0
"""The weight of the saturated first-pass score beside the coverage (tune half)."""
LEAD_CHARS = 160
"""How much of the text the lead may be: its first sentence, at most this long."""

_SENTENCE_END = re.compile(r"[。！？!?\n]")
_BRACKETED_TITLE = re.compile(r"^\s*【[^】]*】")


@dataclass(frozen=True)
class Candidate:
    """One first-pass match: its id, first-pass score (lower is better, BM25's sign),
    headline and the start of its text."""

    id: int
    score: float
    title: str
    text: str


def _fold(text: str) -> str:
    if not unicodedata.is_normalized("NFKC", text):  # full-width ＣＰＩ (rare: cheap check)
        text = unicodedata.normalize("NFKC", text)
    return text.casefold()


def lead_of(text: str) -> str:
    """The first sentence of an article's text (a flash's 【headline】 prefix removed: the
    headline is counted as such), at most :data:`LEAD_CHARS` characters."""
    body = _BRACKETED_TITLE.sub("", text, count=1).lstrip()
    return _SENTENCE_END.split(body, maxsplit=1)[0][:LEAD_CHARS]


class _Needle:
    """Alternatives of a term as they are looked for in text: a CJK string without the
    spaces the segmenter put in it, an ASCII word as a whole word (one pattern for all)."""

    def __init__(self, texts: tuple[str, ...], prefix: bool) -> None:
        ascii_words: list[str] = []
        plain: list[str] = []
        for text in texts:
            folded = _fold(text)
            if folded.isascii():
                ascii_words.append(r"\s+".join(re.escape(w) for w in folded.split()))
            elif folded.strip():
                plain.append("".join(folded.split()))
        end = "" if prefix else r"(?![a-z0-9])"
        self._pattern = (
            re.compile(rf"(?<![a-z0-9])(?:{'|'.join(ascii_words)}){end}") if ascii_words else None
        )
        self._plain = tuple(plain)

    def __call__(self, text: str, squeezed: str) -> bool:
        if any(p in squeezed for p in self._plain):
            return True
        return self._pattern is not None and self._pattern.search(text) is not None


class _Concept:
    def __init__(self, term: Term) -> None:
        self.whole = _Needle(term.alternatives, term.prefix)
        self.weight = segment.word_weight(term.alternatives[0]) if term.alternatives else 0.0
        self.parts = [(_Needle((p,), False), segment.word_weight(p)) for p in term.parts]
        self._parts_weight = sum(w for _, w in self.parts)

    def found(self, text: str, squeezed: str) -> float:
        """1 when an alternative is in the text, else the share of the parts that are,
        each part weighing what it says (关税 more than 政策)."""
        if self.whole(text, squeezed):
            return 1.0
        if self.parts and self._parts_weight > 0:
            found = sum(w for n, w in self.parts if n(text, squeezed))
            return found / self._parts_weight
        return 0.0


def concepts(query: Query) -> list[Term]:
    """What the query asks about: its required terms but the light verbs (发布, 公布)
    that only say something happened — all of them if the query is nothing else."""
    content = [t for t in query.required if t.strict or t.alternatives[0] not in LIGHT_WORDS]
    return content or list(query.required)


class Coverage:
    """The share of a query's concepts an article's headline and lead name."""

    def __init__(self, query: Query) -> None:
        self._concepts = [_Concept(t) for t in concepts(query)]
        self._total = sum(c.weight for c in self._concepts)

    def __call__(self, title: str, text: str) -> float:
        if not self._concepts or self._total <= 0:
            return 0.0
        head = _fold(title)
        head_squeezed = "".join(head.split())
        lead: tuple[str, str] | None = None  # read only when the headline lacks a concept
        total = 0.0
        for concept in self._concepts:
            in_head = concept.found(head, head_squeezed)
            in_lead = 0.0
            if in_head < 1:
                if lead is None:
                    folded = _fold(lead_of(text))
                    lead = (folded, "".join(folded.split()))
                in_lead = concept.found(*lead)
            total += concept.weight * max(in_head, LEAD_WEIGHT * in_lead)
        return total / self._total


def rerank(query: Query, candidates: Sequence[Candidate]) -> list[tuple[int, float]]:
    """The candidates best first as (id, score), the score lower-is-better like the first
    pass's (its negated :mod:`module <finews.search.rerank>` formula)."""
    if not candidates:
        return []
    coverage = Coverage(query)
    strengths = [max(0.0, -c.score) for c in candidates]
    middle = statistics.median(strengths) or 1.0
    scored = [
        (-(coverage(c.title, c.text) + BLEND * s / (s + middle)), position, c.id)
        for position, (c, s) in enumerate(zip(candidates, strengths, strict=True))
    ]
    scored.sort()
    return [(article_id, score) for score, _, article_id in scored]
