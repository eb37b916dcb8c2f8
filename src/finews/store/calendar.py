"""Economic-data releases (金十 ``type`` 1 rows) as calendar rows (issue #15).

A release is seen again as its figures arrive (the actual value comes at release time):
the row is updated in place, keyed by (source, upstream id), never duplicated.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update

from finews.model import BEIJING, CalendarEvent, from_epoch
from finews.store import schema
from finews.store.sqlstore import Store

C = schema.calendar_events


def _values(event: CalendarEvent) -> dict[str, object]:
    return {
        "name": event.name,
        "country": event.country,
        "unit": event.unit,
        "actual": event.actual,
        "forecast": event.forecast,
        "previous": event.previous,
        "revised": event.revised,
        "star": event.star,
        "affect": event.affect,
        "important": event.important,
        "released_at": int(event.released.timestamp()),
        "raw": event.raw,
    }


def save_events(
    store: Store, events: Iterable[CalendarEvent], now: float | None = None
) -> dict[str, int]:
    """Insert new releases, update changed ones; counts of ``new``, ``updated``,
    ``unchanged``."""
    stamp = int(now if now is not None else time.time())
    counts = {"new": 0, "updated": 0, "unchanged": 0}
    events = list({(e.source, e.upstream_id): e for e in events}.values())
    if not events:
        return counts
    with store._write() as conn:
        for event in events:
            values = _values(event)
            row = (
                conn.execute(
                    select(C).where(
                        C.c.source == event.source, C.c.upstream_id == event.upstream_id
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                conn.execute(
                    insert(C).values(
                        source=event.source,
                        upstream_id=event.upstream_id,
                        first_seen=stamp,
                        updated_at=stamp,
                        **values,
                    )
                )
                counts["new"] += 1
            elif any(row[k] != v for k, v in values.items() if k != "raw"):
                conn.execute(
                    update(C).where(C.c.id == row["id"]).values(updated_at=stamp, **values)
                )
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
    return counts


def events_on(store: Store, day: str | None = None, limit: int = 500) -> list[CalendarEvent]:
    """The releases of one Beijing day (``YYYY-MM-DD``; default: the latest day with
    releases), in time order.  Raises ValueError for a day that is not a date."""
    with store.engine.connect() as conn:
        if day is None:
            newest = conn.execute(select(C.c.released_at).order_by(C.c.released_at.desc())).first()
            if newest is None:
                return []
            start_day = from_epoch(newest[0]).date()
        else:
            start_day = datetime.strptime(day, "%Y-%m-%d").date()
        start = datetime(start_day.year, start_day.month, start_day.day, tzinfo=BEIJING)
        end = start + timedelta(days=1)
        rows = conn.execute(
            select(C)
            .where(
                C.c.released_at >= int(start.timestamp()), C.c.released_at < int(end.timestamp())
            )
            .order_by(C.c.released_at, C.c.id)
            .limit(limit)
        ).mappings()
        return [
            CalendarEvent(
                source=r["source"],
                upstream_id=r["upstream_id"],
                name=r["name"],
                released=from_epoch(r["released_at"]),
                country=r["country"],
                unit=r["unit"],
                actual=r["actual"],
                forecast=r["forecast"],
                previous=r["previous"],
                revised=r["revised"],
                star=int(r["star"]),
                affect=r["affect"],
                important=bool(r["important"]),
                raw=r["raw"],
            )
            for r in rows
        ]


def days(store: Store, limit: int = 30) -> list[str]:
    """The Beijing days that have releases, newest first (for the page's day links)."""
    with store.engine.connect() as conn:
        stamps = [
            r[0] for r in conn.execute(select(C.c.released_at).order_by(C.c.released_at.desc()))
        ]
    seen: list[str] = []
    for stamp in stamps:
        text = from_epoch(stamp).date().isoformat()
        if text not in seen:
            seen.append(text)
            if len(seen) >= limit:
                break
    return seen
