"""The sources' polling status: how each source's latest poll went (for
``/api/sources``, ``finews status`` and alerts), beside its stored articles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from finews.store import schema

A = schema.articles
S = schema.source_status


def record_poll(
    conn: Connection, source: str, *, ok: bool, error: str, new: int, stamp: int
) -> None:
    """Remember how a source's latest poll went (inside a write transaction)."""
    row = conn.execute(select(S).where(S.c.source == source)).mappings().first()
    values = {
        "last_attempt_at": stamp,
        "last_error": "" if ok else error[:2000],
        "last_new": new,
    }
    if ok:
        values["last_success_at"] = stamp
    if row is None:
        conn.execute(
            insert(S).values(
                source=source,
                consecutive_failures=0 if ok else 1,
                polls=1,
                failures=0 if ok else 1,
                **values,
            )
        )
    else:
        conn.execute(
            update(S)
            .where(S.c.source == source)
            .values(
                consecutive_failures=0 if ok else row["consecutive_failures"] + 1,
                polls=row["polls"] + 1,
                failures=row["failures"] + (0 if ok else 1),
                **values,
            )
        )


def source_status(conn: Connection) -> dict[str, dict[str, Any]]:
    """Per source: its latest poll (if any) and its stored articles."""
    out: dict[str, dict[str, Any]] = {}
    for row in conn.execute(select(S)).mappings():
        out[row["source"]] = {k: v for k, v in row.items() if k != "source"}
    counts = conn.execute(
        select(A.c.source, func.count(), func.max(A.c.published_at)).group_by(A.c.source)
    )
    for source, count, newest in counts:
        entry = out.setdefault(source, {})
        entry["articles"] = int(count)
        entry["newest_at"] = newest
    return out
