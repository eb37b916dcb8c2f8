"""Section pages: ``c/<slug>/p<k>.html`` chunks (:mod:`finews.site.pages.chunks`),
``index.html`` and the section's feeds."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection

from finews.site.context import Build, Plan
from finews.site.formats import section_title
from finews.site.pages.chunks import Chunked, chunk_pages, count_line, index_older, loaded_from
from finews.site.pages.feeds import feed_pages
from finews.site.pages.listing import list_page
from finews.site.writer import Page
from finews.store.sitequeries import Item


def pages(b: Build, conn: Connection, plan: Plan) -> Iterator[Page]:
    totals = plan.totals
    manifest = b.writer.manifest

    def published(section: str) -> bool:
        return manifest is not None and manifest.get(f"c/{b.slugs[section]}/index.html") is not None

    # a section new to this site first: every section's tabs link to every other section
    # (#12), so an older section's page, rewritten with the new tab, must not be published
    # before the page that tab points to
    for section, (offset, items) in sorted(
        plan.sections.items(), key=lambda kv: (published(kv[0]), kv[0])
    ):
        if items:
            yield from _section_pages(b, conn, section, items, offset, totals[section])


def _section_pages(
    b: Build, conn: Connection, section: str, items: list[Item], offset: int, total: int
) -> Iterator[Page]:
    """Pages of a section (:mod:`finews.site.pages.chunks`): fixed chunks counted from its
    oldest article, so that new articles change only the newest pages; ``index.html`` shows
    the newest full chunk and what came after it.  ``items`` are the section's articles
    from position ``loaded_from(offset)`` on; the pages from ``offset`` on are looked at."""
    size = b.o.page_size
    prefix = f"c/{b.slugs[section]}/"
    c = Chunked(prefix, section_title(section), items, loaded_from(offset, size), offset, total)
    yield from chunk_pages(b, conn, c, own_media=section)
    # feeds first: a page is never published before what it links to (a crash between
    # the two would leave a dead link)
    title = f"{b.o.title} · {section_title(section)}"
    yield from feed_pages(b, conn, prefix, title, items[-b.o.feed_size :])
    newest = c.newest(size)
    older, older_when = index_older(c, size)
    yield list_page(
        b,
        f"{prefix}index.html",
        heading=section_title(section),
        subtitle=count_line(total, size),
        items=newest,
        newer=None,
        older=older,
        spans=("", older_when),
        feed_prefix="",
        live=f"section:{section}",
        tab=section,
        heat=b.heat_for(conn, newest),
        # the outlet is left out of its own section's lines (docs/site.md), line by line:
        # a category of several outlets names the others
        own_media=section,
    )
