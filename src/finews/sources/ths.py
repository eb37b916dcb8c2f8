"""同花顺 (10jqka) 7×24: ``news.10jqka.com.cn/tapp/news/push/stock/`` (upstream-apis.md §6.4).

Items carry ``id``/``seq``, ``title``, ``digest``, ``ctime`` (epoch seconds, as a string),
``color`` (``"2"``: highlighted, our ``important``) and ``stock`` entries whose
``stockMarket`` says the exchange (17 Shanghai, 33 Shenzhen, 151 Beijing, 177 Hong Kong).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from finews.errors import UpstreamFormatError
from finews.fetch import Fetcher, decode_json
from finews.model import Article, StockTag, from_epoch
from finews.process.clean import text_to_html
from finews.sources.base import Page
from finews.sources.common import normalise_items, paged, raw_json, title_from_text, unique_tags
from finews.sources.drift import TEXT_OR_NUMBER, Expected

EXPECTED = Expected(
    required={"ctime": TEXT_OR_NUMBER},
    usual={"seq": TEXT_OR_NUMBER, "title": str, "digest": str, "stock": list},
    known=frozenset(
        [
            "appUrl",
            "color",
            "field",
            "id",
            "import",
            "nature",
            "picUrl",
            "rtime",
            "shareUrl",
            "short",
            "source",
            "tag",
            "tagInfo",
            "tags",
            "url",
        ]
    ),
)
"""Every field of the 200 real captures (data/demo/ths.jsonl.gz); issue #15."""

THS_SOURCE = "ths.flash"
THS_MEDIA = "同花顺"
MARKETS = {"17": "SH", "33": "SZ", "151": "BJ"}


def _stock(entry: Any) -> StockTag | None:
    if not isinstance(entry, dict):
        return None
    code = str(entry.get("stockCode") or "").strip()
    market = str(entry.get("stockMarket") or "")
    name = str(entry.get("name") or "")
    if market in MARKETS and len(code) == 6 and code.isdigit():
        return StockTag(f"{code}.{MARKETS[market]}", name, "upstream")
    if market == "177" and code.upper().startswith("HK") and code[2:].isdigit():
        return StockTag(f"{code[2:].zfill(5)}.HK", name, "upstream")
    return None


def normalise(item: dict[str, Any]) -> Article:
    seq = str(item.get("seq") or item["id"])
    digest = str(item.get("digest") or item.get("short") or "").strip()
    stocks = [s for s in (_stock(e) for e in item.get("stock") or []) if s]
    return Article(
        source=THS_SOURCE,
        upstream_id=seq,
        title=str(item.get("title") or "").strip() or title_from_text(digest),
        published=from_epoch(int(item["ctime"])),
        media=THS_MEDIA,
        url=str(item.get("url") or f"https://news.10jqka.com.cn/tapp/news/share/{seq}/"),
        digest=digest,
        body_html=text_to_html(digest),
        stocks=unique_tags(stocks),
        important=str(item.get("color") or "1") == "2",
        body_complete=True,
        raw=raw_json(item),
    )


@dataclass
class ThsFlash:
    base: str = "https://news.10jqka.com.cn"
    page_size: int = 50
    key: str = THS_SOURCE

    def pages(self, fetcher: Fetcher) -> Iterator[Page]:
        return paged(lambda page: self._page(fetcher, page), 1, max_pages=20)

    def _page(self, fetcher: Fetcher, number: int) -> tuple[Page, int | None]:
        response = fetcher.get(
            f"{self.base.rstrip('/')}/tapp/news/push/stock/",
            params={"page": number, "tag": "", "track": "website", "pagesize": self.page_size},
            headers={"Referer": "https://news.10jqka.com.cn/realtimenews.html"},
        )
        payload = decode_json(response, self.key)
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict):
            raise UpstreamFormatError("push/stock: data is missing", self.key)
        items = data.get("list")
        page = normalise_items(items, normalise, self.key, expected=EXPECTED)
        return page, number + 1 if isinstance(items, list) and items else None

    def complete(self, fetcher: Fetcher, article: Article) -> Article:
        return article
