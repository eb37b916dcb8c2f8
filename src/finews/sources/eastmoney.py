"""Eastmoney (东方财富): 7×24 fast news, column news, and full text.

Endpoints and shapes: ``shared/docs/upstream-apis.md`` §1–3, summarised in
docs/sources.md.  What is uncertain there (the column list's ``code`` type,
``titleColor`` meaning, the article page's templates) is handled leniently:
unknown fields are ignored, every item is kept verbatim in ``raw``.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import lxml.html

from finews.errors import SourceError, UpstreamFormatError
from finews.fetch import Fetcher, decode_json
from finews.fetch.decode import decode_text
from finews.model import ROLLING_CATEGORY, Article, StockTag, parse_beijing
from finews.process.headline import headline
from finews.process.stockcodes import from_eastmoney
from finews.sources.base import Page

log = logging.getLogger(__name__)

FAST_SOURCE = "eastmoney.fast"
COLUMN_SOURCE = "eastmoney.column"
EASTMONEY_MEDIA = "东方财富"
MORE_MARK = "[点击查看全文]"
LIST_FIELDS = "code,showTime,title,mediaName,summary,image,url,uniqueUrl,Np_dst"
VOLATILE = frozenset({"req_trace", "guid", "_"})


def _trace() -> str:
    return str(int(time.time() * 1000))


def article_url(page_base: str, code: str) -> str:
    return f"{page_base.rstrip('/')}/a/{code}.html"


def _raw(item: dict[str, Any], **extra: Any) -> str:
    return json.dumps({"item": item, **extra}, ensure_ascii=False)


def _stocks(values: Any) -> tuple[StockTag, ...]:
    tags: dict[str, StockTag] = {}
    for value in values if isinstance(values, list) else []:
        code = from_eastmoney(str(value))
        if code and code not in tags:
            tags[code] = StockTag(code, "", "upstream")
    return tuple(tags.values())


def _check_envelope(payload: Any, source: str, what: str) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise UpstreamFormatError(f"{what}: expected a JSON object", source)
    data = payload.get("data")
    if data is None:
        message = payload.get("message") or payload.get("msg") or ""
        raise UpstreamFormatError(
            f"{what}: data is null (code {payload.get('code')!r} {message!r}; "
            "missing sortEnd/req_trace, or the API changed)",
            source,
        )
    if str(payload.get("code", "1")) not in {"1", "0"}:
        raise UpstreamFormatError(f"{what}: error code {payload.get('code')!r}", source)
    if not isinstance(data, dict):
        raise UpstreamFormatError(f"{what}: data is not an object", source)
    return data


def normalise_fast(item: dict[str, Any], page_base: str) -> Article:
    """One ``fastNewsList`` item → an article (rolling news, 东方财富)."""
    code = str(item["code"]).strip()
    summary = str(item.get("summary") or "")
    digest = summary.rstrip().removesuffix(MORE_MARK).rstrip()
    return Article(
        source=FAST_SOURCE,
        upstream_id=code,
        title=str(item.get("title") or "").strip() or headline(digest),
        published=parse_beijing(str(item["showTime"])),
        media=EASTMONEY_MEDIA,
        url=article_url(page_base, code),
        digest=digest,
        body_html="",
        stocks=_stocks(item.get("stockList")),
        important=bool(item.get("titleColor")),
        category=ROLLING_CATEGORY,
        body_complete=False,
        raw=_raw(item),
    )


def normalise_column(item: dict[str, Any], page_base: str) -> Article:
    """One ``getNewsByColumns`` item → an article (media news)."""
    code = str(item["code"]).strip()
    url = str(item.get("uniqueUrl") or "") or article_url(page_base, code)
    return Article(
        source=COLUMN_SOURCE,
        upstream_id=code,
        title=str(item["title"]).strip(),
        published=parse_beijing(str(item["showTime"])),
        media=str(item.get("mediaName") or "").strip() or EASTMONEY_MEDIA,
        url=url,
        digest=str(item.get("summary") or "").strip(),
        body_html="",
        body_complete=False,
        raw=_raw(item),
    )


def _normalise_all(items: Any, normalise: Callable[[dict[str, Any]], Article], source: str) -> Page:
    if not isinstance(items, list):
        raise UpstreamFormatError("the item list is missing or not a list", source)
    articles: list[Article] = []
    skipped: list[tuple[str, str]] = []
    for position, item in enumerate(items):
        ident = str(item.get("code", f"#{position}")) if isinstance(item, dict) else f"#{position}"
        try:
            if not isinstance(item, dict):
                raise TypeError("item is not an object")
            articles.append(normalise(item))
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            reason = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
            log.info("%s: skipped item %s: %s", source, ident, reason)
            skipped.append((ident, reason))
    return Page(tuple(articles), tuple(skipped))


# -- full text ----------------------------------------------------------------


def body_from_article_api(payload: Any, source: str) -> dict[str, str]:
    """``newsinfo…/kuaixun/v2/api/article/<code>`` → title, media, body, guidance."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise UpstreamFormatError("article API: data is missing or null", source)
    data = payload["data"]
    body = data.get("Art_Content")
    if not isinstance(body, str) or not body.strip():
        raise UpstreamFormatError("article API: no Art_Content", source)
    return {
        "body": body,
        "title": str(data.get("Art_Title") or ""),
        "media": str(data.get("Art_Media_Name") or ""),
        "guidance": str(data.get("Art_Guidance") or ""),
    }


