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

The hot statements (a new report's neighbours, its signature and bucket rows, its story)
are plain SQL with bound parameters in the driver's placeholder style, built once and run on
the driver's cursor of the transaction's connection: per article, SQLAlchemy's bookkeeping
around a statement cost more than the statement (docs/benchmarks.md, #10).
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Connection, text

from finews.process import dedup, story

MAX_CANDIDATES = 12
"""Candidates judged per article: those sharing the most MinHash values (most similar) first,
and past them :data:`OTHER_OUTLETS` more from other outlets."""
OTHER_OUTLETS = 12
"""Reports of other outlets judged past the :data:`MAX_CANDIDATES` most similar (wave 15).
In a season of results one outlet's templated flashes of other companies (东方财富's
"X：上半年归母净利润…亿元 同比增长…%") share more of a lead than another outlet's report of the
same company in other words (同花顺's "X：2026年上半年净利润…亿元，同比增…%", p 0.99), and took
every place.  Over the 10,000 newest flashes of the corpus, 41 stories joined two or three
stories of the 12 places alone: 39 one company's half-year figures from two or three outlets,
one acquisition told thrice, one short flash of a longer one (docs/design.md, wave 15).  The
same outlet's rows past the first 12 stay unread: they are what crowded the places."""
MIN_SHARED = 2
"""MinHash values (of 40) a candidate must share: one alone is what two unrelated leads share
by chance (two or more: 99.3 % of the labelled same-story pairs)."""

_NEIGHBOURS = (
    "SELECT c.article_id, s.facts, a.cluster_id, f.facts, fa.published_at, a.source FROM ("
    " SELECT article_id, COUNT(*) AS hits, MAX(published_at) AS newest FROM lsh_buckets"
    " WHERE band_key IN ({keys}) AND published_at BETWEEN {m} AND {m} AND article_id != {m}"
    " GROUP BY article_id HAVING COUNT(*) >= {min_shared}"
    " ORDER BY COUNT(*) DESC, MAX(published_at) DESC, article_id DESC LIMIT {limit}) c"
    " JOIN article_signatures s ON s.article_id = c.article_id"
    " JOIN articles a ON a.id = c.article_id"
    " LEFT JOIN article_signatures f ON f.article_id = a.cluster_id"
    " LEFT JOIN articles fa ON fa.id = a.cluster_id"
    " ORDER BY c.hits DESC, c.newest DESC, c.article_id DESC"
)
"""A new report's candidates — up to ``MAX_CANDIDATES`` articles sharing ``MIN_SHARED`` or
more MinHash values within ``story.WINDOW`` of it, the most similar first — with their
facts and stories, and their stories' first reports (facts, time), in one statement.  The
time comes from the article row, so the window holds even for a first report with no
stored facts.  The bucket table's own key (band, time, article: migration 14) answers the
inner query, as the covering index of migration 13 did before."""
_ADD_SIGNATURE = (
    "INSERT INTO article_signatures (article_id, signature, facts) VALUES ({m}, {m}, {m})"
)
_ADD_BUCKET = "INSERT INTO lsh_buckets (band_key, article_id, published_at) VALUES ({m}, {m}, {m})"
_SET_CLUSTER_SQL = "UPDATE articles SET cluster_id = {m} WHERE id = {m}"
_STORED_FACTS = text("SELECT facts FROM article_signatures WHERE article_id = :me")
_ORPHANS = text(
    "SELECT id FROM articles WHERE cluster_id = :story ORDER BY published_at, id LIMIT 1"
)
_MOVE_STORY = text(
    "UPDATE articles SET cluster_id = :new, change_seq = :seq WHERE cluster_id = :story"
)
_DROP_BUCKETS = text("DELETE FROM lsh_buckets WHERE article_id = :me")
_DROP_SIGNATURE = text("DELETE FROM article_signatures WHERE article_id = :me")
_CURRENT = text("SELECT cluster_id FROM articles WHERE id = :me")
_FOLLOWERS = text("SELECT 1 FROM articles WHERE cluster_id = :me AND id != :me LIMIT 1")


class _Statements(NamedTuple):
    """The write path's statements in the driver's own placeholder style, built once."""

    neighbours: str
    add_signature: str
    add_bucket: str
    set_cluster: str


@lru_cache(maxsize=4)
def _statements(paramstyle: str) -> _Statements:
    m = "?" if paramstyle == "qmark" else "%s"
    return _Statements(
        _NEIGHBOURS.format(
            keys=",".join([m] * dedup.BANDS),
            m=m,
            min_shared=MIN_SHARED,
            limit=MAX_CANDIDATES + OTHER_OUTLETS,
        ),
        _ADD_SIGNATURE.format(m=m),
        _ADD_BUCKET.format(m=m),
        _SET_CLUSTER_SQL.format(m=m),
    )


def _cursor(conn: Connection) -> tuple[Any, _Statements]:
    """The driver's cursor on the transaction's connection, and the statements in its
    placeholder style.  The write path runs a handful of statements per article; through
    the driver directly, each costs its SQL, not SQLAlchemy's bookkeeping around it (most
    of the time before).  Same connection, so same transaction."""
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None, "a connection in a transaction has its driver connection"
    return dbapi.cursor(), _statements(conn.dialect.paramstyle)


REMEMBERED = 1024
"""Reports' facts kept in the process (about 50 KB each once their n-gram sets are made):
a report is a candidate for the reports of the next hours."""
_recent: OrderedDict[str, story.Facts] = OrderedDict()
_recent_lock = threading.Lock()


def _remember(data: str, facts: story.Facts) -> None:
    with _recent_lock:
        _recent[data] = facts
        _recent.move_to_end(data)
        while len(_recent) > REMEMBERED:
            _recent.popitem(last=False)


def _parsed(data: str) -> story.Facts:
    """Stored facts, parsed once per process while recent, with the n-gram sets their
    comparisons computed.  A report stored by this process is remembered as it was judged
    (:func:`_keep`), so it is neither parsed nor cut into n-grams again when it is a
    candidate.  Keyed by the stored text itself, so a report another process changed is
    parsed anew."""
    with _recent_lock:
        found = _recent.get(data)
        if found is not None:
            _recent.move_to_end(data)
            return found
    found = story.Facts.from_json(data)
    _remember(data, found)
    return found


class Neighbours(NamedTuple):
    """What a new report is judged against: candidates (article id → facts, story; the most
    similar first) and, by story, its first report's facts and publication time."""

    candidates: dict[int, tuple[story.Facts, int]]
    first_reports: dict[int, story.Facts]
    first_times: dict[int, int]


def neighbours(conn: Connection, sig: dedup.Signature, published_at: int, me: int) -> Neighbours:
    """The stored candidates of a report and their stories (:data:`_NEIGHBOURS`).  Articles
    stored by an older judgement, with no facts, are left out (``finews reprocess`` gives
    them facts)."""
    cursor, sql = _cursor(conn)
    cursor.execute(
        sql.neighbours,
        (*sig.bands, published_at - story.WINDOW, published_at + story.WINDOW, me),
    )
    found = Neighbours({}, {}, {})
    mine = sig.facts.source if sig.facts is not None else None
    for at, (article_id, data, cluster, first, first_time, source) in enumerate(cursor.fetchall()):
        if not data or (at >= MAX_CANDIDATES and source == mine):
            continue
        story_id = cluster or article_id
        found.candidates[article_id] = (_parsed(data), story_id)
        if first:
            found.first_reports[story_id] = _parsed(first)
        if first_time is not None:
            found.first_times[story_id] = int(first_time)
    return found


def choose(
    mine: story.Facts,
    candidates: dict[int, tuple[story.Facts, int]],
    first_reports: dict[int, story.Facts],
    model: story.Model,
    first_times: dict[int, int] | None = None,
) -> int | None:
    """The story a report joins among its candidates' stories, or None for a new story.

    ``candidates``: article id → (facts, story id), most similar first; ``first_reports``:
    story id → facts of its first report (missing when it has none stored); ``first_times``:
    story id → when its first report was published (else taken from its facts).  Pure, so
    the rule can be tested and measured without a store."""
    members: dict[int, list[story.Facts]] = defaultdict(list)
    for facts, cluster in candidates.values():
        if len(members[cluster]) < story.MAX_COMPARED:
            members[cluster].append(facts)
    best: tuple[float, int] | None = None
    for cluster, found in members.items():
        first = first_reports.get(cluster)
        began = (first_times or {}).get(cluster, first.published if first else None)
        if began is not None and abs(mine.published - began) > story.WINDOW:
            continue
        if first is not None and all(f is not first for f in found):
            found = [*found, first]
        scores: list[float] = []
        for other in found:  # most similar first: a member below the floor ends the story
            scores.append(model.probability(mine, other))
            if scores[-1] < story.MIN_LINK and story.TWIN is None:
                break
        score = None
        if min(scores) >= story.MIN_LINK and len(scores) == len(found):
            mean = sum(scores) / len(found)
            if mean >= model.threshold:
                score = mean
        if story.TWIN is not None and max(scores) >= story.TWIN:
            # a copy of one of its reports (story.TWIN): it competes with the stories that
            # agree as a whole by how close the copy is
            score = max(score or 0.0, max(scores))
        if score is not None and (best is None or score > best[0]):
            best = (score, cluster)
    return best[1] if best else None


def assign(
    conn: Connection,
    article_id: int,
    published_at: int,
    sig: dedup.Signature | None,
    *,
    fresh: bool = False,
    regroup: bool = False,
) -> tuple[int, int | None]:
    """Store the article's signature, facts and buckets; return (the story it is in now,
    the story it was in before: None for a new row).  It joins an existing story it matches
    as a whole, or starts its own.  ``fresh``: a new row.  ``regroup`` (``reprocess``): judge
    it anew even when it is the first report of a story (its followers are judged again
    after it)."""
    previous: int | None = None
    if not fresh:
        previous = conn.execute(_CURRENT, {"me": article_id}).scalar()
        stored = conn.execute(_STORED_FACTS, {"me": article_id}).first()
        if (
            not regroup
            and stored is not None
            and sig is not None
            and sig.facts is not None
            and stored[0] == sig.facts.to_json()
            and previous is not None
        ):
            return previous, previous  # what the judgement reads did not change
        conn.execute(_DROP_BUCKETS, {"me": article_id})
        conn.execute(_DROP_SIGNATURE, {"me": article_id})
        if (
            not regroup
            and previous == article_id
            and conn.execute(_FOLLOWERS, {"me": article_id}).first()
        ):
            # the first report of a story keeps it: its followers were judged against it
            if sig is not None:
                _keep(conn, sig, published_at, article_id)
            return article_id, previous
    cluster = article_id
    if sig is not None and sig.facts is not None:
        near = neighbours(conn, sig, published_at, article_id)
        chosen = choose(
            sig.facts, near.candidates, near.first_reports, story.model(), near.first_times
        )
        if chosen is not None:
            cluster = chosen
    if sig is not None:
        _keep(conn, sig, published_at, article_id)
    cursor, sql = _cursor(conn)
    cursor.execute(sql.set_cluster, (cluster, article_id))
    return cluster, previous


def reassign_orphans(conn: Connection, deleted: list[tuple[int, int | None]], seq: int) -> None:
    """After deleting articles (id, story): a story whose first report went keeps its other
    reports under the earliest of them (a story id is always a member's, so a row id that
    SQLite reuses never lands in an old story), marked changed so the site follows."""
    for article_id, cluster in deleted:
        if cluster != article_id:
            continue
        heir = conn.execute(_ORPHANS, {"story": article_id}).scalar()
        if heir is not None:
            conn.execute(_MOVE_STORY, {"new": heir, "seq": seq, "story": article_id})


def _keep(conn: Connection, sig: dedup.Signature, published_at: int, me: int) -> None:
    """Store the report's signature, facts and bucket rows (one statement for the rows)."""
    facts = None
    if sig.facts is not None:
        facts = sig.facts.to_json()
        _remember(facts, sig.facts)
    cursor, sql = _cursor(conn)
    cursor.execute(sql.add_signature, (me, sig.to_bytes(), facts))
    cursor.executemany(sql.add_bucket, [(key, me, published_at) for key in sig.bands])
