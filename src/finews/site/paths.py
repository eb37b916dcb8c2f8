"""Where each page lives in the output, and how pages link to each other.

Pure functions.  Every link in the site is relative (``root`` is the way
back to the top from a page), so the output can be served from any path.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from finews.jekyll.slug import ascii_slug
from finews.model import BEIJING

_UNSAFE = re.compile(r"[^0-9A-Za-z_.-]+")
EPOCH_DAY = date(1970, 1, 1)


@functools.lru_cache(maxsize=65536)
def day_of(published_at: int) -> str:
    return datetime.fromtimestamp(published_at, BEIJING).date().isoformat()


def day_name(day_number: int) -> str:
    return (EPOCH_DAY + timedelta(days=day_number)).isoformat()


def article_path(source: str, upstream_id: str, published_at: int) -> str:
    ident = _UNSAFE.sub("_", upstream_id).strip("._") or "item"
    return f"a/{day_of(published_at)}/{source}.{ident}.html"


def briefing_path(day: date) -> str:
    """The page of a day's briefings (#14), each session an ``<article id="<session>">``:
    built by the site, linked by the briefings' pushes."""
    return f"briefing/{day.isoformat()}/index.html"


def root_of(path: str) -> str:
    return "../" * path.count("/")


def section_slugs(sections: Iterable[str]) -> dict[str, str]:
    """A URL slug for every section; sections whose clean slugs collide all get a
    short hash of their name, so the mapping does not depend on any order."""
    groups: dict[str, list[str]] = defaultdict(list)
    for name in sorted(set(sections)):
        groups[ascii_slug(name)].append(name)
    slugs: dict[str, str] = {}
    for slug, names in groups.items():
        for name in names:
            if len(names) == 1 and slug not in {"index", "media"}:
                slugs[name] = slug
            else:
                digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:6]
                slugs[name] = f"{slug}-{digest}"
    return slugs