def body_from_article_page(html: bytes, source: str) -> dict[str, str]:
    """``finance.eastmoney.com/a/<code>.html`` → ``div#ContentBody`` (both templates)."""
    try:
        doc = lxml.html.fromstring(decode_text(html))
    except (lxml.etree.ParserError, ValueError) as exc:
        raise UpstreamFormatError(f"article page: unparseable HTML ({exc})", source) from None
    nodes = doc.xpath('//div[@id="ContentBody"]') or doc.xpath(
        '//div[contains(@class,"content_text")]'
    )
    if not nodes:
        raise UpstreamFormatError("article page: no div#ContentBody", source)
    node = nodes[0]
    body = (node.text or "").strip() + "".join(
        lxml.html.tostring(child, encoding="unicode") for child in node
    )
    title_nodes = doc.xpath(
        '//div[contains(@class,"contentwrap")]//div[@class="title"]'
    ) or doc.xpath('//div[contains(@class,"newsContent")]//h1')
    media = ""
    for div in doc.xpath('//div[@class="infos"]/div | //div[@class="source"]'):
        text = div.text_content().strip()
        if "来源" in text:
            media = re.sub(r"^.*?来源[:：]\s*", "", text).strip()
            break
    return {
        "body": body.strip(),
        "title": title_nodes[0].text_content().strip() if title_nodes else "",
        "media": media,
        "guidance": "",
    }


@dataclass
class EastmoneyBase:
    """What both Eastmoney adapters share: hosts, headers, full text."""

    list_base: str = "https://np-listapi.eastmoney.com"
    article_base: str = "https://newsinfo.eastmoney.com"
    page_base: str = "https://finance.eastmoney.com"
    page_size: int = 50
    key: str = ""

    def complete(self, fetcher: Fetcher, article: Article) -> Article:
        """Full text through the article JSON API, the article page as fallback."""
        code = article.upstream_id
        errors: list[str] = []
        detail: dict[str, str] | None = None
        try:
            response = fetcher.get(
                f"{self.article_base.rstrip('/')}/kuaixun/v2/api/article/{code}",
                params={"guid": _trace()},
                headers={"Referer": "https://finance.eastmoney.com/"},
                volatile=VOLATILE,
            )
            detail = body_from_article_api(decode_json(response, self.key), self.key)
        except SourceError as exc:
            errors.append(f"article API: {exc}")
        if detail is None:
            try:
                response = fetcher.get(
                    article_url(self.page_base, code),
                    headers={"Referer": "https://finance.eastmoney.com/"},
                )
                detail = body_from_article_page(response.content, self.key)
            except SourceError as exc:
                errors.append(f"article page: {exc}")
        if detail is None:
            raise SourceError(f"no full text for {code}: " + "; ".join(errors), self.key)
        media = article.media
        if self.key == FAST_SOURCE and detail["media"]:
            media = detail["media"]
        return replace(
            article,
            body_html=detail["body"],
            body_complete=True,
            media=media or detail["media"] or EASTMONEY_MEDIA,
            digest=article.digest or detail["guidance"],
            title=article.title or detail["title"],
        )


