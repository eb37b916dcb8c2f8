"""财联社 (CLS) telegraph: ``/v1/roll/get_roll_list``, signed (shared/docs/upstream-apis.md §5).

The signature: sort every query parameter except ``sign`` by key, URL-encode them as a
query string, then ``md5_hex(sha1_hex(query))``.  The web version string ``sv`` and the
app name change from time to time: both are settings.  A rejected signature (errno 10012)
or a block (50101) is a source error with that reason, so source health shows it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from finews.errors import UpstreamFormatError
from finews.fetch import Fetcher, decode_json
from finews.model import Article, StockTag, from_epoch
from finews.process.clean import text_to_html
from finews.process.stockcodes import from_prefixed
from finews.sources.base import Page
from finews.sources.common import normalise_items, paged, raw_json, title_from_text, unique_tags

CLS_SOURCE = "cls.telegraph"
CLS_MEDIA = "财联社"
_ERRORS = {
    "10012": "signature rejected (errno 10012): the sv/app settings may be outdated",
    "50101": "blocked by the upstream (errno 50101)",
}


def sign(params: Mapping[str, str | int]) -> str:
    """CLS's request signature over every parameter but ``sign``."""
    query = urlencode(sorted((k, str(v)) for k, v in params.items() if k != "sign"))
    return hashlib.md5(hashlib.sha1(query.encode()).hexdigest().encode()).hexdigest()


def signed(params: Mapping[str, str | int]) -> dict[str, str | int]:
    return {**params, "sign": sign(params)}


def normalise(item: dict[str, Any]) -> Article:
    """One ``roll_data`` telegraph → an article."""
    ident = str(int(item["id"]))
    content = str(item.get("content") or item.get("brief") or "")
    brief = str(item.get("brief") or "")
    stocks = [
        StockTag(code, str(s.get("name") or ""), "upstream")
        for s in item.get("stock_list") or []
        if isinstance(s, dict) and (code := from_prefixed(str(s.get("StockID") or "")))
    ]
    return Article(
        source=CLS_SOURCE,
        upstream_id=ident,
        title=str(item.get("title") or "").strip() or title_from_text(content or brief),
        published=from_epoch(int(item["ctime"])),
        media=CLS_MEDIA,
        url=f"https://www.cls.cn/detail/{ident}",
        digest=brief.strip(),
        body_html=text_to_html(content),
        stocks=unique_tags(stocks),
        important=str(item.get("level") or "C").upper() in {"A", "B"},
        body_complete=True,
        raw=raw_json(item),
    )


def check(payload: Any) -> list[Any]:
    if not isinstance(payload, dict):
        raise UpstreamFormatError("get_roll_list: expected a JSON object", CLS_SOURCE)
    errno = str(payload.get("errno", payload.get("error", "0")))
    if errno != "0":
        reason = _ERRORS.get(errno, f"errno {errno} {payload.get('msg')!r}")
        raise UpstreamFormatError(f"get_roll_list: {reason}", CLS_SOURCE)
    data = payload.get("data")
    if not isinstance(data, dict):
        raise UpstreamFormatError("get_roll_list: data is missing", CLS_SOURCE)
    items = data.get("roll_data")
    if not isinstance(items, list):
        raise UpstreamFormatError("get_roll_list: roll_data is missing", CLS_SOURCE)
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

    def pages(self, fetcher: Fetcher) -> Iterator[Page]:
        return paged(lambda cursor: self._page(fetcher, cursor), 0)

    def _page(self, fetcher: Fetcher, last_time: int) -> tuple[Page, int | None]:
        params: dict[str, str | int] = {
            "app": self.app,
            "last_time": last_time,
            "os": "web",
            "refresh_type": 1,
            "rn": self.page_size,
            "sv": self.sv,
        }
        if self.category:
            params["category"] = self.category
        response = fetcher.get(
            f"{self.base.rstrip('/')}/v1/roll/get_roll_list",
            params=signed(params),
            headers={"Referer": "https://www.cls.cn/telegraph"},
        )
        items = check(decode_json(response, self.key))
        page = normalise_items(items, normalise, self.key)
        times = [int(i["ctime"]) for i in items if isinstance(i, dict) and "ctime" in i]
        # items strictly older than last_time come back: the oldest second + 1 loses none
        following = min(times) + 1 if times and len(items) >= self.page_size else None
        return page, following

    def complete(self, fetcher: Fetcher, article: Article) -> Article:
        return article  # telegraphs carry their whole text
