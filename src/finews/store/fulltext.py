"""The full-text index: an SQLite FTS5 table over jieba-segmented text (issue #6).

``article_fts`` has one row per article (rowid = ``articles.id``) and four columns,
weighted in the ranking: ``title``, ``body`` (the body text, and the digest when the body does
not say it: :func:`finews.process.text.said_once_text`) and ``tags`` (category,
and each tagged stock's code and name — so a stock code finds the articles tagged with
it even where the text only names the company), and ``grams`` (title and body as
character bigrams, :func:`finews.search.query.grams`, weight 0: it makes a literal match
findable, never ranks it).  The media is not indexed: it is a filter (``media=``), and a
company that is also an outlet (同花顺) must not match everything the outlet published.
The store keeps the index in step inside its write transactions.  Ranking is BM25
blended with recency: the score is divided by ``1 + age / RECENCY_SCALE``
(docs/search.md).  A query that finds fewer than ``RELAX_BELOW`` articles is run again
relaxed (:meth:`Query.relaxed`), and the page says so.

On PostgreSQL the same documents go into a GIN-indexed ``tsvector``
(:mod:`finews.store.fts_postgres`); this module picks the one the connection needs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, text

from finews.model import Article
from finews.process.stockcodes import typed_code
from finews.process.text import said_once_text
from finews.search import rerank
from finews.search.query import Query, grams, verbatim_forms
from finews.search.segment import index_text
from finews.store import fts_postgres

TABLE = "article_fts"
WEIGHTS = (3.0, 1.0, 1.0, 0.0)
"""BM25 weights of title, body, tags, grams (chosen on the tuning half of
bench/search_judged: docs/benchmarks.md)."""
RELAX_BELOW = 50
"""A strict query with fewer matches than this is answered relaxed: when the articles that
have every word cannot fill the first 50 results (what a reader scrolls, and what recall@50
measures), those with most of the words follow them.  10 until wave 7 of #11: on the tune
half of bench/search_judged with its 24 new event queries, 30, 50, 100 and "always" all
gave recall@50 0.918 against 0.903 with 10 (nDCG@10 0.933 against 0.934): queries whose
strict form found 12–40 of 25–104 relevant articles (三星电子罢工, 日本央行加息,
存储芯片涨价).  PostgreSQL keeps its own (:data:`fts_postgres.RELAX_BELOW`)."""
RARE_BELOW: int | None = 50
"""A word followed by a generic head (汉坦病毒疫情: :data:`finews.search.query.GENERIC_HEADS`),
which :meth:`Query.relaxed` leaves strict, is answered, when the two find fewer than the
relaxing threshold, by the word alone (the head ranks) if the word is in fewer stored
articles than this while the head is in at least this many: 汉坦病毒疫情 found 9 of the 16
flashes about the outbreak, 汉坦病毒 alone finds all 16 and puts the 9 first, where 上海疫情
never becomes all of Shanghai's news.  Counted from the index, unfiltered.  None: off."""
SEARCH_INDEX = "ix_articles_search"
"""A covering index of the article columns search ranks and filters by."""
RANK_CANDIDATES = 1000
"""A query with more matches than this ranks (BM25, recency) only its newest stored matches
for the first pages — a common word (美元: 10,000 of 100,000 articles) would otherwise pay
the ranking function for every match (docs/benchmarks.md, #11).  Its total is still exact;
a page past this many ranks every match, these first."""
RECENCY_SCALE = 3650 * 86400
"""The score is divided by ``1 + age / RECENCY_SCALE``: an article a year old ranks as if its
BM25 score were 10 % lower — enough to put the newer of two equal matches first, never enough
to lift a flash that mentions the query above one about it (chosen on the tune half of
bench/search_judged, where 30 days did exactly that: docs/benchmarks.md)."""

RERANK_TOP = 20
"""The best this many first-pass matches — the first page — are ranked again by what their
headline and lead say (:mod:`finews.search.rerank`); pages beyond them keep the first
pass's order.  20, 30, 50 and 100 gave the same figures on the tune half of
bench/search_judged (10 was lower); 20 reads the fewest rows: at 100,000 articles the pass
cost 1.6–1.9 ms of a search with 50 (docs/benchmarks.md)."""

