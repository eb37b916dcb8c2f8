"""What the store holds, in figures and in bulk: counts, per-source and per-media
statistics, the change version caches key on, the integrity check, and the plain
records of ``finews export json``.  Functions over a connection."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, func, select

from finews.model import from_epoch
from finews.store import schema
from finews.store import stories as story_queries
from finews.store.articles import next_seq
from finews.store.rows import row_to_article

A = schema.articles


def version(conn: Connection) -> int:
    """A number that grows with every change to the articles (insert, update, delete):
    what a cache of query results is keyed on."""
    return next_seq(conn) - 1


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(A)).scalar_one())


def stats(conn: Connection) -> dict[str, Any]:
    """Articles per source and per media, with the oldest and newest times."""

    def group(column: Any) -> list[dict[str, Any]]:
        rows = conn.execute(
            select(column, func.count(), func.min(A.c.published_at), func.max(A.c.published_at))
            .group_by(column)
            .order_by(func.count().desc(), column)
        )
        return [
            {
                "name": r[0],
                "articles": r[1],
                "oldest": from_epoch(r[2]).isoformat(),
                "newest": from_epoch(r[3]).isoformat(),
            }
            for r in rows
        ]

    total, oldest, newest = conn.execute(
        select(func.count(), func.min(A.c.published_at), func.max(A.c.published_at))
    ).one()
    revisions = conn.execute(
        select(func.count()).select_from(schema.article_revisions)
    ).scalar_one()
    story_count = conn.execute(
        select(func.count(func.distinct(func.coalesce(A.c.cluster_id, A.c.id))))
    ).scalar_one()
    return {
        "articles": total,
        "revisions": revisions,
        "stories": story_count,
        "stories_outdated": story_queries.outdated(conn),
        "oldest": from_epoch(oldest).isoformat() if oldest is not None else None,
        "newest": from_epoch(newest).isoformat() if newest is not None else None,
        "sources": group(A.c.source),
        "media": group(A.c.media),
    }


def integrity_check(conn: Connection) -> str:
    """SQLite's ``PRAGMA integrity_check``: 'ok', or one line per problem found."""
    rows = conn.exec_driver_sql("PRAGMA integrity_check").scalars().all()
    return "\n".join(str(r) for r in rows)


def export_rows(conn: Connection) -> Iterator[dict[str, Any]]:
    """One plain record per article, oldest first, for `finews export json` (``conn``: one
    snapshot, so that both passes see the same articles).

    ``story`` is the story's id (the row id of the report that started it, as in
    ``/story/<id>/``), ``story_size`` its number of reports, ``first_in_story`` marks its
    earliest published report (the one a reader calls first: "首发"; a report stored
    late from a backfill can be earlier than the one that started the story);
    ``canonical`` marks the report that stands for the story: the earliest one with
    its full text (the earliest at all when none has it).  ``cluster`` is ``story``
    under its older name."""
    canonical: dict[int, tuple[int, int, int]] = {}
    first: dict[int, tuple[int, int]] = {}
    size: dict[int, int] = defaultdict(int)
    for article_id, cluster, published_at, complete in conn.execute(
        select(A.c.id, A.c.cluster_id, A.c.published_at, A.c.body_complete)
    ):
        rank = (0 if complete else 1, published_at, article_id)
        key = cluster or article_id
        size[key] += 1
        if key not in canonical or rank < canonical[key]:
            canonical[key] = rank
        if key not in first or (published_at, article_id) < first[key]:
            first[key] = (published_at, article_id)
    result = conn.execution_options(yield_per=1000).execute(
        select(A).order_by(A.c.published_at, A.c.id)
    )
    for row in result.mappings():
        a = row_to_article(row)
        story = row["cluster_id"] or row["id"]
        yield {
            "id": f"{a.source}/{a.upstream_id}",
            "source": a.source,
            "upstream_id": a.upstream_id,
            "media": a.media,
            "title": a.title,
            "time": a.published_beijing.isoformat(),
            "url": a.url,
            "stocks": [s.as_dict() for s in a.stocks],
            "topics": [t.as_dict() for t in a.topics],
            "audio_url": a.audio_url,
            "story": story,
            "story_size": size[story],
            "first_in_story": first[story][1] == row["id"],
            "cluster": row["cluster_id"],
            "canonical": canonical[story][2] == row["id"],
            "important": a.important,
        }
