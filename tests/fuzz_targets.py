"""Fuzz targets shared by the test suite (a few hundred inputs each) and bench/fuzz.py
(100,000 each): every parser that reads third-party or user input, fed generated input.

The property everywhere: the only exceptions are finews' own typed errors (a bad item is
skipped with a reason, a bad page or file is a ``FinewsError``), never a crash; and the
cleaner's output never carries script.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from finews.errors import FinewsError
from finews.fetch.decode import decode_json, unwrap_jsonp
from finews.fetch.http import Response
from finews.jekyll.read import parse_post
from finews.process.clean import clean_body
from finews.search.query import parse
from finews.sources import cls, eastmoney, jin10, sina, ths, wscn
from finews.sources.common import normalise_items
from finews.sources.feeds import parse_json_feed, parse_xml_feed, read_opml
from htmlcheck import dangerous

# -- strategies --------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(["", "0", "1", "2", "A", "B", "sh600519", "2026-06-16 10:00:00", "null"])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)
FIELDS = [
    "id", "code", "seq", "title", "content", "brief", "digest", "summary", "ctime", "time",
    "showTime", "create_time", "display_time", "level", "color", "stock_list", "stockList",
    "stock", "ext", "rich_text", "tag", "is_focus", "score", "uri", "type", "important", "data",
    "mediaName", "uniqueUrl", "titleColor", "realSort", "url", "content_text", "lock",
]  # fmt: skip
upstream_items = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=12) | json_values

html_fragments = st.lists(
    st.sampled_from(
        [
            "<p>",
            "</p>",
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            '<a href="javascript:alert(1)">x</a>',
            "<svg onload=alert(1)>",
            "<iframe src=x>",
            "<style>body{}</style>",
            '<div style="background:url(javascript:alert(1))">',
            "<!--",
            "-->",
            "<![CDATA[",
            "]]>",
            "&#x3C;script&#x3E;",
            "<ScRiPt>",
            "<",
            ">",
            '"',
            "'",
            "<table><tr><td>",
            "<math><mi xlink:href=javascript:alert(1)>",
            "正文",
            "财联社",
            "\x00",
            "\ufeff",
            "<!-- EM_StockImg_Start -->",
            '<span id="stock_1.600519"><a data-code="1,600519">茅台</a></span>',
            '<a href="//evil.example/x" onclick="x()">',
            "<base href=//evil>",
            "<form>",
            "<object data=x>",
            "<embed src=x>",
            "<meta http-equiv=refresh content=0;url=x>",
        ]
    )
    | st.text(max_size=20),
    max_size=30,
).map("".join)

jekyll_texts = st.lists(
    st.sampled_from(
        [
            "---\n",
            "layout: post\n",
            'title: "x"\n',
            "title: 财联社\n",
            "date: 2021-12-08 12:00:00 +0800\n",
            "date: not a date\n",
            "categories: emnews\n",
            "tags: [财联社新闻]\n",
            "> 摘要\n",
            "<p>正文</p>\n",
            "<http://finance.eastmoney.com/a/1.html>\n",
            "[返回首页](//finews.withounder.com/)\n",
            ": : :\n",
            "- [\n",
            "\t\n",
            "\x00",
        ]
    )
    | st.text(max_size=30),
    max_size=20,
).map("".join)


# -- targets: each takes one generated value and returns nothing; they raise only on a bug --

ADAPTERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "cls": cls.normalise,
    "ths": ths.normalise,
    "sina": sina.normalise,
    "wscn": wscn.normalise,
    "jin10": jin10.normalise,
    "eastmoney.fast": lambda i: eastmoney.normalise_fast(i, "https://finance.eastmoney.com"),
    "eastmoney.column": lambda i: eastmoney.normalise_column(i, "https://finance.eastmoney.com"),
}


def source_items(items: list[Any]) -> None:
    for name, normalise in ADAPTERS.items():
        page = normalise_items(items, normalise, name)
        assert len(page.articles) + len(page.skipped) == len(items)
        for article in page.articles:
            assert article.upstream_id and isinstance(article.title, str)


def source_envelopes(payload: Any) -> None:
    with contextlib.suppress(FinewsError):
        cls.check(payload)


def jsonp(text: str) -> None:
    unwrap_jsonp(text)
    response = Response("http://x/", 200, {"content-type": "application/javascript"}, text.encode())
    with contextlib.suppress(FinewsError):
        decode_json(response, "fuzz")


def raw_bytes(data: bytes) -> None:
    response = Response("http://x/", 200, {"content-type": "application/json"}, data)
    with contextlib.suppress(FinewsError):
        decode_json(response, "fuzz")


def cleaner(html: str) -> None:
    out = clean_body(html, "https://finance.eastmoney.com/a/1.html")
    assert dangerous(out) == [], out


def jekyll(text: str) -> None:
    with contextlib.suppress(FinewsError):
        parse_post(text, "fuzz.md")


def feeds(data: bytes) -> None:
    with contextlib.suppress(FinewsError):
        parse_xml_feed(data, "feed.1", "", 0)
    with contextlib.suppress(FinewsError):
        read_opml(data)
    try:
        payload = json.loads(data.decode("utf-8", "replace"))
    except ValueError:
        return
    with contextlib.suppress(FinewsError):
        parse_json_feed(payload, "feed.1", "", 0)


_FTS = sqlite3.connect(":memory:", check_same_thread=False)
_FTS.execute("CREATE VIRTUAL TABLE t USING fts5(title, body, tags)")
_FTS.execute("INSERT INTO t VALUES ('西安银行 抗疫', '银行 600928 nvidia', '600928 SH')")


def search_query(text: str) -> None:
    expression = parse(text).fts()
    if expression is not None:
        _FTS.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall()


TARGETS: dict[str, tuple[st.SearchStrategy[Any], Callable[[Any], None]]] = {
    "source items": (st.lists(upstream_items, max_size=6), source_items),
    "source envelopes": (json_values, source_envelopes),
    "jsonp": (
        st.one_of(
            st.text(max_size=80),
            st.builds(
                lambda name, body: f"{name}({body});",
                st.text(max_size=8),
                json_values.map(lambda v: json.dumps(v)),
            ),
            st.builds(lambda body: f"try{{cb({body});}}catch(e){{}};", st.text(max_size=60)),
        ),
        jsonp,
    ),
    "raw bytes": (st.binary(max_size=200), raw_bytes),
    "html cleaner": (html_fragments, cleaner),
    "jekyll posts": (jekyll_texts, jekyll),
    "feeds and opml": (
        st.one_of(
            st.binary(max_size=200),
            html_fragments.map(
                lambda s: f"<rss><channel><item>{s}</item></channel></rss>".encode()
            ),
            json_values.map(lambda v: json.dumps({"items": [v]}).encode()),
        ),
        feeds,
    ),
    "search queries": (
        st.text(
            alphabet=st.sampled_from(list("\"'*()-:^{}[]+ ORNEANDT银行西安抗疫6009280\\\x00😀　")),
            max_size=30,
        )
        | st.text(max_size=30),
        search_query,
    ),
}
