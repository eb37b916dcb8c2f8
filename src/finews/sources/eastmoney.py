"""Eastmoney (东方财富): 7×24 fast news, column news, and full text.

Endpoints and shapes: ``shared/docs/upstream-apis.md`` §1–3, summarised in
docs/sources.md.  What is uncertain there (the column list's ``code`` type,
``titleColor`` meaning, the article page's templates) is handled leniently:
unknown fields are ignored, every item is kept verbatim in ``raw``.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import lxml.html

from finews.errors import SourceError, UpstreamFormatError
from finews.fetch import Fetcher, decode_json
from finews.fetch.decode import decode_text
from finews.model import ROLLING_CATEGORY, Article, StockTag, parse_beijing
from finews.process.headline import headline
from finews.process.stockcodes import from_eastmoney
from finews.sources.base import Page
from finews.sources.common import normalise_items
from finews.sources.drift import TEXT_OR_NUMBER, Expected
from finews.sources.shapes import Candidates, Shape, ShapeChanged, walk

log = logging.getLogger(__name__)

FAST_SOURCE = "eastmoney.fast"
COLUMN_SOURCE = "eastmoney.column"
EASTMONEY_MEDIA = "东方财富"
MORE_MARK = "[点击查看全文]"
LIST_FIELDS = "code,showTime,title,mediaName,summary,image,url,uniqueUrl,Np_dst"
VOLATILE = frozenset({"req_trace", "guid", "_"})


FAST_PATH = "/comm/web/getFastNewsList"
COLUMN_PATH = "/comm/web/getNewsByColumns"
WEBLIST = "https://np-weblist.eastmoney.com"

FAST_EXPECTED = Expected(
    required={"code": str, "showTime": str},
    usual={"title": str, "summary": str, "realSort": TEXT_OR_NUMBER, "stockList": list},
    known=frozenset({"image", "pinglun_Num", "share", "titleColor"}),
)
"""Every field of the real captures (tests/data/eastmoney) and of §1."""
COLUMN_EXPECTED = Expected(
    required={"code": TEXT_OR_NUMBER, "showTime": str, "title": str},
    usual={"summary": str},
    known=frozenset({"mediaName", "image", "url", "uniqueUrl", "Np_dst", "titleColor"}),
)


def fast_shapes(list_base: str) -> tuple[Shape, ...]:
    """``getFastNewsList`` on the configured host (np-listapi), then on np-weblist."""
    found = (
        Shape(
            "np-listapi",
            list_base,
            FAST_PATH,
            seen="finews since #3; a-stock-data issue #14 ('still works'), 2026-05-30",
        ),
        Shape(
            "np-weblist",
            WEBLIST,
            FAST_PATH,
            seen="akshare stock_info_global_em (HEAD 0e7db00), 2026-08-21; "
            "dsh-trading PR #12, 2026-08-30",
        ),
    )
    return tuple(s for i, s in enumerate(found) if i == 0 or s.base != list_base)


def column_shapes(list_base: str) -> tuple[Shape, ...]:
    return (
        Shape(
            "np-listapi",
            list_base,
            COLUMN_PATH,
            seen="akshare stock_news_main_cx era clients; KSpider fixtures, 2026-09",
        ),
    )


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
        raise ShapeChanged(
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


def _round_robin(walks: dict[int, Iterator[Page]]) -> Iterator[Page]:
    """One page of each column in turn, so that a long column never starves the others
    of the poll's request budget."""
    while walks:
        for column in list(walks):
            page = next(walks[column], None)
            if page is None:
                del walks[column]
            else:
                yield page


@dataclass
class EastmoneyBase:
    """What both Eastmoney adapters share: hosts, headers, full text."""

    list_base: str = "https://np-listapi.eastmoney.com"
    article_base: str = "https://newsinfo.eastmoney.com"
    page_base: str = "https://finance.eastmoney.com"
    page_size: int = 50
    key: str = ""
    request_shapes: tuple[Shape, ...] = ()
    """The list's request shapes in order (default: the built-in ones on ``list_base``)."""
    expect_items: bool = False
    """The store has items of this source: an empty first page may be a change."""
    candidates: Candidates = field(init=False)

    def __post_init__(self) -> None:
        builtin = fast_shapes if self.key == FAST_SOURCE else column_shapes
        self.candidates = Candidates(self.key, self.request_shapes or builtin(self.list_base))

    def lanes(self) -> list[Any]:
        """One source per column, for a round that catches each column up on its own: a
        round stops paging where it reaches known items, which in the first column would
        otherwise end it before the others were asked (#17)."""
        columns: tuple[int, ...] = getattr(self, "columns", ())
        if len(columns) < 2:
            return [self]
        lanes = [replace(self, columns=(c,)) for c in columns]  # type: ignore[call-arg]
        for lane in lanes:
            lane.candidates = self.candidates  # one request shape for the source, shared
        return lanes

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
        walks = {
            column: iter(
                walk(
                    self.candidates,
                    functools.partial(self._page, fetcher, column),
                    "",
                    expect_items=self.expect_items,
                )
            )
            for column in self.columns
        }
        yield from _round_robin(walks)

    def _page(
        self, fetcher: Fetcher, column: int, shape: Shape, sort_end: str
    ) -> tuple[Page, str | None]:
        response = fetcher.get(
            shape.url(),
            params={
                "client": "web",
                "biz": "web_724",
                "fastColumn": column,
                "sortEnd": sort_end,
                "pageSize": self.page_size,
                "req_trace": _trace(),
                **shape.params,
            },
            headers={"Referer": "https://kuaixun.eastmoney.com/", **shape.headers},
            volatile=VOLATILE,
        )
        data = _check_envelope(decode_json(response, self.key), self.key, "getFastNewsList")
        items = data.get("fastNewsList")
        page = normalise_items(
            items,
            lambda i: normalise_fast(i, self.page_base),
            self.key,
            "code",
            expected=FAST_EXPECTED,
        )
        cursor = str(data.get("sortEnd") or "")
        if not cursor and isinstance(items, list) and items and isinstance(items[-1], dict):
            cursor = str(items[-1].get("realSort") or "")
        return page, cursor or None


@dataclass
class EastmoneyColumns(EastmoneyBase):
    """Column news (``getNewsByColumns``): the old media and market feeds' successor."""

    columns: tuple[int, ...] = (344, 350, 353, 349, 407, 408)
    key: str = COLUMN_SOURCE

    def pages(self, fetcher: Fetcher) -> Iterator[Page]:
        walks = {
            column: iter(
                walk(
                    self.candidates,
                    functools.partial(self._page, fetcher, column),
                    1,
                    expect_items=self.expect_items,
                )
            )
            for column in self.columns
        }
        yield from _round_robin(walks)

    def _page(self, fetcher: Fetcher, column: int, shape: Shape, index: int) -> tuple[Page, int]:
        response = fetcher.get(
            shape.url(),
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
                **shape.params,
            },
            headers={"Referer": "https://finance.eastmoney.com/", **shape.headers},
            volatile=VOLATILE,
        )
        data = _check_envelope(decode_json(response, self.key), self.key, "getNewsByColumns")
        page = normalise_items(
            data.get("list"),
            lambda i: normalise_column(i, self.page_base),
            self.key,
            "code",
            expected=COLUMN_EXPECTED,
        )
        return page, index + 1
