"""Stories as a reader asks for them (issue #10): the stories of a period, each with every
report, ranked by how widely they were told.  Read-only queries over the ``cluster_id`` the
write path assigns (:mod:`finews.store.clusters`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from finews.model import from_epoch
from finews.store import schema

A = schema.articles


@dataclass(frozen=True)
class Report:
    """One report of a story, as a list or a story page shows it."""

    id: int
    source: str
    upstream_id: str
    title: str
    media: str
    published_at: int
    important: bool
    url: str


def report_of(row: Any) -> Report:
    """A report from a row (or any object) with the columns of :data:`REPORT_COLUMNS`:
    the one place that maps stored columns to a :class:`Report`."""
    return Report(
        int(row.id),
        row.source,
        row.upstream_id,
        row.title,
        row.media,
        int(row.published_at),
        bool(row.important),
        row.url,
    )


@dataclass(frozen=True)
class Story:
    """A story: its id (the row id of the report that started it) and its reports, oldest
    first (``first``: the earliest published, "首发")."""

    id: int
    reports: tuple[Report, ...]

    @property
    def first(self) -> Report:
        return self.reports[0]

    @property
    def outlets(self) -> int:
        return len({r.media for r in self.reports})

    @property
    def important(self) -> bool:
        return any(r.important for r in self.reports)

    @property
    def latest(self) -> int:
        return self.reports[-1].published_at

    def rank(self) -> tuple[int, int, int, int]:
        """Heat first (outlets, then reports), then importance, then the newest."""
        return (-self.outlets, -len(self.reports), -int(self.important), -self.latest)

    def as_dict(self) -> dict[str, Any]:
        first = self.first
        return {
            "story": self.id,
            "title": first.title,
            "first_media": first.media,
            "first_time": from_epoch(first.published_at).isoformat(),
            "outlets": self.outlets,
            "reports": len(self.reports),
            "important": self.important,
            "members": [
                {
                    # as `finews export json` and the API name an article (the upstream's
                    # URL is empty for most flashes)
                    "id": f"{r.source}/{r.upstream_id}",
                    "time": from_epoch(r.published_at).isoformat(),
                    "minutes_after_first": r.published_at // 60 - first.published_at // 60,
                    "media": r.media,
                    "source": r.source,
                    "title": r.title,
                    "url": r.url,
                    "important": r.important,
                }
                for r in self.reports
            ],
        }


REPORT_COLUMNS = (
    A.c.id,
    A.c.source,
    A.c.upstream_id,
    A.c.title,
    A.c.media,
    A.c.published_at,
    A.c.important,
    A.c.url,
)
"""The article columns a :class:`Report` is made of (:func:`report_of`)."""


def between(conn: Connection, since: int, until: int, limit: int) -> list[Story]:
    """The stories with a report published in [since, until), hottest first, each with
    all its reports (also those before ``since``)."""
    # every stored article has its story (migration 3 gave each its own; the write path
    # sets it in the same transaction), so cluster_id is read as it is, through its index
    clusters = [
        int(c)
        for (c,) in conn.execute(
            select(A.c.cluster_id)
            .where(A.c.published_at >= since, A.c.published_at < until)
            .distinct()
        )
        if c is not None
    ]
    members: dict[int, list[Report]] = {}
    for start in range(0, len(clusters), 500):
        chunk = clusters[start : start + 500]
        rows = conn.execute(
            select(*REPORT_COLUMNS, A.c.cluster_id)
            .where(A.c.cluster_id.in_(chunk))
            .order_by(A.c.published_at, A.c.id)
        )
        for r in rows:
            members.setdefault(int(r.cluster_id), []).append(report_of(r))
    stories = [Story(c, tuple(m)) for c, m in members.items()]
    stories.sort(key=Story.rank)
    return stories[:limit]


def outdated(conn: Connection) -> int:
    """Reports whose story was judged before issue #10 (no stored facts): ``finews
    reprocess`` regroups them."""
    s = schema.article_signatures
    return int(
        conn.execute(select(func.count()).select_from(s).where(s.c.facts.is_(None))).scalar_one()
    )
