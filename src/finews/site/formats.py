"""How times and sections are shown to readers.  Pure functions."""

from __future__ import annotations

import email.utils
import functools
from datetime import datetime

from finews.jekyll import ROLLING_TAG as ROLLING_TITLE
from finews.model import BEIJING, ROLLING_CATEGORY
from finews.site import paths
from finews.store.sitequeries import Item


@functools.lru_cache(maxsize=65536)
def iso_time(ts: int) -> str:
    """RFC 3339 in Beijing time: ``2021-12-29T21:45:37+08:00``."""
    return datetime.fromtimestamp(ts, BEIJING).isoformat()


@functools.lru_cache(maxsize=65536)
def short_time(ts: int) -> str:
    """``12-29 21:45`` (an f-string: strftime costs twice as much, per listed item)."""
    d = datetime.fromtimestamp(ts, BEIJING)
    return f"{d.month:02d}-{d.day:02d} {d.hour:02d}:{d.minute:02d}"


def rfc822_time(ts: int) -> str:
    """RSS's date form, in Beijing time: ``Wed, 29 Dec 2021 21:45:37 +0800``."""
    return email.utils.format_datetime(datetime.fromtimestamp(ts, BEIJING))


def section_title(section: str) -> str:
    """How a section is named to readers (the rolling-news section has a key, not a name)."""
    return ROLLING_TITLE if section == ROLLING_CATEGORY else section


def item_path(it: Item) -> str:
    return paths.article_path(it.source, it.upstream_id, it.published_at)
