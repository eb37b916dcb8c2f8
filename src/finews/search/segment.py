"""Chinese word segmentation for the index and for queries, with jieba.

SQLite's tokenizers see a run of Chinese characters as one word; jieba cuts it into
words first and the index stores them separated by spaces (FTS5's ``unicode61``
then splits on the spaces and folds case).  Both sides use the same dictionary —
jieba's plus every name of the alias table (stock names, 英伟达, 央行 …) — and no HMM
guessing of unknown words, so that a query cuts the way the text was cut.

- the index uses jieba's *search mode*: a long word is also indexed by the shorter
  dictionary words inside it (西安银行 → 西安, 银行, 西安银行), so 银行 finds it;
- a query uses the precise mode: 西安银行 stays one word.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from finews.search import blockcut, quickseg
from finews.search.aliases import AliasTable, default_aliases

if TYPE_CHECKING:
    import jieba

# A token worth indexing has a letter, a digit or an ideograph.
_WORDLIKE = re.compile(r"\w")
# Weight of the added names: well above the product of the parts' probabilities, so that
# 西安银行 stays one word, without swallowing its neighbours.
_USER_WORD_FREQ = 2000

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def tokenizer() -> jieba.Tokenizer:
    """jieba with the alias names added; built on first use (about a second) and kept."""
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            # imported here: its tables cost every command that never segments (a build,
            # the web pages) a tenth of a second and memory
            import jieba

            jieba.setLogLevel(logging.WARNING)
            made = jieba.Tokenizer()
            made.initialize()
            for word in default_aliases().words():
                if len(word) >= 2 and not word.isascii():
                    made.add_word(word, _USER_WORD_FREQ)
            _tokenizer = made
        return _tokenizer


def _words(tokens: Iterator[str]) -> Iterator[str]:
    for token in tokens:
        token = token.strip()
        if token and _WORDLIKE.search(token):
            yield token


def index_text(text: str) -> str:
    """Text as the index stores it: search-mode words separated by spaces (jieba's
    ``cut_for_search(text, HMM=False)``, cut by :mod:`finews.search.blockcut`: the same
    words in a third of the time)."""
    if not text:
        return ""
    return _search_cut().indexed(text)


QUICK_LOOKUPS = 60_000
"""Words a process may read from the quick dictionary file for the index before it loads
jieba's whole dictionary instead.  Reading the file costs about 1.4 ms more an article
than the dictionary in memory, whose load costs about 1.5 s: a poll's few dozen flashes
(a ``finews fetch`` from cron) read a few thousand words and never load jieba; a process
that goes on indexing passes the mark after about a thousand articles — having spent on
the file about what the load costs, as a rent-or-buy rule does (docs/benchmarks.md, wave
13).  A batch of hundreds loads it at once (:func:`finews.store.articles.prepare`)."""

_cut: blockcut.SearchCut | None = None
_cut_file: quickseg.QuickDictionary | None = None
"""The quick dictionary the cut reads, or None when it reads jieba's own in memory."""


def _search_cut() -> blockcut.SearchCut:
    global _cut, _cut_file
    cut, file = _cut, _cut_file
    if cut is not None and (file is None or (file.lookups < QUICK_LOOKUPS and _tokenizer is None)):
        return cut
    quick = _quick() if cut is None else None
    if quick is not None and _tokenizer is None:  # (writing the file first loads jieba)
        made = blockcut.SearchCut(quick.freq, quick.total)
    else:
        quick = None
        full = tokenizer()
        made = blockcut.SearchCut(full.FREQ.get, full.total)
    with _lock:
        _cut, _cut_file = made, quick
    return made


def _quick() -> quickseg.QuickDictionary | None:
    """The quick dictionary file, when jieba is not loaded in this process (else None)."""
    return None if _tokenizer is not None else quickseg.dictionary()


def precise_cut(sentence: str) -> Iterator[str]:
    """jieba's precise cut without HMM, every piece (punctuation and spaces too): from the
    quick dictionary when jieba is not loaded in this process."""
    quick = _quick()
    if quick is not None:
        return quick.cut(sentence)
    return iter(tokenizer().cut(sentence, HMM=False))


def parts(word: str) -> tuple[str, ...]:
    """The dictionary words that make up a longer word, left to right, longest first
    (关税政策 → 关税, 政策; 下调评级 → 下调, 评级), or () when the word does not divide
    into dictionary words of two or more characters.  The index holds these too (search
    mode), so a query can ask for them when the whole word is too narrow."""
    if len(word) < 3 or word.isascii():
        return ()
    freq = _query_freq()
    out: list[str] = []
    i = 0
    while i < len(word):
        for j in range(len(word), i + 1, -1):
            piece = word[i:j]
            if piece != word and freq(piece):
                out.append(piece)
                i = j
                break
        else:
            return ()
    return tuple(out) if len(out) > 1 else ()


def query_words(text: str) -> list[str]:
    """The words of a piece of query text, in order (precise mode).  Without jieba loaded
    in this process, cut by :mod:`finews.search.quickseg` (the same words, without the
    second it takes to load jieba)."""
    return list(_words(precise_cut(text)))


def _query_freq() -> Callable[[str], int | None]:
    quick = _quick()
    if quick is not None:
        return quick.freq
    freq: dict[str, int] = tokenizer().FREQ
    return freq.get


_DICTIONARY_TOTAL = 60_101_967
"""The sum of the frequencies of jieba's own dictionary (dict.txt)."""
_RARE = 100
"""Added to every frequency: a word the dictionary does not know (CPI, MLF, 中美) weighs as
one it saw this often — specific, not infinitely so."""


def word_weight(word: str) -> float:
    """How much a word says, from the dictionary's frequencies (an IDF): 政策 8.3, 美国
    7.4, 关税 11.3, an unknown word 13.3.  A date (5 月) weighs as its unit (月)."""
    freq = _query_freq()
    squeezed = "".join(word.split())
    count = freq(squeezed)
    if count is None and any(c.isdigit() for c in squeezed):
        count = freq("".join(c for c in squeezed if not c.isdigit()))
    return math.log(_DICTIONARY_TOTAL / ((count or 0) + _RARE))


def query_aliases() -> AliasTable:
    """The alias table for parsing a query: the quick dictionary's copy when jieba is not
    loaded in this process (building the table takes a fifth of a second)."""
    quick = _quick()
    return quick.aliases if quick is not None else default_aliases()
