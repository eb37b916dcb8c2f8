"""Feeds (Atom, RSS, JSON Feed) of a listing: the site's, a section's, a stock's, the
important news'.  Not a page kind of their own: the kinds whose listings have feeds
emit them, before the listing that links to them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection

from finews.site.context import Build
from finews.site.feeds import feed_entry, json_feed, with_entries
from finews.site.formats import iso_time, rfc822_time
from finews.site.pages.listing import shown
from finews.site.writer import Page
from finews.store import sitequeries as q
from finews.store.sitequeries import Item


def feed_pages(
    b: Build, conn: Connection, prefix: str, title: str, items: Sequence[Item]
) -> Iterator[Page]:
    """``<prefix>atom.xml``, ``rss.xml`` and ``feed.json`` of ``items`` (oldest first)."""
    ordered = list(reversed(items))
    key = (title, shown(ordered))
    cache: dict[str, Any] = {}
    ids = [it.id for it in ordered]

    def entries() -> list[dict[str, Any]]:
        if "entries" not in cache:
            known = b.entry_cache
            missing = [it.id for it in ordered if it.id not in known]
            if b.feed_articles is not None:  # in a worker: sent with its pages
                found = [b.feed_articles[i] for i in missing if i in b.feed_articles]
            else:
                found = list(q.articles_by_id(conn, missing))
            for p in found:
                known[p.id] = feed_entry(p.article, b.o.base_url, p.body)
            cache["entries"] = [known[it.id] for it in ordered if it.id in known]
        return cache["entries"]  # type: ignore[no-any-return]

    base = b.o.base_url.rstrip("/") + "/"
    updated = ordered[0].published_at if ordered else 0
    feed = {
        "title": title,
        "id": base + prefix + "atom.xml",
        "self_url": base + prefix + "atom.xml",
        "home_url": base + prefix + ("index.html"),
        "updated": iso_time(updated),
        "updated_rfc822": rfc822_time(updated),
    }
    yield Page(prefix + "atom.xml", key, lambda: _document(b, "atom", feed, entries()), ids)
    rss = {**feed, "self_url": base + prefix + "rss.xml"}
    yield Page(prefix + "rss.xml", key, lambda: _document(b, "rss", rss, entries()), ids)
    yield Page(prefix + "feed.json", key, lambda: json_feed(feed, base + prefix, entries()), ids)


def _document(b: Build, kind: str, feed: dict[str, Any], entries: list[dict[str, Any]]) -> str:
    """``atom.xml`` or ``rss.xml`` (``kind`` "atom", "rss"), filled in as a skeleton
    while the template only prints the feed's fields (the packaged ones do; thousands
    of stock feeds are small, and Jinja2's cost per render was most of theirs)."""
    document = with_entries(feed, entries, kind)
    return b.renderer.filled(f"{kind}.xml", "", "feed", document, entries=entries)
