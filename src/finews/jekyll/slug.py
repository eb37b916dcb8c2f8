"""Category slugs, exactly as the original site made them.

The original ran the media name through xpinyin's default ``get_pinyin``
(syllables joined by ``-``, non-Chinese characters kept as they are) and
removed the hyphens: 财联社 → ``cailianshe``.  Existing sites' URLs depend
on that, so it is the default; ``ascii_slug`` is the documented clean option.
"""

from __future__ import annotations

import re
from functools import lru_cache

from xpinyin import Pinyin


@lru_cache(maxsize=1)
def _pinyin() -> Pinyin:
    """xpinyin reads its dictionary when built: only when a slug is first needed."""
    return Pinyin()


@lru_cache(maxsize=4096)
def original_slug(media: str) -> str:
    """The slug the original system produced for a media name."""
    return str(_pinyin().get_pinyin(media)).replace("-", "")


@lru_cache(maxsize=4096)
def ascii_slug(media: str) -> str:
    """A clean URL slug: lower-case ASCII letters and digits joined by ``-``."""
    spelled = str(_pinyin().get_pinyin(media, "-")).lower()
    cleaned = re.sub(r"[^a-z0-9]+", "-", spelled).strip("-")
    return cleaned or "media"


def media_slug(media: str, *, ascii_only: bool = False) -> str:
    slug = ascii_slug(media) if ascii_only else original_slug(media)
    if not slug or "/" in slug or slug in {".", ".."}:
        return ascii_slug(media)
    return slug
