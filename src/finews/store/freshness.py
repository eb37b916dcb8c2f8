"""How fresh the store is kept, per source (#17): the polling pace ``finews run`` set
last, and the measured lag from an item's upstream time to its storing.

The lag is ``first_seen_at − published_at`` of the articles published in the window
(one indexed read): what a reader waits at best, before the push to the page.  Both are
whole seconds (upstream times are); items whose upstream time is later than their
storing (a clock ahead) count as 0."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import insert, select, update

from finews.store import schema
from finews.store.sqlstore import Store

A = schema.articles
P = schema.source_schedule


def record_schedule(
    store: Store, source: str, *, interval: float, phase: str, now: float | None = None
) -> None:
    """Remember a source's current interval (seconds) and market phase."""
    stamp = int(now if now is not None else time.time())
    values = {"interval_ms": int(interval * 1000), "phase": phase, "updated_at": stamp}
    with store._write() as conn:
        changed = conn.execute(update(P).where(P.c.source == source).values(**values)).rowcount
        if not changed:
            conn.execute(insert(P).values(source=source, **values))


def schedules(store: Store) -> dict[str, dict[str, Any]]:
    """Per source: its interval (seconds), phase and when they were set."""
    with store.engine.connect() as conn:
        return {
            row.source: {
                "interval": row.interval_ms / 1000,
                "phase": row.phase,
                "updated_at": int(row.updated_at),
            }
            for row in conn.execute(select(P))
        }


def _quantile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


def lags(store: Store, window: float = 3600.0, now: float | None = None) -> dict[str, Any]:
    """Per source, over the articles published in the last ``window`` seconds: their count
    and the lag upstream time → stored (p50, p95, max, seconds)."""
    since = int((now if now is not None else time.time()) - window)
    found: dict[str, list[int]] = {}
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(A.c.source, A.c.published_at, A.c.first_seen_at).where(A.c.published_at >= since)
        )
        for source, published, seen in rows:
            found.setdefault(source, []).append(max(0, int(seen) - int(published)))
    return {
        source: {
            "items": len(values),
            "p50": _quantile(values, 0.5),
            "p95": _quantile(values, 0.95),
            "max": float(max(values)),
        }
        for source, values in found.items()
    }
