"""Feeds a user added (RSS, Atom, JSON Feed), kept in the store: the command line, OPML
import and ``finews run`` all see the same list."""

from __future__ import annotations

import time
from urllib.parse import urldefrag

from sqlalchemy import delete, insert, select, update

from finews.model import UserFeed
from finews.store import schema
from finews.store.sqlstore import Store

F = schema.user_feeds


def feed_url(url: str) -> str:
    """The URL a feed is known by: without a ``#fragment``, which is never sent to the
    server (``…/rss.xml#x`` is the same feed, not a second one)."""
    return urldefrag(url.strip()).url


def add(store: Store, url: str, title: str = "", *, rename: bool = False) -> tuple[UserFeed, bool]:
    """The feed with this URL, and whether it was new (an existing one keeps its id).

    An existing feed keeps its title unless ``rename`` (``finews feeds add URL --title``
    asks for it): the title is the media of every article of the feed, and an OPML file
    that lists one URL twice, or another reader's name for it, renamed them all."""
    url = feed_url(url)
    with store._write() as conn:
        row = conn.execute(select(F).where(F.c.url == url)).mappings().first()
        if row is not None:
            kept = row["title"]
            if rename and title and title != kept:
                conn.execute(update(F).where(F.c.id == row["id"]).values(title=title))
                kept = title
            return UserFeed(row["id"], url, kept, bool(row["enabled"])), False
        result = conn.execute(
            insert(F).values(url=url, title=title, enabled=True, added_at=int(time.time()))
        )
        new_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        return UserFeed(new_id, url, title, True), True


def remove(store: Store, ident: str) -> bool:
    """Remove by id (``3`` or ``feed.3``) or URL; its stored articles stay."""
    key = ident.removeprefix("feed.")
    where = F.c.id == int(key) if key.isdigit() else F.c.url == feed_url(ident)
    with store._write() as conn:
        return bool(conn.execute(delete(F).where(where)).rowcount)


def listed(store: Store, *, enabled_only: bool = False) -> list[UserFeed]:
    with store.engine.connect() as conn:
        query = select(F).order_by(F.c.id)
        if enabled_only:
            query = query.where(F.c.enabled.is_(True))
        return [
            UserFeed(r["id"], r["url"], r["title"], bool(r["enabled"]))
            for r in conn.execute(query).mappings()
        ]
