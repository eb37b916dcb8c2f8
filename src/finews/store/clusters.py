"""Stories in the store: which stored story a new report joins (issue #10).

Called inside a write transaction for every inserted or changed article, so an article and
its story are committed together.  A story's id is the row id of its first report (the
``cluster_id`` column).  The work per article is bounded, so time stays linear:

1. **candidates**: up to ``MAX_CANDIDATES`` reports sharing ``MIN_SHARED`` or more values
   of the MinHash signature (:mod:`finews.process.dedup`) published within
   ``story.WINDOW`` of the new one, the most similar first;
2. **stories**: their stories, each judged *as a whole*: the new report is compared with
   the story's first report and with up to ``story.MAX_COMPARED`` of its members among the
   candidates (:mod:`finews.process.story`); it joins when the mean probability reaches the
   model's threshold and no compared member is clearly another story (``story.MIN_LINK``) —
   average linkage with a floor, so a chain A~B~C whose ends share nothing is not one story;
3. **a window from the first report**: a story only takes reports published within
   ``story.WINDOW`` of its first report, so stories of flashes span hours, not days.

The statements are plain SQL with bound parameters: built once, they cost less than
SQLAlchemy expressions per article.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

from sqlalchemy import Connection, bindparam, text

from finews.process import dedup, story

MAX_CANDIDATES = 12
"""Candidates read per article: those sharing the most MinHash values (most similar) first."""
MIN_SHARED = 2
"""MinHash values (of 40) a candidate must share: one alone is what two unrelated leads share
by chance (two or more: 99.3 % of the labelled same-story pairs)."""

_FACTS = text(
    "SELECT s.article_id, s.facts, a.cluster_id, f.facts"
    " FROM article_signatures s JOIN articles a ON a.id = s.article_id"
    " LEFT JOIN article_signatures f ON f.article_id = a.cluster_id"
    " WHERE s.article_id IN :ids"
).bindparams(bindparam("ids", expanding=True))
"""Candidates' facts and stories, and the facts of each story's first report, in one read."""
_DROP_BUCKETS = text("DELETE FROM lsh_buckets WHERE article_id = :me")
_DROP_SIGNATURE = text("DELETE FROM article_signatures WHERE article_id = :me")
_ADD_SIGNATURE = text(
    "INSERT INTO article_signatures (article_id, signature, facts) VALUES (:me, :sig, :facts)"
)
_SET_CLUSTER = text("UPDATE articles SET cluster_id = :cluster WHERE id = :me")
_CURRENT = text("SELECT cluster_id FROM articles WHERE id = :me")
_FOLLOWERS = text("SELECT 1 FROM articles WHERE cluster_id = :me AND id != :me LIMIT 1")


def _mark(conn: Connection) -> str:
    """The DB-API placeholder of the connection's driver (``?`` for sqlite3, ``%s`` else)."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _candidates(conn: Connection, sig: dedup.Signature, published_at: int, me: int) -> list[int]:
    """Articles sharing a band, most shared first; plain driver SQL, as it runs per article."""
    m = _mark(conn)
    marks = ",".join([m] * len(sig.bands))
    sql = (
        f"SELECT article_id FROM lsh_buckets WHERE band_key IN ({marks})"
        f" AND published_at BETWEEN {m} AND {m} AND article_id != {m}"
        f" GROUP BY article_id HAVING COUNT(*) >= {MIN_SHARED}"
        f" ORDER BY COUNT(*) DESC LIMIT {MAX_CANDIDATES}"
    )
    params = (*sig.bands, published_at - story.WINDOW, published_at + story.WINDOW, me)
    return [r[0] for r in conn.exec_driver_sql(sql, params)]


def _add_buckets(conn: Connection, sig: dedup.Signature, published_at: int, me: int) -> None:
    m = _mark(conn)
    conn.exec_driver_sql(
        f"INSERT INTO lsh_buckets (band_key, article_id, published_at) VALUES ({m}, {m}, {m})",
        [(key, me, published_at) for key in sig.bands],
    )


