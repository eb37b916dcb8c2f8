"""What changed in the articles since a reader last looked, in commit order (#17).

Every write numbers its changes (``change_seq``, serial because writers take turns), so a
reader that remembers the highest number it saw finds both the articles stored since
and the ones updated since (a full text that arrived after the list item was shown) in
one indexed read."""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select

from finews.model import Article
from finews.store import reads, schema, sitequeries
from finews.store.sqlstore import Store

A = schema.articles


def latest_seq(store: Store) -> int:
    """The highest change number of the articles (0 for an empty store)."""
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.max(A.c.change_seq))).scalar() or 0)


def changed_after(
    store: Store, after: tuple[int, int], limit: int = 200
) -> list[tuple[int, Article, int, int]]:
    """(id, article, cluster, change number) of the articles written after the position
    ``after`` = (change number, id), in that order.  A position, not a number: one write
    may change more articles than ``limit``."""
    seq, last = after
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(A.c.id, A.c.change_seq)
            .where(or_(A.c.change_seq > seq, and_(A.c.change_seq == seq, A.c.id > last)))
            .order_by(A.c.change_seq, A.c.id)
            .limit(limit)
        ).all()
        found = reads.by_ids(conn, [int(r[0]) for r in rows])
    return [(int(i), *found[int(i)], int(s)) for i, s in rows if int(i) in found]


def first_reports(store: Store, clusters: list[int]) -> dict[int, tuple[str, str, int]]:
    """(source, upstream id, publication time) of the first report of each of these
    stories — a story's id is its first report's row id: the line a page lists for a story
    told once, which a live reprint gives its heat (issue #12)."""
    if not clusters:
        return {}
    found: dict[int, tuple[str, str, int]] = {}
    with store.engine.connect() as conn:
        for start in range(0, len(clusters), 500):
            rows = conn.execute(
                select(A.c.id, A.c.source, A.c.upstream_id, A.c.published_at).where(
                    A.c.id.in_(clusters[start : start + 500])
                )
            )
            found.update({int(r[0]): (str(r[1]), str(r[2]), int(r[3])) for r in rows})
    return found


def story_heat(
    store: Store, clusters: list[int]
) -> dict[int, tuple[int, int, dict[str, tuple[int, int]]]]:
    """(reports, outlets, each outlet's first report as (time, row id)) of those of
    ``clusters`` told more than once: what a live line's heat says, as a built line's
    (issue #12)."""
    if not clusters:
        return {}
    with store.engine.connect() as conn:
        return sitequeries.story_heat(conn, clusters)
