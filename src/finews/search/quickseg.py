"""Cutting a query without loading jieba: the same words in milliseconds instead of a second.

jieba's precise mode without HMM (what a query uses, :func:`finews.search.segment.query_words`)
needs the dictionary's frequency of the substrings of the query only.  The first search of a
process that has not loaded jieba writes the finished dictionary (jieba's plus the alias and
vocabulary words, exactly as :func:`finews.search.segment.tokenizer` builds it) into an SQLite
file in the user's cache folder, with the alias table beside it; later processes look up only
the substrings they need and load the alias table in a few milliseconds — ``finews search``
as a new process no longer waits for jieba (docs/benchmarks.md).  The file's name is a hash of
jieba's version and dictionary and of the packaged data files, so a new version or new data
never reads an old dictionary.

The cut itself is jieba 0.42's ``Tokenizer.cut(…, HMM=False)`` (MIT licence), written out:
the same blocks, the same DAG and route, the same grouping of single ASCII characters; a test
compares the two on every sentence of the test corpus.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import re
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from importlib import resources
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from finews.search.aliases import AliasTable

FORMAT = 1
_DATA_FILES = (
    "a_shares.csv",
    "stock_aliases.csv",
    "ambiguous_names.txt",
    "securities.csv",
    "search_aliases.txt",
    "search_synonyms.txt",
)
_BUILDERS = ("segment.py", "aliases.py", "quickseg.py")
"""The modules beside this one that decide what the dictionary holds."""
# jieba 0.42's patterns (jieba/__init__.py)
RE_HAN = re.compile("([\u4e00-\u9fd5a-zA-Z0-9+#&\\._%\\-]+)", re.U)
RE_SKIP = re.compile("(\r\n|\\s)", re.U)
RE_ENG = re.compile("[a-zA-Z0-9]", re.U)

_MAX_REMEMBERED = 100_000
_UNSEEN = object()
log = logging.getLogger(__name__)
_lock = threading.Lock()
_opened: QuickDictionary | None = None


def cache_folder() -> Path:
    """``$FINEWS_CACHE``, else ``$XDG_CACHE_HOME/finews``, else ``~/.cache/finews``."""
    explicit = os.environ.get("FINEWS_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "finews"


def cache_key() -> str:
    """What the dictionary is made of: jieba's version and dictionary, and the data files."""
    digest = hashlib.sha256(f"{FORMAT}:{version('jieba')}".encode())
    data = resources.files("finews") / "data"
    for name in _DATA_FILES:
        digest.update(name.encode())
        digest.update((data / name).read_bytes())
    import importlib.util

    spec = importlib.util.find_spec("jieba")
    if spec and spec.origin:
        stat = (Path(spec.origin).parent / "dict.txt").stat()
        digest.update(f"{stat.st_size}:{int(stat.st_mtime)}".encode())
    # and the code that builds it (the words added, their weight, the alias table): since
    # wave 13 the file decides the index's words, not only a query's (wave 13's review)
    for module in _BUILDERS:
        digest.update((Path(__file__).parent / module).read_bytes())
    return digest.hexdigest()[:24]


