"""What a briefing reads (issue #14): every report of the stories with a report in a period,
with what an extract and a grouping need (text, stocks, the upstream payload's labels).  Two
indexed reads: the period's stories through the publication-time index, then their reports
through the story index."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from finews.store import schema

A = schema.articles


@dataclass(frozen=True)
class Row:
    id: int
    story: int
    source: str
    upstream_id: str
    title: str
    media: str
    url: str
    published_at: int
    important: bool
    stocks: str
    """the stored JSON of the stock tags"""
    digest: str
    body_html: str
    raw: str
    category: str


def period_rows(conn: Connection, since: int, until: int) -> list[Row]:
    """The reports of every story told in [since, until), oldest first: also their reports
    from before ``since``, never those from after ``until`` (a briefing made late for a past
    period says what was known at its end)."""
    clusters = sorted(
        {
            int(c)
            for (c,) in conn.execute(
                select(A.c.cluster_id)
                .where(A.c.published_at >= since, A.c.published_at < until)
                .distinct()
            )
            if c is not None
        }
    )
    rows: list[Row] = []
    columns = (
        A.c.id,
        A.c.cluster_id,
        A.c.source,
        A.c.upstream_id,
        A.c.title,
        A.c.media,
        A.c.url,
        A.c.published_at,
        A.c.important,
        A.c.stocks,
        A.c.digest,
        A.c.body_html,
        A.c.raw,
        A.c.category,
    )
    for start in range(0, len(clusters), 500):
        for r in conn.execute(
            select(*columns).where(
                A.c.cluster_id.in_(clusters[start : start + 500]), A.c.published_at < until
            )
        ):
            rows.append(
                Row(
                    int(r.id),
                    int(r.cluster_id),
                    r.source,
                    r.upstream_id,
                    r.title,
                    r.media,
                    r.url,
                    int(r.published_at),
                    bool(r.important),
                    r.stocks,
                    r.digest,
                    r.body_html,
                    r.raw,
                    r.category,
                )
            )
    rows.sort(key=lambda r: (r.published_at, r.id))
    return rows
