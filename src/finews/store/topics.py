"""Upstream topics of articles (财联社 ``subjects``, 华尔街见闻 channels; issue #15), indexed
for the topic pages of the web app.  The article row keeps its topics as JSON; this table
repeats them per topic, as ``article_stocks`` does for stocks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, func, insert, select, tuple_

from finews.model import Article
from finews.store import schema
from finews.store.rows import row_to_article

if TYPE_CHECKING:
    from finews.store.sqlstore import Store

A = schema.articles
T = schema.article_topics


@dataclass(frozen=True)
class TopicCount:
    id: str
    name: str
    articles: int
    newest_at: int


def write_topics(conn: Connection, articles: Iterable[Article]) -> int:
    """The topic rows of ``articles`` that have topics, replaced, in the caller's
    transaction (:meth:`Store.save`'s: a crash between the two writes left articles out of
    their topic pages before wave 13); returns rows written."""
    wanted = {a.key: a for a in articles if a.topics}
    written = 0
    keys = list(wanted)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        ids = {
            (r[0], r[1]): r[2]
            for r in conn.execute(
                select(A.c.source, A.c.upstream_id, A.c.id).where(
                    tuple_(A.c.source, A.c.upstream_id).in_(chunk)
                )
            )
        }
        if not ids:
            continue
        conn.execute(delete(T).where(T.c.article_id.in_(list(ids.values()))))
        rows = [
            {"article_id": ids[key], "topic_id": t.id, "name": t.name}
            for key in chunk
            if key in ids
            for t in {t.id: t for t in wanted[key].topics}.values()
        ]
        if rows:
            conn.execute(insert(T), rows)
            written += len(rows)
    return written


def topics(store: Store, limit: int = 200) -> list[TopicCount]:
    """Topics by their number of articles, most first.  A topic renamed upstream (the
    same id, another name) is one topic, named as its newest article files it — as its
    page names it (:func:`topic_articles`); wave 12's walk saw two rows."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(T.c.topic_id, T.c.name, func.count(), func.max(A.c.published_at))
            .join(A, A.c.id == T.c.article_id)
            .group_by(T.c.topic_id, T.c.name)
        ).all()
    merged: dict[str, TopicCount] = {}
    for topic_id, name, count, newest in rows:
        key, newest = str(topic_id), int(newest or 0)
        seen = merged.get(key)
        if seen is None:
            merged[key] = TopicCount(key, str(name), int(count), newest)
            continue
        latest = str(name) if (newest, str(name)) > (seen.newest_at, seen.name) else seen.name
        merged[key] = TopicCount(
            key, latest, seen.articles + int(count), max(newest, seen.newest_at)
        )
    ordered = sorted(merged.values(), key=lambda t: (-t.articles, -t.newest_at, t.id))
    return ordered[:limit]


def topic_count(store: Store, topic_id: str) -> int:
    """How many articles were filed under a topic."""
    with store.engine.connect() as conn:
        found = conn.execute(
            select(func.count()).select_from(T).where(T.c.topic_id == topic_id)
        ).scalar_one()
    return int(found)


def topic_articles(
    store: Store, topic_id: str, limit: int = 100, offset: int = 0
) -> tuple[str, list[Article]]:
    """A topic's name and its articles, newest first, ``offset`` of them skipped ("" and []
    for an unknown topic or past its last)."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(A, T.c.name.label("topic_name"))
            .join(T, T.c.article_id == A.c.id)
            .where(T.c.topic_id == topic_id)
            .order_by(A.c.published_at.desc(), A.c.id.desc())
            .limit(limit)
            .offset(offset)
        ).mappings()
        found = [(r["topic_name"], row_to_article(r)) for r in rows]
    return (found[0][0] if found else ""), [a for _, a in found]
