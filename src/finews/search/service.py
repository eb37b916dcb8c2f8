"""Search as the command line and the web app use it: parse, query the store, present.

The presentation (highlighted title, snippet, site path) is computed here once, so
``finews search``, the search page, the JSON API and the search feeds show the same.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from finews.errors import RequestError
from finews.model import Article, parse_beijing
from finews.process.text import shown_once_text
from finews.search.query import Query, parse
from finews.search.snippet import highlight, snippet
from finews.store import Store
from finews.store.fulltext import Filters

_RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_time(text: str, *, now: float | None = None) -> int:
    """A time a user gives: ``2026-08-01``, ``2026-08-01 09:30`` (Beijing time unless a
    zone is given), or an age such as ``30m``, ``24h``, ``7d``, ``2w``."""
    value = text.strip()
    relative = _RELATIVE.match(value.lower())
    if relative:
        seconds = int(relative.group(1)) * _UNITS[relative.group(2)]
        return int((now if now is not None else time.time()) - seconds)
    try:
        return int(parse_beijing(value).timestamp())
    except ValueError:
        raise RequestError(
            f"not a time: {text!r} (use 2026-08-01, 2026-08-01 09:30 or 24h, 7d)"
        ) from None


@dataclass(frozen=True)
class Result:
    id: int
    article: Article
    score: float
    cluster: int
    title_html: str
    snippet_html: str

    @property
    def path(self) -> str:
        """The article page, relative to the site root."""
        # imported here: the site package (templates, the builder) costs a new
        # `finews search` process a tenth of a second it does not need to print results
        from finews.site import paths

        a = self.article
        return paths.article_path(a.source, a.upstream_id, int(a.published.timestamp()))

    def as_dict(self) -> dict[str, Any]:
        a = self.article
        return {
            "source": a.source,
            "id": a.upstream_id,
            # the keys export json, stories --json and the MCP tools give an article and its
            # story (wave 13's walk: a script could not join search results to them)
            "article": f"{a.source}/{a.upstream_id}",
            "story": self.cluster,
            "title": a.title,
            "time": a.published_beijing.isoformat(),
            "media": a.media,
            "url": a.url,
            "path": self.path,
            "stocks": [s.as_dict() for s in a.stocks],
            "important": a.important,
            "cluster": self.cluster,  # ``story`` under its older name
            "score": round(self.score, 4),
            "title_html": self.title_html,
            "snippet_html": self.snippet_html,
        }


@dataclass(frozen=True)
class Results:
    query: Query
    results: list[Result]
    total: int
    offset: int
    relaxed: bool = False
    """all the words found too few: these articles have most of them"""

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "offset": self.offset,
            "relaxed": self.relaxed,
            "results": [r.as_dict() for r in self.results],
        }


def search(
    store: Store,
    text: str,
    filters: Filters | None = None,
    *,
    limit: int = 20,
    offset: int = 0,
    recent_first: bool = False,
    now: int | None = None,
    relax: bool = True,
) -> Results:
    """Search the store for what a user typed.  Never fails on the text itself.
    ``relax=False``: only articles with every word (see :meth:`Store.search`)."""
    query = parse(text)
    if query.empty:
        return Results(query, [], 0, offset)
    page = store.search(
        query,
        filters,
        limit=limit,
        offset=offset,
        recent_first=recent_first,
        now=now,
        relax=relax,
    )
    terms = query.highlight_terms()
    results = [
        Result(
            id=hit.id,
            article=hit.article,
            score=hit.score,
            cluster=hit.cluster,
            title_html=highlight(hit.article.title, terms),
            snippet_html=snippet(shown_once_text(hit.article), terms),
        )
        for hit in page.hits
    ]
    return Results(query, results, page.total, offset, page.relaxed)


__all__ = ["Filters", "Result", "Results", "parse_time", "search"]
