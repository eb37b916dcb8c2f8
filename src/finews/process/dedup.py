"""Candidates for one story: MinHash signatures of each report's lead, banded for LSH.

Which reports are one story is decided by :mod:`finews.process.story` (issue #10), pair by
pair, over the facts of each report; comparing every new report with every stored one would
be quadratic, so the store first looks up *candidates*: reports whose leads share two or
more bands of their MinHash signatures (datasketch's, computed by :func:`minhash`).  The
lead is the one the judgement uses (headline, then the text without its repeated 【headline】
and dateline), cut into character ``N``-grams.  Each of the ``BANDS`` bands is one MinHash
value (``ROWS`` = 1): a wide net on purpose, as rewrites of one story can share few 3-grams
and the judgement, not the net, decides.  Of the 987 same-story pairs labelled for #10,
2-row bands over 96 values let 5.6 % through the net; sharing two or more of 40 single
values lets 0.7 % through (two of 48: 0.8 %; one of 40: 0.1 %, but one shared value is what
unrelated leads share by chance).  The candidates sharing the most values are compared first
(``store.clusters``).  The store keeps every band key in an indexed table, so finding
candidates is a lookup per band (time linear in the number of articles).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from finews.model import Article
from finews.process.story import Facts, facts

if TYPE_CHECKING:
    import numpy as np

# numpy is imported where a signature is computed or compared: the store imports this
# module, and commands that only read it (build, serve, search) should not pay for it
# (a tenth of a second, 20 MB, and OpenBLAS threads in every process).

NUM_PERM = 40
BANDS = 40
ROWS = NUM_PERM // BANDS
N = 3
MIN_CHARS = 12


SEED = 20211208
_FMIX32 = (16, 0x85EBCA6B, 13, 0xC2B2AE35, 16)
"""MurmurHash3's 32-bit finalizer (shift, multiplier, shift, multiplier, shift)."""


@lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """datasketch 2.0's ``affine32`` permutations for ``(NUM_PERM, SEED)``: odd ``a`` and
    any ``b`` below 2^32, drawn from ``RandomState(SEED)`` in its order."""
    import numpy as np

    gen = np.random.RandomState(SEED)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


def minhash(grams: list[bytes]) -> np.ndarray:
    """The MinHash values (uint64) of a non-empty set of byte strings: datasketch 2.0's
    ``MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=zlib.crc32)`` after
    ``update_batch(grams)`` (scheme ``affine32``), value for value — a test compares the two.

    Written out over numpy: importing datasketch imports scipy (half a second in every
    process that stores an article), and building a ``MinHash`` object per article cost
    more than its arithmetic (#10's write path, docs/benchmarks.md)."""
    import numpy as np

    a, b = _permutations()
    s1, m1, s2, m2, s3 = (np.uint32(c) for c in _FMIX32)
    hv = np.fromiter(map(zlib.crc32, grams), dtype=np.uint32, count=len(grams))
    hv ^= hv >> s1
    hv *= m1
    hv ^= hv >> s2
    hv *= m2
    hv ^= hv >> s3
    # uint32 arithmetic wraps: a * h + b mod 2^32, as datasketch computes it
    values: np.ndarray = (hv[:, None] * a + b).min(axis=0)
    return values.astype(np.uint64)


@dataclass(frozen=True)
class Signature:
    """A report's MinHash values, their band keys, and the facts its story is judged on."""

    values: np.ndarray
    bands: tuple[int, ...]
    facts: Facts | None = None

    def to_bytes(self) -> bytes:
        return bytes(self.values.astype("<u8").tobytes())


def band_keys(values: np.ndarray) -> tuple[int, ...]:
    """One key per band: the band's number above its (32-bit) MinHash value, so that equal
    values in different bands never meet."""
    import numpy as np

    keys = (np.arange(BANDS, dtype=np.int64) << 32) | values.astype(np.int64)
    return tuple(keys.tolist())


def signature(article: Article) -> Signature | None:
    """The article's signature, or None when its lead is too short to compare."""
    found = facts(article)
    text = found.lead
    if len(text) < MIN_CHARS:
        return None
    grams = {text[i : i + N].encode("utf-8") for i in range(len(text) - N + 1)}
    # crc32 (C, stable across processes) rather than datasketch's default sha1 per 3-gram:
    # the hashing was most of a signature's cost
    values = minhash(list(grams))
    return Signature(values, band_keys(values), found)
