"""The full-text index on PostgreSQL: a GIN-indexed ``tsvector`` per article (issue #9).

The same jieba segmentation as on SQLite (:func:`finews.store.fulltext.document`), and the
same tokens: the segmented text is cut by :func:`finews.search.query.lexemes`, which
mimics SQLite's ``unicode61`` tokenizer, and the ``tsvector`` is written as a literal with
explicit positions and weights — PostgreSQL's own parser never sees the text, so neither
its locale nor a text-search configuration changes what is indexed.  Title words weigh
``A``, tags (category, stocks) ``B``, the character bigrams of title and body ``C`` (rank
weight 0, as the ``grams`` column on SQLite: found, never ranked), body ``D``; columns are
spaced apart so that a phrase never runs from one into the next.  A query is the
:meth:`Query.tsquery` of the same parsed query the SQLite store matches with FTS5.

Beside each document, in a narrow table of its own (:data:`RANK_TABLE`, migration 15), its
ranking vector — the document without the bigrams — and the article's publication time:
what ranking the newest candidates reads (:func:`search_sql`, docs/design.md, wave 9).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, text

from finews.search.query import lexemes, ts_quote

TABLE = "article_search"
RANK_TABLE = "article_rank"
"""Each indexed article's ranking vector (``ranked``: its ``document`` without the bigrams,
:data:`RANKED_WEIGHTS`) and its publication time, keyed by the article (migration 15, wave 9
of #11).  Ranking the newest candidates reads one narrow row each by its primary key,
instead of the document (3 kB on average, half of it bigrams, TOASTed when over 2 kB) and
the article's row.  A table of its own, not a column of ``article_search``: that table's
heap is what the bitmap scan visits for every match, and the wider heap slowed the common
words (美元, 10,148 matches: 19 → 27 ms; docs/benchmarks.md, wave 9)."""
RANK_WEIGHTS = "{0.3333, 0, 0.3333, 1.0}"
"""ts_rank's weights for D, C, B, A: body 1, grams 0, tags 1, title 3, as the SQLite
store's BM25 (:data:`finews.store.fulltext.WEIGHTS`).  The grams (C) weigh 0 and come after
every word, so ``ts_rank`` over the ranking vector is the document's value, the same float
— but for an ``&`` query's values below :data:`EXACT_BELOW` and for a query with a prefix,
whose candidates are ranked over the document (:func:`search_sql`)."""
RANKED_WEIGHTS = "{a,b,d}"
"""The weights the ranking vector keeps: it is ``ts_filter(document, '{a,b,d}')``."""
EXACT_BELOW = 1e-8
"""Below this ``ts_rank`` of the ranking vector, the candidate is ranked over its document
instead.  ``ts_rank`` of an ``&`` query (``calc_rank_and``) still counts a bigram's pairs
with the words, of weight 0: with no pair of words it gives 0 where the ranking vector
gives 1e-20, and after one pair of words far apart (a value below 2⁻²⁹ ≈ 1.9e-9) it rounds
the value through ``1 − (1 − r)``.  Above 2⁻²⁹ both give the same float, and an ``|`` query
(``calc_rank_or``) adds an exact 0 per bigram.  On the 200 fixed queries at 100,000
articles, 600 of 110,144 matches are below it (20 of them differ)."""
RANK_NORMALIZATION = 0
"""ts_rank's length normalisation: none.  1 (÷ 1 + log of the document's length, as BM25's
length term on SQLite) was expected to keep a long digest that names every word many times
below the flash about them; on the tune half of bench/search_judged it lowered events and
recall (2, 32 and ``ts_rank_cd`` no better: docs/quality.md).  The second pass
(:mod:`finews.search.rerank`) does that job on both stores."""
RELAX_BELOW = 50
"""PostgreSQL answers relaxed below 50 strict matches, as SQLite does
(:data:`finews.store.fulltext.RELAX_BELOW`), with the strict matches first
(:data:`STRICT_FIRST`).  It was 10, with both kinds ranked together, until wave 16."""
STRICT_FIRST = True
"""A relaxed answer on PostgreSQL ranks every strict match (the articles with all the
words) before the articles with most of them, each kind in ``ts_rank``'s order.
``ts_rank`` has no notion of a word's rarity — a query of several words is scored by how
close together they stand — so ranked together, the articles that have only the common
words of 韩国股市熔断 stood level with those that say 熔断: relaxing below 50 matches that way
lowered nDCG@10 on the tune half of bench/search_judged (0.922 → 0.907), and PostgreSQL
relaxed only below 10.  With the strict matches first, relaxing below 50 lifts both
figures of the tune half: nDCG@10 0.918 → 0.927, recall@50 0.894 → 0.908 (wave 16;
docs/quality.md).  SQLite's BM25 weighs a word by its rarity and keeps the kinds together
(:func:`finews.store.fulltext.search`)."""
_MAX_POSITION = 16383  # PostgreSQL's limit; later positions are clamped to it
_MAX_POSITIONS_PER_LEXEME = 255
_MAX_LEXEME_BYTES = 500
_COLUMN_GAP = 16

_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    " article_id INTEGER PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,"
    " document TSVECTOR NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS ix_{TABLE}_document ON {TABLE} USING GIN (document)",
    f"CREATE TABLE IF NOT EXISTS {RANK_TABLE} ("
    " article_id INTEGER PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,"
    " published_at BIGINT NOT NULL,"
    " ranked TSVECTOR NOT NULL)",
)
_UPSERT = text(
    # one statement, the literal parsed once: the ranking vector is ts_filter of the
    # document, as migration 15 made it (cheaper than a second literal from Python:
    # docs/benchmarks.md, wave 9)
    "WITH d AS (SELECT CAST(:doc AS tsvector) AS doc), "
    f"s AS (INSERT INTO {TABLE} (article_id, document) SELECT :id, doc FROM d "
    "ON CONFLICT (article_id) DO UPDATE SET document = excluded.document) "
    f"INSERT INTO {RANK_TABLE} (article_id, published_at, ranked) "
    f"SELECT a.id, a.published_at, ts_filter(d.doc, '{RANKED_WEIGHTS}') "
    "FROM d JOIN articles a ON a.id = :id "
    "ON CONFLICT (article_id) DO UPDATE "
    "SET published_at = excluded.published_at, ranked = excluded.ranked"
)
_DELETE = tuple(
    text(f"DELETE FROM {table} WHERE article_id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    for table in (RANK_TABLE, TABLE)
)


def create(conn: Connection) -> None:
    for statement in _CREATE:
        conn.exec_driver_sql(statement)


def tsvector(columns: Sequence[tuple[str, str]]) -> str:
    """A ``tsvector`` literal of (segmented text, weight letter) columns, in order."""
    positions: dict[str, list[int]] = {}
    weights: dict[tuple[str, int], str] = {}
    position = 1
    for column_text, weight in columns:
        for token in lexemes(column_text):
            if len(token.encode()) <= _MAX_LEXEME_BYTES:
                at = min(position, _MAX_POSITION)
                seen = positions.setdefault(token, [])
                if len(seen) < _MAX_POSITIONS_PER_LEXEME and (not seen or seen[-1] != at):
                    seen.append(at)
                    weights[(token, at)] = weight
            position += 1
        position += _COLUMN_GAP
    return " ".join(
        ts_quote(token) + ":" + ",".join(f"{at}{weights[(token, at)]}" for at in ats)
        for token, ats in positions.items()
    )


def document(title: str, body: str, tags: str, grams: str = "") -> str:
    """The ``tsvector`` literal of an article's segmented title, body and tags and its
    character bigrams."""
    return tsvector([(title, "A"), (tags, "B"), (body, ""), (grams, "C")])


def index(conn: Connection, rows: Iterable[tuple[int, tuple[str, str, str, str]]]) -> None:
    """(Re)index articles by id: the document, and its ranking vector with the article's
    publication time as its row holds it now (every write of an article indexes it)."""
    values = [{"id": article_id, "doc": document(*columns)} for article_id, columns in rows]
    if values:
        conn.execute(_UPSERT, values)


def unindex(conn: Connection, ids: Sequence[int]) -> None:
    if ids:
        for statement in _DELETE:
            conn.execute(statement, {"ids": list(ids)})


def clear(conn: Connection) -> None:
    """Every article out of the index (before :func:`index` of all of them again)."""
    conn.exec_driver_sql(f"DELETE FROM {RANK_TABLE}")
    conn.exec_driver_sql(f"DELETE FROM {TABLE}")


@dataclass(frozen=True)
class SearchSQL:
    """The pieces of a search statement in one dialect, for a query in ``:q``."""

    join: str
    """FROM … WHERE …: the matching articles (as ``a``), filtered"""
    id: str
    """the article id column of the index"""
    relevance: str
    """lower is better (BM25's sign)"""
    count_all: str
    """the number of matches when nothing filters (the index alone)"""
    greatest: str
    """the dialect's two-argument maximum"""
    newest: str = ""
    """the order of the newest matches (default: ``id``)"""
    rerank: str = ""
    """(id, rel, published_at) of the candidates in ``{candidates}`` (id, and the columns
    ``{carried}`` names), when the relevance cannot be computed in the statement that
    finds them"""
    candidates: str = ""
    """FROM … WHERE …: the matches when only their ids are needed (default: ``join``)"""


def relevance(document: str) -> str:
    """The first pass's relevance of ``document``: ``ts_rank`` of the ranking query in
    ``:rq`` (:meth:`Query.tsquery`, ``ranking``), negated (BM25's sign: lower is better)."""
    return f"-ts_rank('{RANK_WEIGHTS}', {document}, CAST(:rq AS tsquery), {RANK_NORMALIZATION})"


_RANKED = (
    # the ranking vector and the publication time: one look-up per candidate.  Over the
    # document (a prefix, or no row: see _RERANK), NULL.  OFFSET 0 keeps PostgreSQL from
    # merging this into the statement around it, which names rel twice: ts_rank would
    # run twice
    f"SELECT n.id AS id{{carried}}, CASE WHEN strpos(:rq, ':*') = 0 THEN "
    f"{relevance('r.ranked')} END AS rel, r.published_at AS published_at "
    f"FROM ({{candidates}}) n LEFT JOIN {RANK_TABLE} r ON r.article_id = n.id OFFSET 0"
)
_RERANK = (
    # ts_rank over the document where the ranking vector's value may not be the same
    # float (EXACT_BELOW); and over it for a query with a prefix (a lone character, 银:*):
    # calc_rank_and pairs only the last lexeme a prefix finds with the other words, and
    # without the bigrams that may be another lexeme.  No ranking row (none is missing
    # after migration 15; were one, it would cost speed, never a result): the document
    # and the article's time.
    f"SELECT n.id AS id{{carried}}, CASE WHEN n.rel IS NULL OR n.rel > {-EXACT_BELOW} "
    f"THEN (SELECT {relevance('d.document')} FROM {TABLE} d WHERE d.article_id = n.id) "
    "ELSE n.rel END AS rel, COALESCE(n.published_at, "
    "(SELECT a.published_at FROM articles a WHERE a.id = n.id)) AS published_at "
    f"FROM ({_RANKED}) n"
)


def search_sql(conditions: list[str]) -> SearchSQL:
    """The statements for a ``tsquery`` literal in ``:q``; the relevance is
    :func:`relevance`, so that the best comes first as with BM25 on SQLite — of the ranking
    vector (:data:`RANK_TABLE`) where the newest candidates are ranked apart, of the
    document where ``ts_rank`` runs in the statement that finds the matches (newest first,
    a page past the cap: every match, which would add a look-up each)."""
    match = "CAST(:q AS tsquery)"
    join = f"FROM {TABLE} s JOIN articles a ON a.id = s.article_id WHERE " + " AND ".join(
        [f"s.document @@ {match}", *conditions]
    )
    return SearchSQL(
        join=join,
        id="s.article_id",
        relevance=relevance("s.document"),
        # counting from the index alone when nothing filters: 15 → 5 ms for a common word
        count_all=f"SELECT count(*) FROM {TABLE} WHERE document @@ {match}",
        greatest="GREATEST",
        # + 0: ordered by the primary key, PostgreSQL would walk it backwards testing every
        # document (87 ms for a common word at 18,550) instead of the GIN index and a sort
        newest="s.article_id + 0",
        # ts_rank on the capped candidates only: in the statement that finds them it would
        # run before the sort, once per match
        rerank=_RERANK,
        # nothing filters the articles: the newest matches from the index's table alone.
        # Joined first, PostgreSQL hashed every article's publication time to sort the
        # ids (美元 at 100,000 articles: 10,148 matches, 45 → ms of a 60 ms search)
        candidates=join if conditions else f"FROM {TABLE} s WHERE s.document @@ {match}",
    )


def before_search(conn: Connection) -> None:
    """A search reads a few thousand rows at most: starting parallel workers costs more
    than they save (39 → 24 ms for a common word), and under load they compete for the
    cores; and it always has the GIN index to start from.  For this transaction only."""
    # A relaxed query (the strict one or'ed with the relaxed one) has many index entries,
    # and the planner then guesses a sequential scan cheaper than the GIN index: it reads
    # and tests every document (华虹宏力 营收: 176 ms at 18,550 articles, 0.3 ms with the
    # index).  Every search statement has an indexed @@ condition: use it.  Both settings
    # in one round trip.
    conn.exec_driver_sql(
        "SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL enable_seqscan = off"
    )
