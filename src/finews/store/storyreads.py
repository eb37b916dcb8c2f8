"""Reads of single stories and of stories' heat, for the MCP tools and the briefing
(issue #14): a story by its id with every report, the heat of the stories of a page of
articles, and the stock tags of a story's reports.  Functions over a connection, as
:mod:`finews.store.stories` (which reads the stories of a period)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import Connection, func, select

from finews.model import StockTag
from finews.store import schema
from finews.store.stories import REPORT_COLUMNS, Story, report_of

A = schema.articles


def story(conn: Connection, story_id: int) -> Story | None:
    """The story with this id (its first report's row id), every report oldest first."""
    rows = conn.execute(
        select(*REPORT_COLUMNS).where(A.c.cluster_id == story_id).order_by(A.c.published_at, A.c.id)
    ).all()
    if not rows:
        return None
    return Story(story_id, tuple(report_of(r) for r in rows))


def heat(conn: Connection, clusters: Iterable[int]) -> dict[int, tuple[int, int]]:
    """(reports, outlets) of each story; a story told once is (1, 1)."""
    unique = sorted(set(clusters))
    found = dict.fromkeys(unique, (1, 1))
    for start in range(0, len(unique), 500):
        rows = conn.execute(
            select(A.c.cluster_id, func.count(), func.count(func.distinct(A.c.media)))
            .where(A.c.cluster_id.in_(unique[start : start + 500]))
            .group_by(A.c.cluster_id)
        )
        found.update({int(c): (int(n), int(m)) for c, n, m in rows})
    return found


def stocks(conn: Connection, article_ids: Iterable[int]) -> dict[int, tuple[StockTag, ...]]:
    """The stock tags of these articles (as stored with them)."""
    ids = sorted(set(article_ids))
    found: dict[int, tuple[StockTag, ...]] = defaultdict(tuple)
    for start in range(0, len(ids), 500):
        rows = conn.execute(select(A.c.id, A.c.stocks).where(A.c.id.in_(ids[start : start + 500])))
        for article_id, blob in rows:
            found[int(article_id)] = tuple(
                StockTag(s["code"], s.get("name", ""), s.get("origin", "upstream"))
                for s in json.loads(blob or "[]")
            )
    return found
