"""金十数据 (Jin10) flash: ``flash-api.jin10.com/get_flash_list`` (upstream-apis.md §6.3).

Needs an ``x-app-id`` header (a setting: it changes).  Locked VIP items (no content) and
economic-data rows (``type`` 1) are not articles: they are skipped and counted, never
mixed into the news.  Paging goes back with ``max_time``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from finews.errors import UpstreamFormatError
from finews.fetch import Fetcher, decode_json
from finews.model import Article, parse_beijing
from finews.process.clean import text_to_html
from finews.sources.base import Page
from finews.sources.common import normalise_items, paged, plain, raw_json, title_from_text

JIN10_SOURCE = "jin10.flash"
JIN10_MEDIA = "金十数据"


def normalise(item: dict[str, Any]) -> Article | None:
    ident = str(item["id"]).strip()
    if int(item.get("type") or 0) != 0:
        return None  # an economic-data release, not news
    data = item.get("data") if isinstance(item.get("data"), dict) else {}
    assert isinstance(data, dict)
    text = plain(str(data.get("content") or ""))
    if not text or data.get("lock"):
        return None  # locked VIP item
    return Article(
        source=JIN10_SOURCE,
        upstream_id=ident,
        title=str(data.get("title") or "").strip() or title_from_text(text),
        published=parse_beijing(str(item["time"])),
        media=JIN10_MEDIA,
        url=str(data.get("link") or "") or f"https://flash.jin10.com/detail/{ident}",
        digest=text,
        body_html=text_to_html(text),
        important=bool(int(item.get("important") or 0)),
        body_complete=True,
        raw=raw_json(item),
    )


@dataclass
class Jin10Flash:
    base: str = "https://flash-api.jin10.com"
    app_id: str = "bVBF4FyRTn5NJF5n"
    version: str = "1.0.0"
    key: str = JIN10_SOURCE

    def pages(self, fetcher: Fetcher) -> Iterator[Page]:
        return paged(lambda cursor: self._page(fetcher, cursor), "", max_pages=20)

    def _page(self, fetcher: Fetcher, max_time: str) -> tuple[Page, str | None]:
        params: dict[str, str | int] = {"channel": -8200, "vip": 1}
        if max_time:
            params["max_time"] = max_time
        response = fetcher.get(
            f"{self.base.rstrip('/')}/get_flash_list",
            params=params,
            headers={
                "x-app-id": self.app_id,
                "x-version": self.version,
                "Referer": "https://www.jin10.com/",
            },
        )
        payload = decode_json(response, self.key)
        if not isinstance(payload, dict) or str(payload.get("status")) != "200":
            status = payload.get("status") if isinstance(payload, dict) else None
            raise UpstreamFormatError(f"get_flash_list: status {status!r}", self.key)
        items = payload.get("data")
        page = normalise_items(items, normalise, self.key)
        times = [str(i.get("time")) for i in items or [] if isinstance(i, dict) and i.get("time")]
        return page, min(times) if times else None

    def complete(self, fetcher: Fetcher, article: Article) -> Article:
        return article
