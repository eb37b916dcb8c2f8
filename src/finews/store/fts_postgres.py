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
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, text

from finews.search.query import lexemes, ts_quote

TABLE = "article_search"
RANK_WEIGHTS = "{0.3333, 0, 0.3333, 1.0}"
"""ts_rank's weights for D, C, B, A: body 1, grams 0, tags 1, title 3, as the SQLite
store's BM25 (:data:`finews.store.fulltext.WEIGHTS`)."""
RANK_NORMALIZATION = 0
"""ts_rank's length normalisation: none.  1 (÷ 1 + log of the document's length, as BM25's
length term on SQLite) was expected to keep a long digest that names every word many times
below the flash about them; on the tune half of bench/search_judged it lowered events and
recall (2, 32 and ``ts_rank_cd`` no better: docs/quality.md).  The second pass
(:mod:`finews.search.rerank`) does that job on both stores."""
RELAX_BELOW = 10
"""PostgreSQL answers relaxed below 10 strict matches, not SQLite's 50
(:data:`finews.store.fulltext.RELAX_BELOW`): ``ts_rank`` has no notion of a word's
rarity — a query of several words is scored by how close together they stand — so the
articles that have only the common words of 韩国股市熔断 rank level with those that say
熔断, and on the tune half of bench/search_judged 50 lowered nDCG@10 from 0.922 to 0.907
(recall@50 0.892 → 0.890).  Weighing each word by its IDF (``ts_rank`` per word, BM25's
IDF from the statistics and counts) was tried and lost more (0.917 at 10)."""
_MAX_POSITION = 16383  # PostgreSQL's limit; later positions are clamped to it
_MAX_POSITIONS_PER_LEXEME = 255
_MAX_LEXEME_BYTES = 500
_COLUMN_GAP = 16

_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    " article_id INTEGER PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,"
    " document TSVECTOR NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS ix_{TABLE}_document ON {TABLE} USING GIN (document)",
)
_UPSERT = text(
    f"INSERT INTO {TABLE} (article_id, document) VALUES (:id, CAST(:doc AS tsvector)) "
    "ON CONFLICT (article_id) DO UPDATE SET document = excluded.document"
)
_DELETE = text(f"DELETE FROM {TABLE} WHERE article_id IN :ids").bindparams(
    bindparam("ids", expanding=True)
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
    values = [{"id": article_id, "doc": document(*columns)} for article_id, columns in rows]
    if values:
        conn.execute(_UPSERT, values)


def unindex(conn: Connection, ids: Sequence[int]) -> None:
    if ids:
        conn.execute(_DELETE, {"ids": list(ids)})


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


def search_sql(conditions: list[str]) -> SearchSQL:
    """The statements for a ``tsquery`` literal in ``:q``; the relevance is
    :func:`relevance`, so that the best comes first as with BM25 on SQLite."""
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
        rerank=(
            f"SELECT n.id AS id{{carried}}, {relevance('r.document')} AS rel, "
            "a.published_at AS published_at FROM ({candidates}) n "
            f"JOIN {TABLE} r ON r.article_id = n.id JOIN articles a ON a.id = n.id"
        ),
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
