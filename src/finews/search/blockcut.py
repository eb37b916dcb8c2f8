"""The index's cut, fast: jieba's ``cut_for_search(text, HMM=False)`` word for word.

Segmenting the search document was half of what storing an article cost (#10's speed,
docs/benchmarks.md).  Two things make it cheaper without changing a single word:

- **blocks remembered.**  jieba cuts a text block by block (runs of ideographs, Latin
  letters, digits and ``+#&._%-``), each on its own; a flash repeats its headline in its
  text, and datelines, names and phrases recur from one flash to the next, so of the
  characters of 5,000 real flashes' title, text and tags only 40 % are in a block not seen
  before.  The words of the most recent blocks are kept (:data:`REMEMBERED`).
- **the cut written out** (jieba 0.42's ``get_DAG``, ``calc``, ``__cut_DAG_NO_HMM`` and the
  search-mode expansion, MIT licence, as :mod:`finews.search.quickseg` writes out the
  precise cut): one pass from the block's end, each candidate word's weight
  ``log(freq or 1) - log(total)`` computed once per process instead of on every use.
  The same floating-point operations in the same order, and the same choice between equal
  routes (the longer word), so the same words; a test compares the two on every text of
  the test corpus.

The parts between blocks (punctuation, spaces) are passed as jieba passes them: one
character at a time, whitespace as it is; :func:`finews.search.segment.index_text` keeps
the words that have a letter, a digit or an ideograph, as before.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from functools import lru_cache

from finews.search.quickseg import RE_ENG, RE_HAN, blocks

_WORD_CHAR = re.compile(r"\w")

REMEMBERED = 32_768
"""Blocks whose indexed words are kept (a few MB): the last days' recurring phrases."""


Lookup = Callable[[str], "int | None"]
"""A word's frequency in the dictionary: 0 for a prefix of a word, None when unknown."""


class SearchCut:
    """jieba's search-mode cut over one dictionary: a tokenizer's own (``FREQ.get`` and
    ``total``, built with its words) or the same dictionary read from the quick file
    (:class:`finews.search.quickseg.QuickDictionary`) without loading jieba."""

    def __init__(self, lookup: Lookup, total: int) -> None:
        self._lookup = lookup
        self._logtotal = math.log(total)
        self._weights: dict[str, float] = {}
        self.indexed_block = lru_cache(maxsize=REMEMBERED)(self._indexed_block)

    def cut(self, text: str) -> Iterator[str]:
        """``tokenizer.cut_for_search(text, HMM=False)``."""
        return blocks(text, self.block)

    def indexed(self, text: str) -> str:
        """The words of :meth:`cut` that have a letter, a digit or an ideograph (each
        stripped), separated by spaces: what the index stores.  Between blocks jieba gives
        single characters and whitespace, so there the kept words are the characters
        ``\\w`` matches; a block's words are remembered."""
        parts: list[str] = []
        for block in RE_HAN.split(text):
            if not block:
                continue
            if RE_HAN.match(block):
                words = self.indexed_block(block)
                if words:
                    parts.append(words)
            else:
                parts += _WORD_CHAR.findall(block)
        return " ".join(parts)

    def _indexed_block(self, block: str) -> str:
        kept = (w.strip() for w in self.block(block))
        return " ".join(w for w in kept if w and _WORD_CHAR.search(w))

    def _weight(self, word: str) -> float:
        w = self._weights.get(word)
        if w is None:
            w = math.log(self._lookup(word) or 1) - self._logtotal
            self._weights[word] = w
        return w

    def block(self, block: str) -> tuple[str, ...]:
        """A block's search-mode words, as jieba gives them."""
        freq = self._lookup
        weights = self._weights
        weight = self._weight
        n = len(block)
        best_at: list[float] = [0.0] * (n + 1)
        end_at: list[int] = [0] * (n + 1)
        for k in range(n - 1, -1, -1):
            # jieba: DAG[k] = the ends i of dictionary words block[k:i+1] (frequency > 0;
            # a prefix has 0), else [k]; route[k] = max((weight + route[i+1], i)), so
            # among equal weights the last (longest) end wins
            best = 0.0
            end = -1
            i = k
            frag = block[k]
            while i < n:
                f = freq(frag)
                if f is None:
                    break
                if f:
                    w = weights.get(frag)
                    p = (weight(frag) if w is None else w) + best_at[i + 1]
                    if end < 0 or p >= best:
                        best, end = p, i
                i += 1
                frag = block[k : i + 1]
            if end < 0:
                best, end = weight(block[k]) + best_at[k + 1], k
            best_at[k] = best
            end_at[k] = end
        out: list[str] = []
        x = 0
        buf = ""
        while x < n:
            y = end_at[x] + 1
            word = block[x:y]
            if len(word) == 1 and RE_ENG.match(word):
                buf += word
            else:
                if buf:
                    self._expand(buf, out)
                    buf = ""
                self._expand(word, out)
            x = y
        if buf:
            self._expand(buf, out)
        return tuple(out)

    def _expand(self, word: str, out: list[str]) -> None:
        """jieba's ``cut_for_search``: a long word's dictionary 2- and 3-grams, then it."""
        freq = self._lookup
        n = len(word)
        if n > 2:
            for i in range(n - 1):
                gram = word[i : i + 2]
                if freq(gram):
                    out.append(gram)
        if n > 3:
            for i in range(n - 2):
                gram = word[i : i + 3]
                if freq(gram):
                    out.append(gram)
        out.append(word)
