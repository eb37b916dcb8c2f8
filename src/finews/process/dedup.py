"""Reprints: the same story from several outlets, found with MinHash and LSH.

Each article's *lead* — title plus the first ``LEAD`` characters of its text,
with the outlets' boilerplate removed (``财联社5月14日电``, ``【…】`` brackets,
credits like ``（新华社）``, punctuation, spaces) — is cut into character
``N``-grams and summarised as a MinHash signature (datasketch).  Taking the
lead rather than the whole text lets a 50-character flash meet the full
article it announces, whose opening it repeats.

LSH with ``BANDS`` bands of ``ROWS`` rows: two articles become candidates
when one band matches, which happens with high probability above a Jaccard
similarity of about (1/BANDS)^(1/ROWS) ≈ 0.14 (at 0.25, 95 % of pairs meet).
The values were chosen on the hand-labelled pairs of bench/quality (docs/quality.md):
reprints of one flash share a quarter or more of their leads' 3-grams, different
stories almost never do.  The store keeps every band
key in an indexed table, so finding candidates is a lookup per band (time
linear in the number of articles, not quadratic); a candidate joins the
cluster when its estimated similarity reaches ``THRESHOLD`` and it was
published within ``WINDOW`` seconds.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from finews.model import Article
from finews.process.text import body_text as plain_body

if TYPE_CHECKING:
    import numpy as np

# numpy and datasketch are imported where a signature is computed or compared: the store
# imports this module, and commands that only read it (build, serve, search) should not
# pay for them (a tenth of a second, 20 MB, and OpenBLAS threads in every process).

NUM_PERM = 96
BANDS = 48
ROWS = NUM_PERM // BANDS
N = 3
LEAD = 100
THRESHOLD = 0.25
WINDOW = 2 * 24 * 3600
MIN_CHARS = 12

_DATELINE = re.compile(
    r"(?:财联社|金十数据|东方财富网|证券时报网?|新华社|中新社|央视新闻|格隆汇|智通财经|每经网)?"
    r"\s*\d{1,2}月\d{1,2}日(?:电|讯|晚间|晚|早间|早|午间|下午|上午|消息)?"
)
_CREDIT = re.compile(r"[（(][^（）()]{1,15}[）)]")
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def lead_text(article: Article) -> str:
    """The normalised lead the signature is made of."""
    body = plain_body(article.body_html)
    text = " ".join(p for p in (article.title, article.digest or body) if p)
    text = text.replace("【", " ").replace("】", " ")
    text = _DATELINE.sub(" ", text)
    text = _CREDIT.sub(" ", text)
    return _NOISE.sub("", text)[:LEAD]


@lru_cache(maxsize=1)
def _permutations() -> tuple[object, str]:
    from datasketch import MinHash

    base = MinHash(num_perm=NUM_PERM, seed=20211208)
    return base.permutations, base.scheme


@dataclass(frozen=True)
class Signature:
    values: np.ndarray
    bands: tuple[int, ...]

    def similarity(self, other: Signature) -> float:
        import numpy as np

        return float(np.count_nonzero(self.values == other.values)) / NUM_PERM

    def to_bytes(self) -> bytes:
        return bytes(self.values.astype("<u8").tobytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        """A stored signature, for comparison only (its band keys are not needed)."""
        import numpy as np

        return cls(np.frombuffer(data, dtype="<u8"), ())


def band_keys(values: np.ndarray) -> tuple[int, ...]:
    keys = []
    raw = values.astype("<u8")
    for band in range(BANDS):
        chunk = raw[band * ROWS : (band + 1) * ROWS].tobytes()
        digest = hashlib.blake2b(chunk + band.to_bytes(1, "big"), digest_size=8).digest()
        keys.append(int.from_bytes(digest, "big", signed=True))
    return tuple(keys)


def signature(article: Article) -> Signature | None:
    """The article's signature, or None when its lead is too short to compare."""
    text = lead_text(article)
    if len(text) < MIN_CHARS:
        return None
    grams = {text[i : i + N].encode("utf-8") for i in range(len(text) - N + 1)}
    import numpy as np
    from datasketch import MinHash

    permutations, scheme = _permutations()
    mh = MinHash(num_perm=NUM_PERM, permutations=permutations, scheme=scheme)
    mh.update_batch(list(grams))
    values = np.asarray(mh.hashvalues, dtype=np.uint64)
    return Signature(values, band_keys(values))
