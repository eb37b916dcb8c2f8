"""财联社 (CLS) telegraph: ``/v1/roll/get_roll_list``, signed (shared/docs/upstream-apis.md §5).

The signature: sort every query parameter except ``sign`` by key, URL-encode them as a
query string, then ``md5_hex(sha1_hex(query))``.  The web version string ``sv`` and the
app name change from time to time: the known versions are request shapes tried in turn
(:mod:`finews.sources.shapes`); a rejected signature (errno 10012) moves to the next one.
A block (50101) is a source error with that reason, so source health shows it.

Each telegraph keeps what 财联社 gives beyond the text (issue #15): its ``subjects`` as
topics, each ``stock_list`` entry's ``RiseRange`` (the move when the news came out) on the
stock tag, ``audio_url`` as the spoken version.  Locked VIP items (``type`` 20015) are
counted, not stored.  Each configured ``category`` (red / announcement / watch / hk_us /
fund / remind) is polled; their pages are read together, one merged page per step.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from finews.errors import UpstreamFormatError
from finews.fetch import Fetcher, decode_json
from finews.model import Article, StockTag, Topic, from_epoch
from finews.process.clean import text_to_html
from finews.process.stockcodes import from_prefixed
from finews.sources.base import Page
from finews.sources.common import (
    merged_rounds,
    normalise_items,
    raw_json,
    title_from_text,
    unique_tags,
)
from finews.sources.drift import NUMBER, TEXT_OR_NUMBER, Expected
from finews.sources.shapes import Candidates, Shape, ShapeChanged, merged, walk

CLS_SOURCE = "cls.telegraph"
CLS_MEDIA = "财联社"
_ERRORS = {
    "10012": "signature rejected (errno 10012): the sv/app settings may be outdated",
    "50101": "blocked by the upstream (errno 50101)",
}
CHANGE_ERRNOS = frozenset({"10012"})
"""Errnos that say the request's shape is outdated (another ``sv`` may work)."""
VIP_TYPE = 20015
CATEGORIES = {
    "red": "加红",
    "announcement": "公告",
    "watch": "看盘",
    "hk_us": "港美股",
    "fund": "基金",
    "remind": "提醒",
}
"""The telegraph categories 财联社's page offers (RSSHub's list, 2026); empty = all."""
ROLL_PATH = "/v1/roll/get_roll_list"
REFERER = {"Referer": "https://www.cls.cn/telegraph"}
KNOWN_SV = (
    ("8.7.9", "KSpider ClsNewsSpiderTest capture, 2026-09-19"),
    ("8.4.6", "akshare stock_info_global_cls, 2026-07-22"),
    ("7.7.5", "RSSHub cls/utils.ts before PR #22171; sshelll/clstelegraph (Go), 2024"),
)

EXPECTED = Expected(
    required={"id": TEXT_OR_NUMBER, "ctime": TEXT_OR_NUMBER},
    usual={
        "content": str,
        "brief": str,
        "title": str,
        "level": str,
        "stock_list": list,
        "subjects": list,
        "type": NUMBER,
    },
    known=frozenset(
        [
            "ad",
            "assocArticleUrl",
            "assocCreditRating",
            "assocFastFact",
            "assocVideoTitle",
            "assocVideoUrl",
            "audio_url",
            "author",
            "author_extends",
            "bold",
            "category",
            "collection",
            "comment_num",
            "comment_recommand",
            "confirmed",
            "deny_comment",
            "depth_extends",
            "disclaimer",
            "explain_num",
            "gray_share",
            "has_img",
            "images",
            "img",
            "imgs",
            "in_roll",
            "invest_calendar",
            "is_ad",
            "is_fad",
            "is_top",
            "jpush",
            "modified_time",
            "plate_list",
            "reading_num",
            "recommend",
            "share_content",
            "share_img",
            "share_num",
            "shareurl",
            "sort_score",
            "status",
            "sub_titles",
            "tags",
            "timeline",
            "user_id",
        ]
    ),
)
"""Every field of the 200 real captures (data/demo/cls.jsonl.gz) and of §5.3."""


def shapes(base: str, app: str, sv: str) -> tuple[Shape, ...]:
    """The configured version first, then the other known ones, then the cache list."""
    versions = [(sv, "the settings (cls.sv)")] if sv not in dict(KNOWN_SV) else []
    versions += list(KNOWN_SV)
    if sv in dict(KNOWN_SV):
        versions.sort(key=lambda v: v[0] != sv)
    roll = tuple(
        Shape(f"roll sv={v}", base, ROLL_PATH, {"app": app, "sv": v}, REFERER, seen)
        for v, seen in versions
    )
    cache = Shape(
        "cache telegraph",
        base,
        "/api/cache",
        {"app": app, "sv": versions[0][0], "name": "telegraph"},
        REFERER,
        "RSSHub cls/telegraph.tsx (the newest ~20 only), 2026-06",
        paging=False,
    )
    return (*roll, cache)


def sign(params: Mapping[str, str | int]) -> str:
    """CLS's request signature over every parameter but ``sign``."""
    query = urlencode(sorted((k, str(v)) for k, v in params.items() if k != "sign"))
    return hashlib.md5(hashlib.sha1(query.encode()).hexdigest().encode()).hexdigest()


def signed(params: Mapping[str, str | int]) -> dict[str, str | int]:
    return {**params, "sign": sign(params)}


