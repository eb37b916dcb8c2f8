"""What ``finews serve`` serves besides the API: the built site (with the live-update
script added to its HTML pages), the server-rendered search page and search feeds."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from finews.errors import RequestError
from finews.model import from_epoch
from finews.process.headline import shown_text
from finews.process.text import strip_tags
from finews.search import service
from finews.search.filters import UnknownFilter, UnknownStock, described, flag, known_filters
from finews.search.filters import resolve as resolve_filters
from finews.site.feeds import feed_entry, json_feed, with_entries
from finews.site.formats import iso_time, rfc822_time
from finews.site.render import STATIC
from finews.site.stocknames import stock_chip
from finews.site.stories import Heat, heat_chip
from finews.site.stream import MAX_CHIPS
from finews.store import Store
from finews.store.fulltext import Filters
from finews.web.live import heats

LIVE_SCRIPT = "_finews/live.js"
PACKAGED_ASSETS = {f"assets/{name}": STATIC / name for name in ("style.css", "favicon.svg")}
"""What a page needs before the first build has published the site's own copies."""
PAGE_SIZE = 20


class Templates:
    """The site's templates (and a user's overrides) plus the server's own pages."""

    def __init__(self, site_title: str, search_form: bool, user_templates: str = "") -> None:
        loaders: list[Any] = []
        if user_templates:
            loaders.append(FileSystemLoader(user_templates))
        loaders += [
            PackageLoader("finews.web", "templates"),
            PackageLoader("finews.site", "templates"),
        ]
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(["html", "xml"]),
            keep_trailing_newline=True,
        )
        # served: pages of the app itself (the status link: the static site's files have it
        # added as they are served, see SiteFiles — a static host has no /status)
        self.site = {"title": site_title, "search": search_form, "served": True}
        chrome = self.env.get_template("chrome.html").make_module(
            {"site": self.site, "root": Markup("")}
        )
        self.chrome = {
            "header": Markup(str(chrome.header()).strip()),  # type: ignore[attr-defined]
            "footer": Markup(str(chrome.footer()).strip()),  # type: ignore[attr-defined]
        }

    def render(self, name: str, **context: Any) -> str:
        return self.env.get_template(name).render(
            site=self.site, root=Markup(""), chrome=self.chrome, **context
        )


