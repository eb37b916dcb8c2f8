"""What the store remembers of the upstreams themselves (issue #15): the request shape each
source answers to and since when, the field changes seen in its items, its locked items.

Functions over a :class:`~finews.store.Store`, like :mod:`finews.store.alertqueue`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, insert, select, update

from finews.sources.drift import FieldChange
from finews.store import schema
from finews.store.sqlstore import Store

SH = schema.source_shapes
SF = schema.source_fields


def shapes_in_use(store: Store) -> dict[str, dict[str, Any]]:
    """Per source: the shape it answers to, since when, what it replaced and why, the
    time the switch took (ms), and the locked items counted so far."""
    with store.engine.connect() as conn:
        return {
            row["source"]: {k: v for k, v in row.items() if k != "source"}
            for row in conn.execute(select(SH)).mappings()
        }


def has_items(store: Store, source: str) -> bool:
    """Whether the store has articles of ``source`` (an empty first page is then odd)."""
    A = schema.articles
    with store.engine.connect() as conn:
        return conn.execute(select(A.c.id).where(A.c.source == source).limit(1)).first() is not None


def working_shape(store: Store, source: str) -> str | None:
    with store.engine.connect() as conn:
        return conn.execute(select(SH.c.shape).where(SH.c.source == source)).scalar()


def note_shape(
    store: Store,
    source: str,
    shape: str,
    *,
    previous: str = "",
    reason: str = "",
    seconds: float | None = None,
    locked: int = 0,
    now: float | None = None,
) -> None:
    """Remember that ``source`` answered to ``shape``.  A new shape (a switch, or the
    first poll) starts its ``since``; the same shape again only adds the locked count."""
    stamp = int(now if now is not None else time.time())
    with store._write() as conn:
        row = conn.execute(select(SH).where(SH.c.source == source)).mappings().first()
        if row is None:
            conn.execute(
                insert(SH).values(
                    source=source,
                    shape=shape,
                    since=stamp,
                    previous=previous,
                    reason=reason,
                    fallback_ms=None if seconds is None else round(seconds * 1000),
                    locked=locked,
                )
            )
        elif row["shape"] != shape:
            conn.execute(
                update(SH)
                .where(SH.c.source == source)
                .values(
                    shape=shape,
                    since=stamp,
                    previous=previous or row["shape"],
                    reason=reason,
                    fallback_ms=None if seconds is None else round(seconds * 1000),
                    locked=row["locked"] + locked,
                )
            )
        elif locked:
            conn.execute(
                update(SH).where(SH.c.source == source).values(locked=row["locked"] + locked)
            )


def note_fields(
    store: Store,
    source: str,
    changes: Iterable[FieldChange],
    present: frozenset[str],
    now: float | None = None,
) -> list[FieldChange]:
    """Record field changes; return the ones seen for the first time (the round warns
    about those).  A field recorded missing that is present again, with no new missing
    report, is marked resolved."""
    stamp = int(now if now is not None else time.time())
    first_time: list[FieldChange] = []
    changes = list(changes)
    missing_now = {c.field for c in changes if c.change == "missing"}
    with store._write() as conn:
        for change in changes:
            key = and_(
                SF.c.source == source, SF.c.field == change.field, SF.c.change == change.change
            )
            row = conn.execute(select(SF.c.id, SF.c.resolved_at).where(key)).first()
            if row is None:
                conn.execute(
                    insert(SF).values(
                        source=source,
                        field=change.field,
                        change=change.change,
                        detail=change.detail,
                        items=change.items,
                        first_seen=stamp,
                        last_seen=stamp,
                    )
                )
                first_time.append(change)
            else:
                values: dict[str, Any] = {
                    "last_seen": stamp,
                    "detail": change.detail,
                    "items": change.items,
                }
                if row[1] is not None:  # it came back after being resolved: a new episode
                    values.update(first_seen=stamp, resolved_at=None)
                    first_time.append(change)
                conn.execute(update(SF).where(SF.c.id == row[0]).values(**values))
        back = [f for f in present if f not in missing_now]
        if back:
            conn.execute(
                update(SF)
                .where(
                    SF.c.source == source,
                    SF.c.change == "missing",
                    SF.c.resolved_at.is_(None),
                    SF.c.field.in_(back),
                )
                .values(resolved_at=stamp)
            )
    return first_time


def field_changes(store: Store, *, open_only: bool = True) -> dict[str, list[dict[str, Any]]]:
    """Per source, its recorded field changes, newest first (open ones only by default:
    a missing field that came back is history)."""
    query = select(SF).order_by(SF.c.first_seen.desc(), SF.c.id.desc())
    if open_only:
        query = query.where(SF.c.resolved_at.is_(None))
    out: dict[str, list[dict[str, Any]]] = {}
    with store.engine.connect() as conn:
        for row in conn.execute(query).mappings():
            out.setdefault(row["source"], []).append(
                {k: v for k, v in row.items() if k not in {"id", "source"}}
            )
    return out


def status(store: Store) -> dict[str, dict[str, Any]]:
    """:meth:`Store.source_status` with each source's request shape and open field changes
    (what ``finews sources``, ``/status`` and ``/api/sources`` show)."""
    statuses = store.source_status()
    for source, row in shapes_in_use(store).items():
        entry = statuses.setdefault(source, {})
        entry.update(
            shape=row["shape"],
            shape_since=row["since"],
            previous_shape=row["previous"],
            switch_reason=row["reason"],
            fallback_ms=row["fallback_ms"],
            locked=row["locked"],
        )
    for source, changes in field_changes(store).items():
        statuses.setdefault(source, {})["field_changes"] = changes
    return statuses
