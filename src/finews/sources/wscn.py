"""华尔街见闻 (WSCN) live: ``apiv1/content/lives`` (upstream-apis.md §6.2).

``score`` 2 or more (important, very important) is our ``important``; paging goes back
with ``next_cursor``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from finews.errors import UpstreamFormatError
from finews.fetch import Fetcher, decode_json
from finews.model import Article, from_epoch
from finews.process.clean import text_to_html
from finews.sources.base import Page
from finews.sources.common import normalise_items, paged, plain, raw_json, title_from_text

WSCN_SOURCE = "wscn.live"
WSCN_MEDIA = "华尔街见闻"


def normalise(item: dict[str, Any]) -> Article:
    ident = str(int(item["id"]))
    html_body = str(item.get("content") or "") + str(item.get("content_more") or "")
    text = str(item.get("content_text") or "") or plain(html_body)
    if not text.strip():
        raise ValueError("empty content")
    uri = str(item.get("uri") or f"/livenews/{ident}")
    if uri.startswith("/"):
        uri = "https://wallstreetcn.com" + uri
    return Article(
        source=WSCN_SOURCE,
        upstream_id=ident,
        title=str(item.get("title") or "").strip() or title_from_text(text),
        published=from_epoch(int(item["display_time"])),
        media=WSCN_MEDIA,
        url=uri,
        digest=text.strip(),
        body_html=html_body or text_to_html(text),
        important=int(item.get("score") or 1) >= 2,
        body_complete=True,
        raw=raw_json(item),
    )


@dataclass
class WscnLive:
    base: str = "https://api-one-wscn.awtmt.com"
    channel: str = "global-channel"
    page_size: int = 50
    key: str = WSCN_SOURCE

    def pages(self, fetcher: Fetcher) -> Iterator[Page]:
        return paged(lambda cursor: self._page(fetcher, cursor), "", max_pages=20)

    def _page(self, fetcher: Fetcher, cursor: str) -> tuple[Page, str | None]:
        params: dict[str, str | int] = {
            "channel": self.channel,
            "client": "pc",
            "limit": self.page_size,
        }
        if cursor:
            params["cursor"] = cursor
        response = fetcher.get(f"{self.base.rstrip('/')}/apiv1/content/lives", params=params)
        payload = decode_json(response, self.key)
        if not isinstance(payload, dict) or str(payload.get("code")) != "20000":
            code = payload.get("code") if isinstance(payload, dict) else None
            raise UpstreamFormatError(f"lives: code {code!r}", self.key)
        data = payload.get("data")
        if not isinstance(data, dict):
            raise UpstreamFormatError("lives: data is missing", self.key)
        page = normalise_items(data.get("items"), normalise, self.key)
        following = str(data.get("next_cursor") or "") or None
        return page, following

    def complete(self, fetcher: Fetcher, article: Article) -> Article:
        return article