def _move(value: Any) -> float | None:
    """``RiseRange`` as a per-cent figure to two places (captures carry 1.4399999)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return round(number, 2) if abs(number) < 10_000 else None


def _topics(values: Any) -> tuple[Topic, ...]:
    topics: dict[str, Topic] = {}
    for s in values if isinstance(values, list) else []:
        if isinstance(s, dict) and str(s.get("subject_name") or "").strip():
            ident = str(s.get("subject_id") or s["subject_name"]).strip()
            topics.setdefault(ident, Topic(ident, str(s["subject_name"]).strip()))
    return tuple(topics.values())


def _audio(value: Any) -> str:
    """``audio_url``: a list of URLs in the captures, a string in some clients."""
    urls = value if isinstance(value, list) else [value]
    for url in urls:
        if isinstance(url, str) and url.startswith(("https://", "http://")):
            return url
    return ""


def locked(item: dict[str, Any]) -> bool:
    """A VIP telegraph: its text is behind 财联社's paywall."""
    try:
        return int(item.get("type") or 0) == VIP_TYPE
    except (TypeError, ValueError):
        return False


def normalise(item: dict[str, Any]) -> Article:
    """One ``roll_data`` telegraph → an article."""
    ident = str(int(item["id"]))
    content = str(item.get("content") or item.get("brief") or "")
    stocks = [
        StockTag(code, str(s.get("name") or ""), "upstream", _move(s.get("RiseRange")))
        for s in item.get("stock_list") or []
        if isinstance(s, dict) and (code := from_prefixed(str(s.get("StockID") or "")))
    ]
    return Article(
        source=CLS_SOURCE,
        upstream_id=ident,
        title=str(item.get("title") or "").strip() or title_from_text(content),
        published=from_epoch(int(item["ctime"])),
        media=CLS_MEDIA,
        url=f"https://www.cls.cn/detail/{ident}",
        # the telegraph as 财联社 shows it: ``brief`` is a preview — cut at 300 characters
        # (a fifth of the corpus's telegraphs) or the first wording of an edited one
        digest=content.strip(),
        body_html=text_to_html(content),
        stocks=unique_tags(stocks),
        important=str(item.get("level") or "C").upper() in {"A", "B"},
        body_complete=True,
        raw=raw_json(item),
        topics=_topics(item.get("subjects")),
        audio_url=_audio(item.get("audio_url")),
    )


def check(payload: Any, what: str = "get_roll_list") -> list[Any]:
    if not isinstance(payload, dict):
        raise UpstreamFormatError(f"{what}: expected a JSON object", CLS_SOURCE)
    errno = str(payload.get("errno", payload.get("error", "0")))
    if errno != "0":
        reason = _ERRORS.get(errno, f"errno {errno} {payload.get('msg')!r}")
        kind = ShapeChanged if errno in CHANGE_ERRNOS else UpstreamFormatError
        raise kind(f"{what}: {reason}", CLS_SOURCE)
    data = payload.get("data")
    if not isinstance(data, dict):
        raise ShapeChanged(f"{what}: data is missing", CLS_SOURCE)
    items = data.get("roll_data")
    if not isinstance(items, list):
        raise ShapeChanged(f"{what}: roll_data is missing", CLS_SOURCE)
    return items


@dataclass
class ClsTelegraph:
    base: str = "https://www.cls.cn"
    app: str = "CailianpressWeb"
    sv: str = "8.7.9"
    category: str = ""
    """``red`` for 加红 only, ``watch``, ``announcement`` … (empty: all)"""
    page_size: int = 20
    key: str = CLS_SOURCE
    categories: tuple[str, ...] = ()
    """Several categories polled together (``cls.categories``); ``category`` if empty."""
    request_shapes: tuple[Shape, ...] = ()
    """The request shapes in order (default: the built-in ones; see registry)."""
    expect_items: bool = False
    candidates: Candidates = field(init=False)

    def __post_init__(self) -> None:
        self.candidates = Candidates(
            self.key, self.request_shapes or shapes(self.base, self.app, self.sv)
        )

    def wanted(self) -> tuple[str, ...]:
        return self.categories or (self.category,)

    def pages(self, fetcher: Fetcher) -> Iterator[Page]:
        walks = [
            walk(
                self.candidates,
                functools.partial(self._page, fetcher, category),
                0,
                expect_items=self.expect_items,
            )
            for category in self.wanted()
        ]
        if len(walks) == 1:
            yield from walks[0]
            return
        yield from merged_rounds(walks)

    def _page(
        self, fetcher: Fetcher, category: str, shape: Shape, last_time: int
    ) -> tuple[Page, int | None]:
        if shape.paging:
            params: dict[str, str | int] = {
                "app": self.app,
                "last_time": last_time,
                "os": "web",
                "refresh_type": 1,
                "rn": self.page_size,
                "sv": self.sv,
            }
            if category:
                params["category"] = category
        else:
            params = {"app": self.app, "os": "web", "sv": self.sv}
        params = merged(shape, params)
        response = fetcher.get(
            shape.url(), params=signed(params), headers={**REFERER, **shape.headers}
        )
        items = check(decode_json(response, self.key), shape.path.rsplit("/", 1)[-1])
        page = normalise_items(items, normalise, self.key, expected=EXPECTED, locked=locked)
        times = [int(i["ctime"]) for i in items if isinstance(i, dict) and "ctime" in i]
        # items strictly older than last_time come back: the oldest second + 1 loses none
        following = min(times) + 1 if times and len(items) >= self.page_size else None
        return page, following

    def complete(self, fetcher: Fetcher, article: Article) -> Article:
        return article  # telegraphs carry their whole text
