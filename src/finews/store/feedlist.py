"""Feeds a user added (RSS, Atom, JSON Feed), kept in the store: the command line, OPML
import and ``finews run`` all see the same list."""

from __future__ import annotations

import time

from sqlalchemy import delete, insert, select, update

from finews.model import UserFeed
from finews.store import schema
from finews.store.sqlstore import Store

F = schema.user_feeds


def add(store: Store, url: str, title: str = "") -> tuple[UserFeed, bool]:
    """The feed with this URL, and whether it was new (an existing one keeps its id)."""
    with store._write() as conn:
        row = conn.execute(select(F).where(F.c.url == url)).mappings().first()
        if row is not None:
            if title and title != row["title"]:
                conn.execute(update(F).where(F.c.id == row["id"]).values(title=title))
            return UserFeed(row["id"], url, title or row["title"], bool(row["enabled"])), False
        result = conn.execute(
            insert(F).values(url=url, title=title, enabled=True, added_at=int(time.time()))
        )
        new_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        return UserFeed(new_id, url, title, True), True


def remove(store: Store, ident: str) -> bool:
    """Remove by id (``3`` or ``feed.3``) or URL; its stored articles stay."""
    key = ident.removeprefix("feed.")
    where = F.c.id == int(key) if key.isdigit() else F.c.url == ident
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