_CREATE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5("
    "title, body, tags, grams, tokenize = 'unicode61 remove_diacritics 2')"
)


def available(conn: Connection) -> bool:
    return conn.dialect.name in {"sqlite", "postgresql"}


def _postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def create(conn: Connection) -> None:
    if _postgres(conn):
        fts_postgres.create(conn)
    elif available(conn):
        conn.exec_driver_sql(_CREATE)


def _tags_text(article: Article) -> str:
    parts = [article.category]
    for stock in article.stocks:
        parts += [stock.code, stock.name]
    return " ".join(p for p in parts if p)


Document = tuple[str, str, str, str]
"""The indexed columns of an article: title, body, tags (segmented), grams."""


def document(article: Article) -> Document:
    """The indexed columns of an article: segmented title, body and tags, and the
    character bigrams of title and body."""
    body = said_once_text(article)
    return (
        index_text(article.title),
        index_text(body),
        index_text(_tags_text(article)),
        f"{grams(article.title)} {grams(body)}".strip(),
    )


def index(conn: Connection, rows: Iterable[tuple[int, Article]]) -> None:
    """(Re)index articles by id: their previous row, if any, is replaced."""
    index_documents(conn, ((i, document(article)) for i, article in rows))


def index_documents(conn: Connection, rows: Iterable[tuple[int, Document]]) -> None:
    """(Re)index by id from documents made by :func:`document` (made before the write
    transaction, to keep it short)."""
    if not available(conn):
        return
    if _postgres(conn):
        fts_postgres.index(conn, rows)
        return
    values = [(article_id, *columns) for article_id, columns in rows]
    if not values:
        return
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cursor.executemany(f"DELETE FROM {TABLE} WHERE rowid = ?", [(v[0],) for v in values])
    cursor.executemany(
        f"INSERT INTO {TABLE}(rowid, title, body, tags, grams) VALUES (?, ?, ?, ?, ?)", values
    )


def unindex(conn: Connection, ids: Sequence[int]) -> None:
    if _postgres(conn):
        fts_postgres.unindex(conn, ids)
    elif available(conn) and ids:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.executemany(f"DELETE FROM {TABLE} WHERE rowid = ?", [(i,) for i in ids])


@dataclass(frozen=True)
class Filters:
    """What narrows a search or a listing; every field optional."""

    source: str | None = None
    media: str | None = None
    stock: str | None = None
    since: int | None = None
    """epoch seconds, inclusive"""
    until: int | None = None
    """epoch seconds, exclusive"""
    important: bool | None = None


def stock_codes(stock: str) -> list[str]:
    """The stored codes a user's stock filter means: ``600928`` → ``600928.SH``, as every
    face reads a typed code (:func:`finews.process.stockcodes.typed_code`: ``sz600519`` is
    600519.SH, ``00700`` is 00700.HK, full-width digits fold)."""
    code = typed_code(stock)
    return [code] if code else [stock.strip().upper()]


def filter_sql(filters: Filters, params: dict[str, Any], alias: str = "a") -> list[str]:
    """SQL conditions on the ``articles`` table (as ``alias``) for the filters."""
    where: list[str] = []
    if filters.source:
        where.append(f"{alias}.source = :source")
        params["source"] = filters.source
    if filters.media:
        where.append(f"{alias}.media = :media")
        params["media"] = filters.media
    if filters.since is not None:
        where.append(f"{alias}.published_at >= :since")
        params["since"] = filters.since
    if filters.until is not None:
        where.append(f"{alias}.published_at < :until")
        params["until"] = filters.until
    if filters.important is not None:
        where.append(f"{alias}.important = :important")
        params["important"] = bool(filters.important)
    if filters.stock:
        codes = stock_codes(filters.stock)
        names = ", ".join(f":stock{i}" for i in range(len(codes)))
        where.append(
            f"{alias}.id IN (SELECT article_id FROM article_stocks WHERE code IN ({names}))"
        )
        params.update({f"stock{i}": c for i, c in enumerate(codes)})
    return where