class SiteFiles(StaticFiles):
    """The built site.  HTML pages get the live-update script before ``</body>``; the
    pages on disk stay plain static files that work without a server."""

    def __init__(
        self,
        directory: Path,
        script_tag: bytes,
        empty_page: Callable[[], str] | None = None,
        status_link: bytes = b"",
        unbuilt_page: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__(directory=directory, html=True, check_dir=False)
        self.site_dir = Path(directory)
        self.script_tag = script_tag
        self.empty_page = empty_page
        self.status_link = status_link
        self.unbuilt_page = unbuilt_page
        """An article page the build has not written yet, from the store (or None)."""
        self._cache: dict[str, tuple[tuple[int, int], bytes]] = {}

    async def check_config(self) -> None:
        # no site built yet is not a misconfiguration while the empty page can answer
        if self.empty_page is None or self.site_dir.is_dir():
            await super().check_config()

    async def get_response(self, path: str, scope: Scope) -> Response:
        # the build's own files (.finews/manifest.sqlite3) and any dotfile stay private
        parts = path.replace("\\", "/").split("/")
        if any(part.startswith(".") and part != "." for part in parts):
            return Response("Not Found", 404, media_type="text/plain")
        if (
            self.empty_page is not None
            and path in PACKAGED_ASSETS
            and not (self.site_dir / path).exists()
        ):  # no site yet: the empty page's assets
            return FileResponse(PACKAGED_ASSETS[path])
        if (
            self.empty_page is not None
            and path in {"", ".", "index.html"}
            and not (self.site_dir / "index.html").exists()
        ):
            # no site built yet (a first run, offline): say why and what to do, not 404
            body = self.empty_page().encode("utf-8")
            at = body.rfind(b"</body>")
            body = body[:at] + self.script_tag + body[at:] if at >= 0 else body
            return Response(
                body, 200, media_type="text/html", headers={"Cache-Control": "no-cache"}
            )
        if (
            self.unbuilt_page is not None
            and path.startswith("a/")
            and path.endswith(".html")
            and not (self.site_dir / path).exists()
        ):
            # stored since the last build: the page the next build writes, rendered now
            made = await run_in_threadpool(self.unbuilt_page, path)
            if made is not None:
                return Response(
                    self._served(made.encode("utf-8")),
                    200,
                    media_type="text/html",
                    headers={"Cache-Control": "no-cache"},
                )
        return await super().get_response(path, scope)

    def _served(self, body: bytes) -> bytes:
        """A page as the app serves it: the live script before ``</body>``, and the
        footer's links to the pages only the app has (issue #12)."""
        at = body.rfind(b"</body>")
        body = body[:at] + self.script_tag + body[at:] if at >= 0 else body
        end = body.rfind(b"</footer>")
        if self.status_link and end >= 0 and self.status_link not in body:
            # where the pages the app renders have them: after the time note, before
            # 归档 (wave 10: a built page listed them last, a served one first)
            note = body.rfind(_TIME_NOTE, body.rfind(b"<footer", 0, end), end)
            end = note + len(_TIME_NOTE) if note >= 0 else end
            body = body[:end] + self.status_link + body[end:]
        return body

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        path = str(full_path)
        if isinstance(response, FileResponse) and path.endswith(".html"):
            key = (stat_result.st_mtime_ns, stat_result.st_size)
            cached = self._cache.get(path)
            if cached is None or cached[0] != key:
                body = self._served(Path(path).read_bytes())
                if len(self._cache) > 4096:
                    self._cache.clear()
                self._cache[path] = cached = (key, body)
            headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
            return Response(cached[1], status_code, headers=headers, media_type="text/html")
        return response


_TIME_NOTE = "时间均为北京时间（UTC+8）".encode()
"""The footer's note on time, after which the app's own links go (site/templates/chrome.html)."""


def bounded(text: str, default: int, low: int, high: int) -> int:
    """A small number from a query parameter; anything else is the default (a 5,000-digit
    "number" would otherwise cost Python's int() a ValueError)."""
    value = text.strip()
    digits = value.isascii() and value.isdigit()  # "²" is a digit to isdigit, not to int()
    if not digits or len(value) > 6:
        return default if not digits else high
    return max(low, min(high, int(value)))


def _filters(params: dict[str, str], stock_list: Path | None) -> Filters:
    """The filters of a search page's or feed's query string, as the store reads them
    (:mod:`finews.search.filters`: a stock by name, an outlet given as the source).  The
    page took neither ``until`` nor ``important`` before wave 9, the feed no ``until``."""
    return resolve_filters(
        Filters(
            source=params.get("source") or None,
            media=params.get("media") or None,
            stock=params.get("stock") or None,
            since=_when(params, "since"),
            until=_when(params, "until"),
            important=flag(params.get("important")),
        ),
        stock_list,
    )


def _when(params: dict[str, str], name: str) -> int | None:
    value = params.get(name)
    if not value:
        return None
    try:
        return service.parse_time(value)
    except RequestError:
        raise BadTime(name, value) from None


class BadTime(RequestError):
    """A time parameter that is not a time (the page says which one, in Chinese)."""

    def __init__(self, name: str, value: str) -> None:
        super().__init__(
            f"{name}: not a time: {value!r} (use 2026-08-01, 2026-08-01 09:30 or 24h, 7d)"
        )
        self.value = value


def search_page(
    store: Store,
    templates: Templates,
    params: dict[str, str],
    stock_list: Path | None = None,
) -> tuple[str, int]:
    """The search page for the query string ``params``: (HTML, status)."""
    text = params.get("q", "").strip()
    page = bounded(params.get("page", ""), 1, 1, 500)
    error = ""
    near: list[str] = []
    results: service.Results | None = None
    filters = Filters()
    try:
        filters = _filters(params, stock_list)
        filters = known_filters(filters, store)
        if text:
            results = service.search(
                store,
                text,
                filters,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
                recent_first=params.get("sort") == "recent",
            )
    except UnknownStock as exc:
        error = f"不认识股票“{exc.given}”：请写代码（600519）或名称（贵州茅台）。"
        near = exc.near  # "西安旅游 000610.SZ": each offered as the search it would be
    except UnknownFilter as exc:
        # source=foo said "共 0 条结果" as if the words had found nothing (wave 15's walk)
        if exc.kind == "source":
            error = (
                f"没有叫“{exc.given}”的来源："
                "来源写 id（如 cls.telegraph），媒体写名称（如 财联社）。"
            )
        else:
            nearest = "、".join(exc.near)
            error = f"没有来自“{exc.given}”的消息" + (f"：是不是 {nearest}？" if nearest else "。")
        filters = Filters()
    except BadTime as exc:
        error = (
            f"看不懂时间“{exc.value}”：请写成 2026-08-01、2026-08-01 09:30，"
            "或 24h、7d（一天内、一周内）。"
        )
    kept = {k: v for k, v in params.items() if k != "page" and v}

    def page_link(n: int) -> str:
        return "search?" + urlencode({**kept, "page": n})

    total = results.total if results else 0
    found = results.results if results else []
    # one entry per story on the page, its best-ranked report (as every list and feed tells
    # a story once: #10); the heat chip leads to the others (wave 9's walk: 美联储降息 showed
    # 东方财富's and 财联社's same report one under the other).  Within the page only: the
    # pages stay slices of one ranking, so paging neither repeats nor skips an article
    shown: list[service.Result] = []
    stories: set[int] = set()
    for r in found:
        if r.cluster and r.cluster in stories:
            continue
        stories.add(r.cluster)
        shown.append(r)
    folded = len(found) - len(shown)
    found = shown
    # each result's story heat, as every list shows it (docs/site.md): one read
    told = heats(store, [r.cluster for r in found if r.cluster]) if found else {}
    html = templates.render(
        "search.html",
        q=text,
        # one quoted phrase is said inside the page's own quotes once: “美联储降息”
        q_shown=_unquoted(text),
        params=params,
        error=error,
        results=[result_view(r, told.get(r.cluster)) for r in found],
        total=total,
        relaxed=bool(results and results.relaxed),
        page=page,
        newer=page_link(page - 1) if page > 1 else None,
        older=page_link(page + 1) if page * PAGE_SIZE < total else None,
        feed_query=urlencode(kept),
        narrowed="、".join(described(filters)),
        # a store of older news asked for a recent period: where its news ends, in the
        # command line's words (a trader's walk, wave 17: the page gave no hint)
        news_ends=_news_ends(store, filters) if text and not total and not error else "",
        folded=folded,
        # -美联储 alone: nothing to look for, only what to leave out (wave 9's walk)
        only_excluded=bool(results and results.query.empty and results.query.excluded),
        first_page=page_link(1) if page > 1 and total and not found else None,
        # the search with that stock, or — no words to search for — that stock's page (a
        # search without words finds nothing: wave 12's review)
        suggestions=[
            (
                label,
                "search?" + urlencode({**kept, "stock": label.split()[-1]})
                if text
                else f"s/{quote(label.split()[-1])}/index.html",
            )
            for label in near
        ],
    )
    return html, 400 if error else 200


def result_view(r: service.Result, heat: Heat | None = None) -> dict[str, Any]:
    """A search result as a stream line shows it (issue #12): the 【headline】 (marked) unless
    the flash had none, the snippet once — without the 【headline】 it may start with —, the
    outlet, the stocks' chips and the story's heat (``heat``: told more than once, #10)."""
    a = r.article
    headline, _ = shown_text(a.title, a.digest)
    snippet = r.snippet_html
    plain = strip_tags(snippet).lstrip()
    if headline and plain.startswith("【") and "】" in snippet:
        snippet = snippet[snippet.index("】") + 1 :].lstrip()
    return {
        "path": r.path,
        "headline": headline,
        # a title that opens with its own 【…】 is not bracketed again (as stream lines)
        "bracketed": a.title.startswith("【"),
        "title": Markup(r.title_html),
        "snippet": Markup(snippet),
        "time": a.published_beijing.strftime("%m-%d %H:%M"),
        "date": a.published_beijing.strftime("%m-%d"),
        "clock": a.published_beijing.strftime("%H:%M"),
        "iso": a.published_beijing.isoformat(),
        "media": a.media or a.source,
        "important": a.important,
        "chips": Markup("".join(stock_chip("", s.code, s.name) for s in a.stocks[:MAX_CHIPS])),
        "heat": Markup(heat_chip("", r.cluster, heat)) if heat is not None else Markup(""),
    }


def _unquoted(text: str) -> str:
    """A query that is one quoted phrase without its quotes (the page puts its own around
    it: 没有找到含“美联储降息”的消息, not “"美联储降息"”); any other query as typed."""
    inner = text[1:-1]
    if len(text) > 2 and text[0] == text[-1] == '"' and '"' not in inner:
        return inner
    return text


def _news_ends(store: Store, filters: Filters) -> str:
    """The minute of the store's newest article when it is older than the period asked
    for (``since``), else empty."""
    if filters.since is None:
        return ""
    newest = store.newest()
    if newest is None or newest >= filters.since:
        return ""
    return from_epoch(newest).strftime("%Y-%m-%d %H:%M")


def search_feed(
    store: Store,
    templates: Templates,
    params: dict[str, str],
    kind: str,
    base_url: str,
    stock_list: Path | None = None,
) -> str:
    """A saved search (or a filtered listing) as an Atom, RSS or JSON feed.

    Like RSSHub's parameters: ``q`` searches, ``filter`` must appear, ``filterout``
    must not (both space-separated words), ``limit`` caps the entries (≤ 100)."""
    limit = bounded(params.get("limit", ""), 50, 1, 100)
    # a source or outlet no article can have is an error (400), as an unknown stock is: an
    # empty feed for a typo (source=cls) looked to a feed reader like a quiet subscription
    filters = known_filters(_filters(params, stock_list), store)
    words = [params.get("q", ""), params.get("filter", "")]
    words += [f"-{w}" for w in params.get("filterout", "").split() if w]
    text = " ".join(w for w in words if w.strip())
    if params.get("q") or params.get("filter"):
        # every word (a subscription to 央行 降息 wants both, not every 央行 flash), and one
        # entry per story, as every other feed (#10): its newest report
        found = service.search(
            store, text, filters, limit=min(limit * 2, 200), recent_first=True, relax=False
        )
        stories: set[int] = set()
        articles = []
        for result in found.results:
            story = result.cluster or -result.id  # no story recorded: its own
            if story not in stories:
                stories.add(story)
                articles.append(result.article)
        articles = articles[:limit]
    else:
        rows = store.list_articles(filters, limit=limit * 2)
        out = [w for w in params.get("filterout", "").split() if w]
        articles = [a for _, a, _ in rows if not any(w in a.title or w in a.digest for w in out)][
            :limit
        ]
    entries = [feed_entry(a, base_url) for a in articles]
    query = urlencode({k: v for k, v in params.items() if v})
    # what the feed is narrowed to, as typed: a feed of one stock was titled 金融消息 alone,
    # like every other subscription in a reader's list (a trader's walk, wave 17)
    said = [f"搜索：{text}"] if text else []
    for key, label in (("stock", "股票"), ("source", "来源"), ("media", "媒体")):
        if params.get(key):
            said.append(f"{label}：{params[key]}")
    if filters.important:
        said.append("重要消息")
    site_title = str(templates.site["title"])
    title = f"{site_title} · {'，'.join(said)}" if said else site_title
    # an empty feed is as new as the request (1970 told a reader it was dead): the time
    # moves only while nothing matches, and a reader asks again at its own interval
    updated = int(articles[0].published.timestamp()) if articles else int(time.time())
    feed = {
        "title": title,
        "id": f"{base_url}feeds/search.atom?{query}",
        "self_url": f"{base_url}feeds/search.{kind}?{query}",
        "home_url": f"{base_url}search?{query}",
        "updated": iso_time(updated),
        "updated_rfc822": rfc822_time(updated),
    }
    if kind == "json":
        return json_feed(feed, base_url, entries, feed_url=feed["self_url"])
    return templates.env.get_template("atom.xml" if kind == "atom" else "rss.xml").render(
        site=templates.site, feed=with_entries(feed, entries, kind), entries=entries
    )
