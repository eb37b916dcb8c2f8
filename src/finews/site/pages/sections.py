"""Section pages: ``c/<slug>/p<k>.html`` chunks, ``index.html`` and the section's feeds."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection

from finews.site.context import Build, Plan
from finews.site.formats import section_title
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
    """Pages of a section: fixed chunks counted from its oldest article
    (``p1.html`` = the oldest ``page_size``), so that new articles change only
    the newest pages; ``index.html`` shows the newest full chunk and what
    came after it.  ``items`` are the section's articles from position
    ``offset`` on (a multiple of the page size)."""
    slug = b.slugs[section]
    size = b.o.page_size
    full_chunks = total // size
    prefix = f"c/{slug}/"

    def chunk_path(k: int) -> str:
        return f"{prefix}p{k}.html"

    def chunk_items(k: int) -> list[Item]:
        start = (k - 1) * size - offset
        return items[start : start + size]

    for k in range(offset // size + 1, full_chunks):
        path = chunk_path(k)
        newer = chunk_path(k + 1) if k + 1 < full_chunks else f"{prefix}index.html"
        older = chunk_path(k - 1) if k > 1 else None
        yield list_page(
            b,
            path,
            heading=f"{section_title(section)}（第 {k} 页）",
            subtitle="",
            items=chunk_items(k),
            newer=newer,
            older=older,
            feed_prefix=None,
            heat=b.heat_for(conn, chunk_items(k)),
            own_media=section,
        )
    # feeds first: a page is never published before what it links to (a crash between
    # the two would leave a dead link)
    title = f"{b.o.title} · {section_title(section)}"
    yield from feed_pages(b, conn, prefix, title, items[-b.o.feed_size :])
    newest = items[max(0, (full_chunks - 1) * size - offset) :] if full_chunks >= 1 else items
    yield list_page(
        b,
        f"{prefix}index.html",
        heading=section_title(section),
        subtitle=f"共 {total} 条",
        items=newest,
        newer=None,
        older=chunk_path(full_chunks - 1) if full_chunks >= 2 else None,
        feed_prefix="",
        live=f"section:{section}",
        tab=section,
        heat=b.heat_for(conn, newest),
        # the outlet is left out of its own section's lines (docs/site.md), line by line:
        # a category of several outlets names the others
        own_media=section,
    )
