"""Candidates for one story: MinHash signatures of each report's lead, banded for LSH.

Which reports are one story is decided by :mod:`finews.process.story` (issue #10), pair by
pair, over the facts of each report; comparing every new report with every stored one
would be quadratic, so the store first looks up *candidates*: reports whose leads share two
or more bands of their MinHash signatures (datasketch).  The lead is the one the judgement uses
(headline, then the text without its repeated 【headline】 and dateline), cut into character
``N``-grams.  Each of the ``BANDS`` bands is one MinHash value (``ROWS`` = 1): a wide net
on purpose, as rewrites of one story can share few 3-grams and the judgement, not the net,
decides.  Of the 987 same-story pairs labelled for #10, 2-row bands over 96 values let 5.6 %
through the net; sharing two or more of 40 single values lets 0.7 % through (two of 48:
0.8 %; one of 40: 0.1 %, but one shared value is what unrelated leads share by chance).  The
candidates sharing the most values are compared first (``store.clusters``).  The store keeps
every band key in an indexed table, so finding candidates is a lookup per band (time linear
in the number of articles).
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

# numpy and datasketch are imported where a signature is computed or compared: the store
# imports this module, and commands that only read it (build, serve, search) should not
# pay for them (a tenth of a second, 20 MB, and OpenBLAS threads in every process).

NUM_PERM = 40
BANDS = 40
ROWS = NUM_PERM // BANDS
N = 3
MIN_CHARS = 12


@lru_cache(maxsize=1)
def _permutations() -> tuple[object, str]:
    from datasketch import MinHash

    base = MinHash(num_perm=NUM_PERM, seed=20211208, hashfunc=zlib.crc32)
    return base.permutations, base.scheme


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
    import numpy as np
    from datasketch import MinHash

    permutations, scheme = _permutations()
    # crc32 (C, stable across processes) rather than datasketch's default sha1 per 3-gram:
    # the hashing was most of a signature's cost
    mh = MinHash(num_perm=NUM_PERM, permutations=permutations, scheme=scheme, hashfunc=zlib.crc32)
    mh.update_batch(list(grams))
    values = np.asarray(mh.hashvalues, dtype=np.uint64)
    return Signature(values, band_keys(values), found)
