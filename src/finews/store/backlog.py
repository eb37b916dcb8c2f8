"""Where each source's back catalogue ends (wave 10, #14): what a source's polls stored up
to and including its first successful poll into this store is not news to alert about.

A fresh store's first poll brings each list's newest 20–50 items, up to hours old; the
alert watermark alone (started at the newest article when the alerter first looks) did not
hold them back — on an empty store it starts at 0, and the first poll's items all came
after it: two fresh ``finews demo`` runs alerted on 5 and 4 flashes one to two hours old.
The same holds for a source added to a running store (a new feed) and for subscribers.

So a poll that starts while its source has never succeeded here *opens* the source's mark
(:func:`begin`), and the poll's record (:func:`close`, in ``record_poll``'s transaction)
sets it to the source's newest article id.  An article is back catalogue when its source's
mark is open (stored by that first poll, still running: the alerter may look mid-poll) or
at least its id.  A source that has succeeded before this rule existed has no mark: its
articles are news as before.  The marks live in ``alert_state`` (name → number), next to
the alerts' watermark: no migration.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from finews.store import schema

if TYPE_CHECKING:  # sqlstore calls close() from record_poll
    from finews.store.sqlstore import Store

A = schema.articles
S = schema.alert_state
STATUS = schema.source_status
PREFIX = "first_poll:"
OPEN = -1
"""A mark's value while the source's first successful poll may still be storing."""


def _name(source: str) -> str:
    name = PREFIX + source
    if len(name) <= 64:  # alert_state.name is a String(64)
        return name
    return PREFIX + "#" + hashlib.sha1(source.encode()).hexdigest()


def begin(store: Store, source: str) -> bool:
    """A poll of ``source`` starts: open its mark if it never succeeded in this store.
    Returns whether the poll's items are back catalogue."""
    succeeded = select(STATUS.c.last_success_at).where(STATUS.c.source == source)
    with store.engine.connect() as conn:  # every poll asks: a read, no write lock
        if conn.execute(succeeded).scalar() is not None:
            return False
    with store._write() as conn:
        name = _name(source)
        found = conn.execute(select(S.c.value).where(S.c.name == name)).first()
        if found is None:
            conn.execute(insert(S).values(name=name, value=OPEN))
        else:
            conn.execute(update(S).where(S.c.name == name).values(value=OPEN))
        return True


def close(conn: Connection, source: str) -> None:
    """A poll of ``source`` was recorded (inside that write): an open mark is set to the
    source's newest article — what the poll stored is back catalogue, what comes later
    is news (if that poll failed, the next one opens the mark again)."""
    name = _name(source)
    if conn.execute(select(S.c.value).where(S.c.name == name)).scalar() != OPEN:
        return
    newest = conn.execute(select(func.max(A.c.id)).where(A.c.source == source)).scalar()
    conn.execute(update(S).where(S.c.name == name).values(value=int(newest or 0)))


def marks(store: Store, sources: Iterable[str]) -> dict[str, int]:
    """The marks of these sources (a source without one is not in the result)."""
    names = {_name(s): s for s in set(sources)}
    if not names:
        return {}
    with store.engine.connect() as conn:
        rows = conn.execute(select(S.c.name, S.c.value).where(S.c.name.in_(list(names))))
        return {names[n]: int(v) for n, v in rows}


def is_back_catalogue(found: dict[str, int], source: str, article_id: int) -> bool:
    """Whether the article (its store row id) came with its source's first successful poll
    into the store, given :func:`marks`."""
    mark = found.get(source)
    return mark is not None and (mark == OPEN or article_id <= mark)