def verbatim_sql(query: Query, params: dict[str, Any], postgres: bool) -> list[str]:
    """SQL conditions that an article holds each of the query's quoted phrases with signs
    as typed (:attr:`Query.verbatims`) in its title, digest or body — lower case, half- or
    full-width — and none of those it leaves out.  Read from the article rows of the
    index's matches only.  A substring: "1.5%" is also inside 11.5% (the index's words
    still require a 1 and a 5 of their own)."""
    where: list[str] = []
    phrases = [(p, "") for p in query.verbatims] + [(p, "NOT ") for p in query.excluded_verbatims]
    for i, (phrase, negation) in enumerate(phrases):
        held = []
        for j, form in enumerate(verbatim_forms(phrase)):
            name = f"verbatim{i}_{j}"
            params[name] = form
            for column in ("title", "digest", "body_html"):
                value = f"lower(a.{column})"
                held.append(
                    f"strpos({value}, :{name}) > 0" if postgres else f"instr({value}, :{name})"
                )
        where.append(f"{negation}(" + " OR ".join(held) + ")")
    return where


def _sqlite_sql(conditions: list[str]) -> fts_postgres.SearchSQL:
    """FTS5's statements for an expression in ``:q``."""
    # The index drives (CROSS JOIN keeps SQLite from starting at an articles index and
    # running the MATCH once per row), and the ranking reads the narrow covering index
    # instead of the wide article rows: half the time of a plain join on common words.
    join = (
        f"FROM {TABLE} CROSS JOIN articles a INDEXED BY {SEARCH_INDEX} "
        f"ON a.id = {TABLE}.rowid WHERE " + " AND ".join([f"{TABLE} MATCH :q", *conditions])
    )
    weights = ", ".join(str(w) for w in WEIGHTS)
    return fts_postgres.SearchSQL(
        join=join,
        id=f"{TABLE}.rowid",
        relevance=f"bm25({TABLE}, {weights})",
        count_all=f"SELECT count(*) FROM {TABLE} WHERE {TABLE} MATCH :q",
        greatest="max",
    )


@dataclass(frozen=True)
class Ranked:
    """One page of matches, best first, and how they were found."""

    hits: list[tuple[int, float]]
    """(article id, score): the lowest score is the best (BM25's sign, kept on PostgreSQL)"""
    total: int
    relaxed: bool = False
    """True when the strict query found fewer than RELAX_BELOW and most words sufficed"""


