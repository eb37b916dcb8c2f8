"""The article model: one immutable record per upstream item.

Everything downstream of a source (processing, store, outputs) speaks this
type only.  It is frozen so that a stage cannot change what an earlier stage
saw; stages return new instances with :func:`dataclasses.replace`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")
"""Every naive upstream time is Beijing time (UTC+8, no DST since 1991)."""

ROLLING_CATEGORY = "emnews"
"""The site section of Eastmoney's rolling news in the original system."""


@dataclass(frozen=True, slots=True)
class StockTag:
    """A stock an article is about, in a normalised code (``600928.SH``).

    ``origin`` says where the tag came from (``upstream``, ``marker``,
    ``text`` …) so that a reader can judge how far to trust it.
    """

    code: str
    name: str = ""
    origin: str = "upstream"
    move: float | None = None
    """The stock's move (per cent) when the news came out, as the upstream gave it with
    the tag (财联社's ``RiseRange``); None when the upstream gives none (issue #15)."""

    def as_dict(self) -> dict[str, str | float]:
        """The tag as JSON; ``move`` only when there is one (older rows stay byte-equal)."""
        out: dict[str, str | float] = {"code": self.code, "name": self.name, "origin": self.origin}
        if self.move is not None:
            out["move"] = self.move
        return out

    def identity(self) -> dict[str, str]:
        """What a reader's view of the article depends on: the move is a snapshot of the
        market, not of the news, and a later poll's different figure is no revision."""
        return {"code": self.code, "name": self.name, "origin": self.origin}


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic page of the upstream the item belongs to (财联社 ``subjects``: 每日早报,
    A股盘面直播 …)."""

    id: str
    name: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True, slots=True)
class Article:
    """One news item as finews keeps it.

    ``source`` + ``upstream_id`` identify the item; seeing it again is an
    update of the same article, never a second one.  ``raw`` is the upstream
    payload exactly as received (a JSON item, a post file) and is never
    interpreted after normalisation.
    """

    source: str
    upstream_id: str
    title: str
    published: datetime
    media: str = ""
    url: str = ""
    digest: str = ""
    body_html: str = ""
    stocks: tuple[StockTag, ...] = ()
    important: bool = False
    category: str = ""
    """The site section when it is not derived from the media (``emnews``
    for Eastmoney rolling news, or the section an imported post declared)."""
    body_complete: bool = True
    """False when the body is only what a list gave and full text is still due."""
    raw: str = field(default="", compare=False)
    topics: tuple[Topic, ...] = ()
    """The upstream's topic pages the item is filed under (issue #15)."""
    audio_url: str = ""
    """A spoken version of the item (财联社 ``audio_url``): a feed enclosure."""

    def __post_init__(self) -> None:
        if not self.source or not self.upstream_id:
            raise ValueError("an article needs a source and an upstream id")
        if self.published.tzinfo is None:
            raise ValueError("published must be timezone-aware")

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.upstream_id)

    @property
    def published_beijing(self) -> datetime:
        return self.published.astimezone(BEIJING)

    def content_hash(self) -> str:
        """A stable hash of what a reader sees.

        ``raw`` is left out on purpose: upstream payloads carry counters
        (comments, shares) that change on every poll and must not turn an
        unchanged article into a revision.
        """
        payload: dict[str, object] = {
            "title": self.title,
            "published": int(self.published.timestamp()),
            "media": self.media,
            "url": self.url,
            "digest": self.digest,
            "body_html": self.body_html,
            "stocks": [s.identity() for s in self.stocks],
            "important": self.important,
            "category": self.category,
        }
        # only when present: the hash of every article stored before them is unchanged
        if self.topics:
            payload["topics"] = [t.as_dict() for t in self.topics]
        if self.audio_url:
            payload["audio_url"] = self.audio_url
        blob = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()


def beijing_naive(value: datetime) -> datetime:
    """Attach Beijing time to a naive datetime (upstreams send naive local times)."""
    if value.tzinfo is not None:
        return value
    return value.replace(tzinfo=BEIJING)


def from_epoch(seconds: int | float | str) -> datetime:
    """An aware datetime from Unix seconds (CLS ``ctime``, WSCN ``display_time``).
    Raises :class:`ValueError` for a number no clock gives (before 1970, after 2200):
    the platform would raise OSError or OverflowError instead (found by fuzzing)."""
    value = int(float(seconds))
    if not 0 <= value <= _LATEST_EPOCH:
        raise ValueError(f"not a plausible time: {seconds!r}")
    return datetime.fromtimestamp(value, tz=UTC).astimezone(BEIJING)


_LATEST_EPOCH = 7_258_118_400  # 2200-01-01


def parse_beijing(text: str) -> datetime:
    """Parse the upstream time forms: ``YYYY-MM-DD HH:MM:SS`` or with slashes.

    A zone suffix (``+0800``, ``+08:00``) is honoured; without one the time is
    Beijing time.  Raises :class:`ValueError` on anything else.
    """
    cleaned = text.strip().replace("/", "-").replace("T", " ")
    if not cleaned:
        raise ValueError("empty time")
    for fmt in (
        "%Y-%m-%d %H:%M:%S %z",
        "%Y-%m-%d %H:%M:%S%z",
        "%Y-%m-%d %H:%M %z",
        "%Y-%m-%d %H:%M%z",
    ):
        try:
            return datetime.strptime(cleaned, fmt)
        except ValueError:
            pass
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(cleaned, fmt).replace(tzinfo=BEIJING)
        except ValueError:
            pass
    raise ValueError(f"unrecognised time {text!r}")


UTC_PLUS_8 = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class UserFeed:
    """An RSS, Atom or JSON Feed a user subscribed to (kept in the store)."""

    id: int
    url: str
    title: str
    enabled: bool

    @property
    def key(self) -> str:
        """The source key of the feed's articles: ``feed.<id>``."""
        return f"feed.{self.id}"


AFFECT = {"1": "利多", "2": "利空", "0": "影响较小"}


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """An economic-data release (金十's ``type`` 1 rows): its own row, not news.

    Values stay text as the upstream sent them (``"2.1"``, ``"0.4"``, ``""`` before the
    release): a figure such as ``"-0.3万"`` is not a number and must not become one."""

    source: str
    upstream_id: str
    name: str
    released: datetime
    country: str = ""
    unit: str = ""
    actual: str = ""
    forecast: str = ""
    previous: str = ""
    revised: str = ""
    star: int = 0
    affect: str = ""
    """利多 / 利空 / 影响较小, or empty when the upstream says nothing"""
    important: bool = False
    raw: str = field(default="", compare=False)

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "id": self.upstream_id,
            "name": self.name,
            "time": self.released.astimezone(BEIJING).isoformat(),
            "country": self.country,
            "unit": self.unit,
            "actual": self.actual,
            "forecast": self.forecast,
            "previous": self.previous,
            "revised": self.revised,
            "star": self.star,
            "affect": self.affect,
            "important": self.important,
        }
