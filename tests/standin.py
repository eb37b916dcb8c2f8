"""A local stand-in for Eastmoney's endpoints, served on 127.0.0.1 by pytest-httpserver.

It serves real captured 7×24 items and real post bodies inside HAND-MADE
envelopes that follow the documented shapes (shared/docs/upstream-apis.md §1–3),
and misbehaves on command (:meth:`EastmoneyStandin.fault`).
"""

from __future__ import annotations

import html
import json
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug import Request, Response

from finews.jekyll.read import parse_post
from finews.model import Article

DATA = Path(__file__).parent / "data"
HOSTS = (
    "np-listapi.eastmoney.com",
    "np-weblist.eastmoney.com",  # the list's second request shape (#15)
    "newsinfo.eastmoney.com",
    "finance.eastmoney.com",
)


def real_fast_items() -> list[dict[str, Any]]:
    lines = (DATA / "eastmoney" / "fast_2026-06-16.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def real_posts() -> list[Article]:
    posts = []
    for path in sorted((DATA / "jekyll" / "real").rglob("*")):
        if path.is_file():
            try:
                posts.append(parse_post(path.read_text(encoding="utf-8"), str(path)))
            except Exception:  # the one real post with an empty title
                continue
    return posts


@dataclass
class EastmoneyStandin:
    fast: list[dict[str, Any]] = field(default_factory=real_fast_items)
    columns: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    articles: dict[str, dict[str, Any]] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)
    faults: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    log: list[str] = field(default_factory=list)
    """Paths requested, in order (query included)."""
    arrivals: list[float] = field(default_factory=list)
    """time.monotonic() of every request, in arrival order."""

    # -- content --------------------------------------------------------------
    def add_column_posts(self, column: int, posts: Iterable[Article]) -> None:
        """Column items and article JSON built from real posts (hand-made envelope)."""
        for post in posts:
            code = post.upstream_id
            self.columns.setdefault(column, []).append(
                {
                    "code": code,
                    "showTime": post.published.strftime("%Y-%m-%d %H:%M:%S"),
                    "title": post.title,
                    "mediaName": post.media,
                    "summary": post.digest,
                    "image": "",
                    "url": f"http://finance.eastmoney.com/news/1{column},{code}.html",
                    "uniqueUrl": f"http://finance.eastmoney.com/a/{code}.html",
                    "Np_dst": "CMS",
                }
            )
            self.articles[code] = {
                "Art_Title": post.title,
                "Art_Guidance": post.digest,
                "Art_Media_Name": post.media,
                "Art_ShowTime": post.published.strftime("%Y/%m/%d %H:%M:%S"),
                "Art_Keyword": "",
                "Art_Content": post.body_html or f"<p>　　{html.escape(post.digest)}</p>",
            }
        self.columns[column].sort(key=lambda i: i["showTime"], reverse=True)

    def next_fast_item(self, suffix: str, title: str, body_html: str) -> dict[str, Any]:
        """A 7×24 item newer than the newest, stamped now, with its article JSON ready
        (hand-made text on a real item's envelope); the caller puts it on the list (at
        ``fast[0]``) when the test wants it released."""
        from datetime import datetime

        from finews.model import BEIJING

        newest = self.fast[0]
        item = {
            **newest,
            "code": newest["code"] + suffix,
            "realSort": str(int(newest["realSort"]) + 1),
            "showTime": datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            "title": title,
            "summary": "列表里的摘要。[点击查看全文]",
        }
        self.articles[item["code"]] = {
            "Art_Title": title,
            "Art_Guidance": "",
            "Art_Media_Name": "东方财富网",
            "Art_ShowTime": item["showTime"].replace("-", "/"),
            "Art_Content": body_html,
        }
        return item

    def add_fast_articles(self) -> None:
        """Article JSON for every 7×24 item, its body being the item's real summary."""
        for item in self.fast:
            self.articles[item["code"]] = {
                "Art_Title": item["title"],
                "Art_Guidance": "",
                "Art_Media_Name": "东方财富网",
                "Art_ShowTime": item["showTime"].replace("-", "/"),
                "Art_Content": f"<p>　　{html.escape(item['summary'])}</p>",
            }

    def page_html(self, code: str, body: str, *, old: bool = False) -> None:
        """An article page in the new or the old template (hand-made, documented shape)."""
        title = self.articles.get(code, {}).get("Art_Title", "标题")
        if old:
            inner = (
                f'<div class="newsContent"><h1>{html.escape(title)}</h1>'
                '<div class="time">2021年12月29日 21:45</div><div class="source">来源：财联社</div>'
                f'<div id="ContentBody" class="Body">{body}</div></div>'
            )
        else:
            inner = (
                f'<div class="contentwrap"><div class="title">{html.escape(title)}</div>'
                '<div class="tipbox"><div class="infos">'
                '<div class="item">2021年12月29日 21:45</div>'
                '<div class="item">来源：<a>财联社</a></div></div></div>'
                f'<div id="ContentBody" class="txtinfos">{body}</div></div>'
            )
        self.pages[code] = (
            f"<html><head><title>{html.escape(title)} _ 东方财富网</title></head>"
            f"<body>{inner}</body></html>"
        )

    def fault(self, path_prefix: str, *behaviours: str) -> None:
        """Queue behaviours for the next requests whose path starts with ``path_prefix``:
        ``500``, ``503``, ``429:<seconds>``, ``slow:<seconds>``, ``truncated``, ``html``,
        ``empty``, ``null``, ``huge``, ``garbage``."""
        self.faults[path_prefix].extend(behaviours)

    # -- serving --------------------------------------------------------------
    def __call__(self, request: Request) -> Response:
        self.log.append(request.full_path)
        self.arrivals.append(time.monotonic())
        for prefix, queue in self.faults.items():
            if request.path.startswith(prefix) and queue:
                response = self._misbehave(queue.pop(0), request)
                if response is not None:
                    return response
                break
        return self._serve(request)

    def _serve(self, request: Request) -> Response:
        path = request.path
        if path.endswith("/comm/web/getFastNewsList"):
            return self._fast(request)
        if path.endswith("/comm/web/getNewsByColumns"):
            return self._column(request)
        if "/kuaixun/v2/api/article/" in path:
            code = path.rsplit("/", 1)[-1]
            return _json({"data": self.articles.get(code)})
        if path.startswith("/a/") and path.endswith(".html"):
            code = path[3:-5]
            if code in self.pages:
                return Response(self.pages[code], content_type="text/html; charset=utf-8")
            return Response("not found", status=404)
        return Response("no such endpoint", status=404)

    def _misbehave(self, behaviour: str, request: Request) -> Response | None:
        kind, _, arg = behaviour.partition(":")
        if kind in {"500", "502", "503"}:
            return Response("upstream error", status=int(kind))
        if kind == "429":
            return Response("slow down", status=429, headers={"Retry-After": arg or "1"})
        if kind == "slow":
            time.sleep(float(arg))
            return None
        if kind == "truncated":
            body = self._serve(request).get_data()
            return Response(body[: len(body) // 2], content_type="application/json")
        if kind == "html":
            return Response("<html><body>访问受限</body></html>", content_type="text/html")
        if kind == "empty":
            return Response("", content_type="application/json")
        if kind == "null":
            return _json({"code": "1", "message": "success", "data": None})
        if kind == "huge":
            body = b"[" + b"0," * (10 * 1024 * 1024) + b"0]"  # 20 MB
            return Response(body, content_type="application/json")
        if kind == "garbage":
            return Response(b"\xff\xfe\x00garbage{{{", content_type="application/json")
        raise ValueError(behaviour)

    def _fast(self, request: Request) -> Response:
        args = request.args
        if "sortEnd" not in args or "req_trace" not in args:
            return _json({"code": "1", "message": "success", "data": None})
        size = int(args.get("pageSize", "20"))
        cursor = args.get("sortEnd", "")
        items = [i for i in self.fast if not cursor or int(i["realSort"]) < int(cursor)][:size]
        sort_end = items[-1]["realSort"] if items else ""
        return _json(
            {
                "code": "1",
                "message": "success",
                "data": {"fastNewsList": items, "sortEnd": sort_end},
            }
        )

    def _column(self, request: Request) -> Response:
        args = request.args
        column = int(args.get("column", "0"))
        index = int(args.get("page_index", "1"))
        size = int(args.get("page_size", "20"))
        items = self.columns.get(column, [])
        page = items[(index - 1) * size : index * size]
        return _json(
            {
                "code": 1,
                "message": "success",
                "data": {
                    "page_index": index,
                    "page_size": size,
                    "totle_hits": len(items),
                    "list": page,
                },
            }
        )


def _json(payload: Any) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), content_type="application/json")
