"""新浪财经 7×24: ``zhibo.sina.com.cn/api/zhibo/feed`` (upstream-apis.md §6.1).

``ext`` is JSON inside a string (parsed a second time; a broken one loses the stocks and
the desktop URL, not the item).  ``is_focus`` or a 焦点 tag is ``important``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from finews.errors import UpstreamFormatError
from finews.fetch import Fetcher, decode_json
from finews.model import Article, StockTag, parse_beijing
from finews.process.clean import text_to_html
from finews.process.stockcodes import from_sina
from finews.sources.base import Page
from finews.sources.common import (
    normalise_items,
    paged,
    plain,
    raw_json,
    title_from_text,
    unique_tags,
)
from finews.sources.drift import TEXT_OR_NUMBER, Expected

EXPECTED = Expected(
    required={"id": TEXT_OR_NUMBER, "create_time": str},
    usual={"rich_text": str},
    known=frozenset(
        [
            "zhibo_id",
            "type",
            "multimedia",
            "commentid",
            "compere_id",
            "creator",
            "mender",
            "update_time",
            "is_need_check",
            "check_time",
            "check_status",
            "check_user",
            "is_delete",
            "top_value",
            "is_focus",
            "source_content_id",
            "anchor_image_url",
            "anchor",
            "ext",
            "old_live_cid",
            "tab",
            "is_repeat",
            "tag",
            "like_nums",
            "comment_list",
            "docurl",
            "rich_text_nick_to_url",
            "rich_text_nick_to_routeUri",
            "compere_info",
        ]
    ),
)
"""The fields of upstream-apis.md §6.1 (no capture exists; issue #15)."""
SINA_SOURCE = "sina.zhibo"
SINA_MEDIA = "新浪财经"


def _ext(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value) if isinstance(value, str) and value.strip() else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def normalise(item: dict[str, Any]) -> Article:
    ident = str(int(item["id"]))
    text = plain(str(item.get("rich_text") or ""))
    if not text:
        raise ValueError("empty rich_text")
    ext = _ext(item.get("ext"))
    stocks = [
        StockTag(code, str(s.get("key") or ""), "upstream")
        for s in ext.get("stocks") or []
        if isinstance(s, dict)
        and (code := from_sina(str(s.get("market") or ""), str(s.get("symbol") or "")))
    ]
    tags = {str(t.get("name")) for t in item.get("tag") or [] if isinstance(t, dict)}
    url = str(ext.get("docurl") or item.get("docurl") or "")
    return Article(
        source=SINA_SOURCE,
        upstream_id=ident,
        title=title_from_text(text),
        published=parse_beijing(str(item["create_time"])),
        media=SINA_MEDIA,
        url=url or f"https://finance.sina.com.cn/7x24/?id={ident}",
        digest=text,
        body_html=text_to_html(text),
        stocks=unique_tags(stocks),
        important=bool(int(item.get("is_focus") or 0)) or "焦点" in tags,
        body_complete=True,
        raw=raw_json(item),
    )


@dataclass
class SinaZhibo:
    base: str = "https://zhibo.sina.com.cn"
    zhibo_id: int = 152
    page_size: int = 20
    key: str = SINA_SOURCE

    def pages(self, fetcher: Fetcher) -> Iterator[Page]:
        return paged(lambda page: self._page(fetcher, page), 1, max_pages=20)

    def _page(self, fetcher: Fetcher, number: int) -> tuple[Page, int | None]:
        response = fetcher.get(
            f"{self.base.rstrip('/')}/api/zhibo/feed",
            params={
                "zhibo_id": self.zhibo_id,
                "tag_id": 0,
                "page": number,
                "page_size": self.page_size,
                "pagesize": self.page_size,
                "dire": "f",
                "dpc": 1,
            },
            headers={"Referer": "https://finance.sina.com.cn/7x24/"},
        )
        payload = decode_json(response, self.key)  # also unwraps a JSONP answer
        result = payload.get("result") if isinstance(payload, dict) else None
        if not isinstance(result, dict):
            raise UpstreamFormatError("zhibo feed: result is missing", self.key)
        status = result.get("status") or {}
        if isinstance(status, dict) and str(status.get("code", 0)) != "0":
            raise UpstreamFormatError(f"zhibo feed: status {status!r}", self.key)
        feed = (
            (result.get("data") or {}).get("feed") if isinstance(result.get("data"), dict) else None
        )
        if not isinstance(feed, dict):
            raise UpstreamFormatError("zhibo feed: data.feed is missing", self.key)
        items = feed.get("list")
        page = normalise_items(items, normalise, self.key, expected=EXPECTED)
        info = feed.get("page_info") if isinstance(feed.get("page_info"), dict) else {}
        total = int(info.get("totalPage") or 0) if isinstance(info, dict) else 0
        more = isinstance(items, list) and items and (not total or number < total)
        return page, number + 1 if more else None

    def complete(self, fetcher: Fetcher, article: Article) -> Article:
        return article