def search(
    conn: Connection,
    query: Query,
    filters: Filters,
    *,
    limit: int,
    offset: int,
    recent_first: bool,
    now: int,
    relax: bool = True,
) -> Ranked:
    """One page of matches and their number.  The strict query is counted first; when
    it finds fewer than :data:`RELAX_BELOW` and the query can be relaxed, the relaxed
    one (or'ed with the strict one, so a superset) answers instead — the same on both
    dialects."""
    params: dict[str, Any] = {"now": now, "scale": RECENCY_SCALE}
    conditions = filter_sql(filters, params)
    postgres = _postgres(conn)
    conditions += verbatim_sql(query, params, postgres)
    if postgres:
        fts_postgres.before_search(conn)
        statements = fts_postgres.search_sql(conditions)
    else:
        statements = _sqlite_sql(conditions)
    join, count_all = statements.join, statements.count_all

    ranking: dict[str, str] = {}
    """PostgreSQL: each match's ranking query (:meth:`Query.tsquery`, ``ranking``)"""

    def expression(q: Query) -> str | None:
        if not postgres:
            return q.fts()
        found = q.tsquery()
        if found is not None:
            ranking[found] = q.tsquery(ranking=True) or found
        return found

    def bound(match: str) -> dict[str, Any]:
        """The parameters of a statement that matches (and ranks) with ``match``."""
        return {**params, "q": match, "rq": ranking[match]} if postgres else {**params, "q": match}

    def count(match: str) -> int:
        if filters.stock and not postgres:
            # a stock has a few hundred articles: count from them, the matches looked up
            # once as a list (from the index, 美元 for one stock read 10,000 matches: 15 →
            # 2 ms); not for a source or a date, which select more than the words do
            where = " AND ".join(conditions)
            return int(
                conn.execute(
                    text(
                        f"SELECT count(*) FROM articles a WHERE {where} AND a.id IN "
                        f"(SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH :q)"
                    ),
                    {**params, "q": match},
                ).scalar_one()
            )
        if conditions:
            return int(
                conn.execute(text(f"SELECT count(*) {join}"), {**params, "q": match}).scalar_one()
            )
        # nothing filters the articles: the index alone counts
        return int(conn.execute(text(count_all), {"q": match}).scalar_one())

    def around_rare_word() -> Query | None:
        """A rare word and a generic head after it (:meth:`Query.word_and_head`): the query
        held by the word when the index has it in fewer than :data:`RARE_BELOW` articles and
        the head in at least as many, or None."""
        pair = query.word_and_head()
        if pair is None or RARE_BELOW is None:
            return None
        # counted no further than the bound (count_all is "SELECT count(*) FROM … WHERE …"
        # on both dialects): a common word stops there at once
        rows = count_all.replace("count(*)", "1", 1)
        upto = f"SELECT count(*) FROM ({rows} LIMIT {RARE_BELOW}) w"
        counted = []
        for term in pair:
            alone = expression(Query((term,)))
            if alone is None:
                return None
            counted.append(int(conn.execute(text(upto), {"q": alone}).scalar_one()))
        word, head = counted
        # the head common (the bound reached), the word rare: on a store of a few days
        # every word is under the bound, and 深圳事件 became every 深圳 flash (review, wave 17)
        return query.holding(pair[0]) if word < RARE_BELOW <= head else None

    def answering(match: str, total: int) -> tuple[str, int, bool]:
        """The match that answers: the strict one, or — it found fewer than RELAX_BELOW and
        the query can be relaxed — the relaxed one or'ed with it (every strict match stays,
        whatever the relaxed query dropped: a synonym of a compound word), with its count."""
        below = fts_postgres.RELAX_BELOW if postgres else RELAX_BELOW
        loose = query.relaxed() if relax and total < below else None
        if loose is None and relax and total < below:
            loose = around_rare_word()
        loose_match = expression(loose) if loose is not None else None
        if loose_match is not None:
            combined = f"({match}) {'|' if postgres else 'OR'} ({loose_match})"
            if postgres:
                ranking[combined] = f"({ranking[match]}) | ({ranking[loose_match]})"
            loose_match = combined
            loose_total = count(loose_match)
            if loose_total > total:
                return loose_match, loose_total, True
        return match, total, False

    match = expression(query)
    if match is None:
        return Ranked([], 0)
    # never more than the first pass ranks for the first pages (RANK_CANDIDATES)
    top = min(RERANK_TOP, RANK_CANDIDATES)
    second_pass = not recent_first and offset < top and top > 0
    end = max(offset + limit, top) if second_pass else offset + limit
    params.update(
        limit=end if second_pass else limit,
        offset=0 if second_pass else offset,
        cap=RANK_CANDIDATES,
    )

    def finish(rows: Sequence[Any], total: int, relaxed: bool) -> Ranked:
        hits = [(int(r[0]), float(r[1])) for r in rows]
        if second_pass:
            hits = (_second_pass(conn, query, hits[:top]) + hits[top:])[offset : offset + limit]
        return Ranked(hits, total, relaxed)

    def newest_rows(m: str, wanted: int) -> list[tuple[int, float]]:
        """The ``wanted`` newest matches of ``m``."""
        sql = _page_sql(statements, True, False, wanted)
        rows = conn.execute(text(sql), {**bound(m), "limit": wanted, "offset": 0}).all()
        return [(int(r[0]), float(r[1])) for r in rows]

    def strict_first(strict: str, strict_total: int, answer: str, total: int) -> Ranked:
        """A relaxed answer newest first (``--recent``): every article with all the words
        first (fewer than RELAX_BELOW of them, all read), then those with most of the
        words.  By date alone, the flashes with one of two words (央行 of 央行 降息)
        buried the few with both.  Ranked by relevance, the two kinds stay mixed: BM25
        and the second pass order them, and the strict ones first lowered nDCG@10 on the
        tune half of bench/search_judged (0.933 → 0.925: a strict query that keeps a weak
        word, 特朗普关税政策 or 英伟达发布财报, puts calendars first)."""
        # newest first: no second pass, and an order of time needs no ranking cap
        exact = newest_rows(strict, strict_total) if strict_total else []
        seen = {i for i, _ in exact}
        rest = [h for h in newest_rows(answer, offset + limit + len(exact)) if h[0] not in seen]
        return Ranked((exact + rest)[offset : offset + limit], total, True)

    def strict_then_loose(
        strict_sql: str,
        answer_sql: str,
        answer: str,
        total: int,
        strict: Sequence[Any] | None = None,
    ) -> Ranked:
        """A relaxed answer on PostgreSQL: the strict matches first, then the others, each
        in its own order (:data:`fts_postgres.STRICT_FIRST`).  Both read from the first
        row, so that every page cuts the same list (``strict``: those rows, read already)."""
        upto = {"limit": end if second_pass else offset + limit, "offset": 0}
        rows = _tiered(
            strict
            if strict is not None
            else conn.execute(text(strict_sql), {**bound(match), **upto}).all(),
            conn.execute(text(answer_sql), {**bound(answer), **upto}).all(),
        )
        return finish(rows if second_pass else rows[offset : offset + limit], total, True)

    if postgres and statements.rerank and not recent_first and end <= RANK_CANDIDATES:
        # one statement finds the page and counts the matches: GIN cannot count from the
        # index alone, and a common word's count visited every heap page its matches are
        # on a second time (美元 at 100,000 articles: 11 ms of a 34 ms search)
        sql = _page_sql(statements, False, True, end, with_total=True)
        rows = conn.execute(text(sql), bound(match)).all()
        total = int(rows[0][2]) if rows else count(match) if offset else 0
        answer, total, loose = answering(match, total)
        if loose and fts_postgres.STRICT_FIRST:
            # the first page's statement read the strict matches from the first row already
            return strict_then_loose(sql, sql, answer, total, rows if second_pass else None)
        if loose:
            rows = conn.execute(text(sql), bound(answer)).all()
        return finish(rows, total, loose)
    strict_total = count(match)
    answer, total, loose = answering(match, strict_total)
    if loose and recent_first:
        return strict_first(match, strict_total, answer, total)
    page = _page_sql(statements, recent_first, total > RANK_CANDIDATES, end)
    if loose and postgres and fts_postgres.STRICT_FIRST:
        return strict_then_loose(_page_sql(statements, False, False, end), page, answer, total)
    rows = conn.execute(text(page), bound(answer)).all()
    return finish(rows, total, loose)


