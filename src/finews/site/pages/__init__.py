"""The page kinds of the site, one module each (Pelican's generators, Hugo's page kinds).

A page kind is a function ``pages(build, conn, plan)`` yielding :class:`Page`\\ s —
(path, input key, render) — from what the planner found; the writer decides which
to render and write.  :data:`PAGE_KINDS` is the one place they are registered, in
publishing order: a page comes after the pages it links to (article pages first).
To add a page kind, see docs/site.md ("How to add a page kind").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

from sqlalchemy import Connection

from finews.site.context import Build, Plan
from finews.site.pages import (
    articles,
    briefings,
    days,
    home,
    important,
    sections,
    sitemaps,
    stocks,
    stories,
)
from finews.site.writer import Page


class PageKind(NamedTuple):
    phase: str
    """Its name in the build's timing log (``-v``)."""
    pages: Callable[[Build, Connection, Plan], Iterable[Page]]


PAGE_KINDS: tuple[PageKind, ...] = (
    PageKind("article pages", articles.pages),
    PageKind("story pages", stories.pages),
    # stream lines (#12) link to stock pages: those go before every listing that has them
    PageKind("stock pages", stocks.pages),
    # every page's header links to the briefings' index (#14): before every listing
    PageKind("briefing pages", briefings.pages),
    PageKind("section pages and feeds", sections.pages),
    PageKind("important news pages", important.pages),
    PageKind("day pages", days.pages),
    PageKind("sitemaps", sitemaps.pages),
    PageKind("home, indexes, feeds", home.pages),
)