class QuickDictionary:
    """jieba's finished dictionary on disk: frequency lookups by SQL."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._instead: dict[str, int] | None = None
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        from finews.search.aliases import AliasTable

        total, aliases = self.db.execute("SELECT total, aliases FROM meta").fetchone()
        self.total = int(total)
        self.logtotal = math.log(total)
        self.lookups = 0
        """Words read from the file so far (the cost :func:`finews.search.segment` weighs
        against loading jieba's whole dictionary)."""
        self.aliases: AliasTable = AliasTable.from_json(aliases)
        self._seen: dict[str, int | None] = {}
        self._lock = threading.Lock()

    def freq(self, word: str) -> int | None:
        """The word's frequency; 0 for a prefix of a word; None when unknown."""
        known = self._seen.get(word, _UNSEEN)  # one read: a clear() may come between two
        if known is not _UNSEEN:
            return known  # type: ignore[return-value]
        if self._instead is not None:
            return self._instead.get(word)
        try:
            with self._lock:  # one connection, shared by a server's threads
                row = self.db.execute("SELECT n FROM freq WHERE w = ?", (word,)).fetchone()
                self.lookups += 1
        except sqlite3.Error as exc:
            return self._damaged(word, exc)
        value = None if row is None else int(row[0])
        if len(self._seen) > _MAX_REMEMBERED:
            self._seen.clear()  # a long-running server sees endless substrings
        self._seen[word] = value
        return value

    def _damaged(self, word: str, exc: sqlite3.Error) -> int | None:
        """A file damaged after it was opened (a disk error, a partial copy): this process
        answers from jieba's dictionary itself — the same words, a second later — and the
        file is removed so that the next process writes it again (wave 13's review: every
        fetch failed, for good, on a damaged page)."""
        from finews.search.segment import tokenizer

        log.warning("search dictionary %s is damaged (%s): removed, jieba loaded", self.path, exc)
        self._instead = tokenizer().FREQ
        with contextlib.suppress(OSError):
            self.path.unlink()
        return self._instead.get(word)

    def _dag(self, sentence: str) -> dict[int, list[int]]:
        dag: dict[int, list[int]] = {}
        n = len(sentence)
        for k in range(n):
            ends = []
            i = k
            frag = sentence[k]
            while i < n:
                f = self.freq(frag)
                if f is None:
                    break
                if f:
                    ends.append(i)
                i += 1
                frag = sentence[k : i + 1]
            dag[k] = ends or [k]
        return dag

    def _block(self, sentence: str) -> Iterator[str]:
        dag = self._dag(sentence)
        n = len(sentence)
        route: dict[int, tuple[float, int]] = {n: (0.0, 0)}
        for idx in range(n - 1, -1, -1):
            route[idx] = max(
                (
                    math.log(self.freq(sentence[idx : x + 1]) or 1)
                    - self.logtotal
                    + route[x + 1][0],
                    x,
                )
                for x in dag[idx]
            )
        x = 0
        buf = ""
        while x < n:
            y = route[x][1] + 1
            word = sentence[x:y]
            if RE_ENG.match(word) and len(word) == 1:
                buf += word
            else:
                if buf:
                    yield buf
                    buf = ""
                yield word
            x = y
        if buf:
            yield buf

    def cut(self, sentence: str) -> Iterator[str]:
        """jieba's ``cut(sentence, HMM=False)``."""
        return blocks(sentence, self._block)


def blocks(text: str, cut_block: Callable[[str], Iterable[str]]) -> Iterator[str]:
    """jieba's walk over a text: each block (ideographs, Latin letters, digits,
    ``+#&._%-``) cut by ``cut_block``, and between blocks whitespace as it is and every
    other character on its own.  The precise cut (here) and the search-mode cut
    (:mod:`finews.search.blockcut`) differ only in how a block is cut."""
    for block in RE_HAN.split(text):
        if not block:
            continue
        if RE_HAN.match(block):
            yield from cut_block(block)
        else:
            for piece in RE_SKIP.split(block):
                if RE_SKIP.match(piece):
                    yield piece
                else:
                    yield from piece


def write(path: Path, freq: dict[str, int], total: int, aliases: AliasTable) -> None:
    """Write the dictionary file atomically (a concurrent reader never sees half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        db = sqlite3.connect(tmp)
        db.execute("CREATE TABLE freq (w TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID")
        db.execute("CREATE TABLE meta (total INTEGER NOT NULL, aliases TEXT NOT NULL)")
        db.executemany("INSERT INTO freq VALUES (?, ?)", freq.items())
        db.execute("INSERT INTO meta VALUES (?, ?)", (total, aliases.to_json()))
        db.commit()
        db.close()
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _remove_older(path)


def _remove_older(path: Path) -> None:
    """The dictionaries of other versions or data (9 MB each) and what killed writers left
    (an hour old): a cache of one file, not of every version ever run."""
    for other in path.parent.glob("jieba-*.sqlite"):
        if other != path:
            with contextlib.suppress(OSError):
                other.unlink()  # a process still reading it keeps its open file
    for left in path.parent.glob("tmp*.tmp"):
        with contextlib.suppress(OSError):
            if left.stat().st_mtime < time.time() - 3600:
                left.unlink()


def dictionary() -> QuickDictionary | None:
    """The on-disk dictionary of this version and data, written first if need be; None
    when the cache folder cannot be used (the caller loads jieba instead)."""
    global _opened
    with _lock:
        if _opened is not None:
            return _opened
        try:
            path = cache_folder() / f"jieba-{cache_key()}.sqlite"
        except OSError:
            return None
        try:
            if not path.exists():
                from finews.search.aliases import default_aliases
                from finews.search.segment import tokenizer

                full = tokenizer()
                write(path, full.FREQ, full.total, default_aliases())
            _opened = QuickDictionary(path)
        except sqlite3.DatabaseError:  # a damaged file: written again by the next process
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        except (OSError, sqlite3.Error, ValueError):
            return None
        return _opened