def _tiered(strict: Sequence[Any], answer: Sequence[Any]) -> list[Any]:
    """The rows of a relaxed answer with the strict query's rows first, each list in its
    own order, none twice."""
    seen = {r[0] for r in strict}
    return [*strict, *(r for r in answer if r[0] not in seen)]


_TAGS = re.compile(r"<[^>]*>")
_HEADS = text(
    "SELECT id, title, substr(digest, 1, 300), "
    "CASE WHEN digest = '' THEN substr(body_html, 1, 600) ELSE '' END "
    "FROM articles WHERE id IN :ids"
).bindparams(bindparam("ids", expanding=True))
"""The headline and the start of the text of the candidates (the body only without a
digest); one statement, compiled once."""


def _second_pass(
    conn: Connection, query: Query, hits: list[tuple[int, float]]
) -> list[tuple[int, float]]:
    """The first-pass candidates ranked again by their headline and lead
    (:func:`finews.search.rerank.rerank`): one read of their titles and text starts."""
    if len(hits) < 2:
        return hits
    found = {
        int(r[0]): (str(r[1]), str(r[2]) or _TAGS.sub("", str(r[3])))
        for r in conn.execute(_HEADS, {"ids": [i for i, _ in hits]})
    }
    candidates = [rerank.Candidate(i, score, *found.get(i, ("", ""))) for i, score in hits]
    return rerank.rerank(query, candidates)