@dataclass
class EastmoneyFast(EastmoneyBase):
    """7×24 fast news (``getFastNewsList``), paged backwards with ``sortEnd``."""

    columns: tuple[int, ...] = (102,)
    key: str = FAST_SOURCE

    def pages(self, fetcher: Fetcher) -> Iterator[Page]:
        """Pages of every configured column, interleaved newest-first per column."""
        cursors: dict[int, str] = {column: "" for column in self.columns}
        while cursors:
            for column in list(cursors):
                page, cursor = self._page(fetcher, column, cursors[column])
                if (not page.articles and not page.skipped) or cursor in {"", cursors[column]}:
                    del cursors[column]
                else:
                    cursors[column] = cursor
                yield page

    def _page(self, fetcher: Fetcher, column: int, sort_end: str) -> tuple[Page, str]:
        response = fetcher.get(
            f"{self.list_base.rstrip('/')}/comm/web/getFastNewsList",
            params={
                "client": "web",
                "biz": "web_724",
                "fastColumn": column,
                "sortEnd": sort_end,
                "pageSize": self.page_size,
                "req_trace": _trace(),
            },
            headers={"Referer": "https://kuaixun.eastmoney.com/"},
            volatile=VOLATILE,
        )
        data = _check_envelope(decode_json(response, self.key), self.key, "getFastNewsList")
        items = data.get("fastNewsList")
        page = _normalise_all(items, lambda i: normalise_fast(i, self.page_base), self.key)
        cursor = str(data.get("sortEnd") or "")
        if not cursor and isinstance(items, list) and items and isinstance(items[-1], dict):
            cursor = str(items[-1].get("realSort") or "")
        return page, cursor


@dataclass
class EastmoneyColumns(EastmoneyBase):
    """Column news (``getNewsByColumns``): the old media and market feeds' successor."""

    columns: tuple[int, ...] = (344, 350, 353, 349, 407, 408)
    key: str = COLUMN_SOURCE

    def pages(self, fetcher: Fetcher) -> Iterator[Page]:
        indexes: dict[int, int] = {column: 1 for column in self.columns}
        while indexes:
            for column in list(indexes):
                page = self._page(fetcher, column, indexes[column])
                if not page.articles and not page.skipped:
                    del indexes[column]
                else:
                    indexes[column] += 1
                yield page

    def _page(self, fetcher: Fetcher, column: int, index: int) -> Page:
        response = fetcher.get(
            f"{self.list_base.rstrip('/')}/comm/web/getNewsByColumns",
            params={
                "client": "web",
                "biz": "web_news_col",
                "column": column,
                "order": 1,
                "needInteractData": 0,
                "page_index": index,
                "page_size": self.page_size,
                "req_trace": _trace(),
                "fields": LIST_FIELDS,
            },
            headers={"Referer": "https://finance.eastmoney.com/"},
            volatile=VOLATILE,
        )
        data = _check_envelope(decode_json(response, self.key), self.key, "getNewsByColumns")
        return _normalise_all(
            data.get("list"), lambda i: normalise_column(i, self.page_base), self.key
        )