@lru_cache(maxsize=2048)
def _parsed(data: str) -> story.Facts:
    """Stored facts, parsed once per process while recent: a report is a candidate for the
    reports of the next hours, and its n-gram sets are computed on its first comparison.
    Keyed by the stored text itself, so a report another process changed is parsed anew."""
    return story.Facts.from_json(data)


def _facts_of(
    conn: Connection, ids: list[int]
) -> tuple[dict[int, tuple[story.Facts, int]], dict[int, story.Facts]]:
    """Stored facts and story of these articles, and the facts of their stories' first
    reports.  Articles stored by an older judgement, with no facts, are left out (``finews
    reprocess`` gives them facts)."""
    found: dict[int, tuple[story.Facts, int]] = {}
    first_reports: dict[int, story.Facts] = {}
    if not ids:
        return found, first_reports
    for article_id, data, cluster, first in conn.execute(_FACTS, {"ids": ids}):
        if data:
            found[article_id] = (_parsed(data), cluster or article_id)
            if first:
                first_reports[cluster or article_id] = _parsed(first)
    return found, first_reports


def choose(
    mine: story.Facts,
    candidates: dict[int, tuple[story.Facts, int]],
    first_reports: dict[int, story.Facts],
    model: story.Model,
) -> int | None:
    """The story a report joins among its candidates' stories, or None for a new story.

    ``candidates``: article id → (facts, story id), most similar first; ``first_reports``:
    story id → facts of its first report (missing when it has none stored).  Pure, so the
    rule can be tested and measured without a store."""
    members: dict[int, list[story.Facts]] = defaultdict(list)
    for facts, cluster in candidates.values():
        if len(members[cluster]) < story.MAX_COMPARED:
            members[cluster].append(facts)
    best: tuple[float, int] | None = None
    for cluster, found in members.items():
        first = first_reports.get(cluster)
        if first is not None:
            if abs(mine.published - first.published) > story.WINDOW:
                continue
            if all(f is not first for f in found):
                found = [*found, first]
        total = 0.0
        for other in found:  # most similar first: a member below the floor ends the story
            p = model.probability(mine, other)
            if p < story.MIN_LINK:
                break
            total += p
        else:
            mean = total / len(found)
            if mean >= model.threshold and (best is None or mean > best[0]):
                best = (mean, cluster)
    return best[1] if best else None


def assign(
    conn: Connection,
    article_id: int,
    published_at: int,
    sig: dedup.Signature | None,
    *,
    fresh: bool = False,
) -> int:
    """Store the article's signature, facts and buckets; return the story it joins (an
    existing story it matches as a whole, or its own id).  ``fresh``: a new row."""
    if not fresh:
        conn.execute(_DROP_BUCKETS, {"me": article_id})
        conn.execute(_DROP_SIGNATURE, {"me": article_id})
        current = conn.execute(_CURRENT, {"me": article_id}).scalar()
        if current == article_id and conn.execute(_FOLLOWERS, {"me": article_id}).first():
            # the first report of a story keeps it: its followers were judged against it
            if sig is not None:
                _keep(conn, sig, published_at, article_id)
            return article_id
    cluster = article_id
    if sig is not None and sig.facts is not None:
        ids = _candidates(conn, sig, published_at, article_id)
        candidates, first_reports = _facts_of(conn, ids)
        ordered = {i: candidates[i] for i in ids if i in candidates}
        chosen = choose(sig.facts, ordered, first_reports, story.model())
        if chosen is not None:
            cluster = chosen
    if sig is not None:
        _keep(conn, sig, published_at, article_id)
    conn.execute(_SET_CLUSTER, {"cluster": cluster, "me": article_id})
    return cluster


def _keep(conn: Connection, sig: dedup.Signature, published_at: int, me: int) -> None:
    facts = sig.facts.to_json() if sig.facts is not None else None
    conn.execute(_ADD_SIGNATURE, {"me": me, "sig": sig.to_bytes(), "facts": facts})
    _add_buckets(conn, sig, published_at, me)