def _page_sql(
    sql: fts_postgres.SearchSQL,
    recent_first: bool,
    capped: bool,
    end: int,
    *,
    with_total: bool = False,
) -> str:
    """The statement of one page: by time, by score, or — more matches than
    :data:`RANK_CANDIDATES` — by score among the newest stored matches first.

    ``with_total`` (capped, ranked in a second statement: PostgreSQL): each row also
    carries the number of all matches, counted while the newest are found.  With no
    more matches than the cap, the newest are all of them: the same page as uncapped."""
    blend = f"rel / (1.0 + {sql.greatest}(0, :now - published_at) * 1.0 / :scale)"
    if recent_first:
        score = blend.replace("rel", sql.relevance, 1).replace("published_at", "a.published_at")
        return (
            f"SELECT a.id, {score} AS score {sql.join} "
            "ORDER BY a.published_at DESC, a.id DESC LIMIT :limit OFFSET :offset"
        )
    rows = f"SELECT {sql.id} AS id, {sql.relevance} AS rel, a.published_at AS published_at "
    if not capped:
        return (
            f"SELECT id, {blend} AS score FROM ({rows}{sql.join}) c "
            "ORDER BY score, id DESC LIMIT :limit OFFSET :offset"
        )
    newest = f"{sql.join} ORDER BY {sql.newest or sql.id} DESC LIMIT :cap"
    newest_ids = f"{sql.candidates or sql.join} ORDER BY {sql.newest or sql.id} DESC LIMIT :cap"
    if end <= RANK_CANDIDATES:
        # the index hands out matches newest first and stops at the cap: the relevance
        # function (bm25 reads each match's positions and column sizes) runs cap times
        if with_total:
            ids = f"SELECT {sql.id} AS id, count(*) OVER () AS total {newest_ids}"
            candidates = sql.rerank.replace("{candidates}", ids).replace(
                "{carried}", ", n.total AS total"
            )
            return (
                f"SELECT id, {blend} AS score, total FROM ({candidates}) c "
                "ORDER BY score, id DESC LIMIT :limit OFFSET :offset"
            )
        candidates = (
            sql.rerank.replace("{candidates}", f"SELECT {sql.id} AS id {newest_ids}").replace(
                "{carried}", ""
            )
            if sql.rerank
            else rows + newest
        )
        return (
            f"SELECT id, {blend} AS score FROM ({candidates}) c "
            "ORDER BY score, id DESC LIMIT :limit OFFSET :offset"
        )
    # a page beyond the cap: every match ranked, the candidates of the first pages
    # first, so that paging on neither repeats nor skips an article
    first = f"(SELECT min(id) FROM (SELECT {sql.id} AS id {newest_ids}) b)"
    return (
        f"SELECT id, {blend} AS score, CASE WHEN id >= {first} THEN 0 ELSE 1 END AS late "
        f"FROM ({rows}{sql.join}) c ORDER BY late, score, id DESC LIMIT :limit OFFSET :offset"
    )


def rebuild(conn: Connection, articles: Iterable[Sequence[tuple[int, Article]]]) -> None:
    """Index every stored article again (a migration that changes what is indexed):
    ``articles`` yields batches of (id, article) in id order."""
    if not available(conn):
        return
    if _postgres(conn):
        # a store migrated from before version 8 rebuilds before migration 15 made the
        # ranking table (the create is IF NOT EXISTS): wave 9's review
        fts_postgres.create(conn)
        fts_postgres.clear(conn)
    else:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")
        conn.exec_driver_sql(_CREATE)
    for batch in articles:
        index(conn, batch)
