"""PostgreSQL's ranking vectors (migration 15, wave 9 of #11): ``ts_rank`` of the newest
candidates reads each article's search document without its character bigrams, from a
narrow table of its own — and ranks exactly as over the whole document.  On real articles
(tests/data), in a real PostgreSQL (skipped without ``scripts/services.sh``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from conftest import postgres_url
from finews.model import StockTag
from finews.process.pipeline import Processor
from finews.search.query import parse
from finews.search.service import search
from finews.store import Store, fts_postgres, fulltext
from finews.store.fulltext import Filters
from sitedata import populate
from test_search_meaning import NOW, every_flash

QUERIES = [
    "银行",
    "西安银行 抗疫",
    "央行 MLF",
    "公司 市场",  # an & query with one pair of words far apart: rank 3e-10 (see below)
    "银 行",  # two lone characters: prefixes (银:* & 行:*)
    "股 市",
    '"人民银行" -降准',
    "英伟达 财报",
    "600928",
]
"""Common and rare words, aliases, an exclusion, a phrase, a stock code, prefixes, and
queries whose ranking over the vector alone would differ from the document's."""

FILTERS = [Filters(), Filters(source="cls.telegraph")]


def _answers(store: Store) -> list[Any]:
    """What search answers, scores and all: the first page (the second pass included),
    and the first pass's order past it."""
    out: list[Any] = []
    for query in QUERIES:
        for filters in FILTERS:
            found = search(store, query, filters, limit=30, now=NOW)
            out.append([(r.article.upstream_id, r.score) for r in found.results])
            with store.engine.connect() as conn:
                ranked = fulltext.search(
                    conn, parse(query), filters, limit=30, offset=20, recent_first=False, now=NOW
                )
            out.append((ranked.total, ranked.relaxed, ranked.hits))
    return out


def _filled(url: str) -> Store:
    store = Store.open(url)
    populate(store)
    processor = Processor.default()
    store.save([processor(a) for a in every_flash()])
    return store


def _rank_rows_match_the_documents(store: Store) -> int:
    """Every indexed article has its ranking row: the document's words (ts_filter to
    A, B, D) and the article's time; nothing else has one.  Returns their number."""
    with store.engine.connect() as conn:
        indexed, ranked, same, orphans = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM article_search), (SELECT count(*) FROM article_rank),"
                " (SELECT count(*) FROM article_rank r JOIN article_search s USING (article_id)"
                "  JOIN articles a ON a.id = r.article_id"
                "  WHERE r.ranked = ts_filter(s.document, '{a,b,d}')"
                "  AND r.published_at = a.published_at),"
                " (SELECT count(*) FROM article_rank r"
                "  WHERE NOT EXISTS (SELECT 1 FROM article_search s"
                "  WHERE s.article_id = r.article_id))"
            )
        ).one()
    assert indexed == ranked == same and orphans == 0
    return int(ranked)


def test_the_ranking_vector_needs_the_document_where_ts_rank_would_differ() -> None:
    """The two cases the ranking statement hands back to the document, on real articles:
    an ``&`` query whose words stand far apart (a rank below 2⁻²⁹, which a bigram's pair of
    weight 0 rounds), and lone characters as prefixes (ts_rank pairs the last lexeme a prefix
    finds, which without the bigrams is another one).  Without those fallbacks the tests
    below would fail."""
    with _filled(postgres_url()) as store, store.engine.connect() as conn:
        differ: dict[str, list[tuple[float, float]]] = {}
        for query in ("公司 市场", "银 行"):
            parsed = parse(query)
            rows = conn.execute(
                text(
                    f"SELECT ts_rank('{fts_postgres.RANK_WEIGHTS}', s.document, CAST(:rq AS"
                    f" tsquery)), ts_rank('{fts_postgres.RANK_WEIGHTS}', r.ranked, CAST(:rq AS"
                    " tsquery)) FROM article_search s JOIN article_rank r USING (article_id)"
                    " WHERE s.document @@ CAST(:q AS tsquery)"
                ),
                {"q": parsed.tsquery(), "rq": parsed.tsquery(ranking=True)},
            ).all()
            differ[query] = [(old, new) for old, new in rows if old != new]
    # far-apart words: tiny values only, every one under the threshold
    assert differ["公司 市场"]
    assert all(new < fts_postgres.EXACT_BELOW for _, new in differ["公司 市场"])
    # prefixes: a real rank where the document gives 0
    assert any(new > 0.1 for _, new in differ["银 行"])


def test_a_v14_store_gets_its_ranking_vectors_and_searches_the_same() -> None:
    """Migration 15 on a PostgreSQL store of version 14: every indexed article gets its
    ranking row, and every search answers exactly as ranked over the documents — as version
    14 ranked (the statement without ranking rows falls back to the document and the
    article's time, the version-14 expressions)."""
    url = postgres_url()
    with _filled(url) as store:
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM article_rank"))
        over_documents = _answers(store)
        with store.engine.begin() as conn:  # back to how version 14 left it
            conn.execute(text("DROP TABLE article_rank"))
            conn.execute(text("DELETE FROM schema_migrations WHERE version = 15"))
    with Store.open(url) as store:
        with store.engine.connect() as conn:
            versions = [r[0] for r in conn.execute(text("SELECT version FROM schema_migrations"))]
        assert max(versions) == 15
        assert _rank_rows_match_the_documents(store) == store.count() > 150
        assert _answers(store) == over_documents
        assert any(page for page in over_documents[::2])


def test_the_write_path_keeps_the_ranking_rows() -> None:
    """New, updated (another text, another time), re-tagged and deleted articles: the
    ranking rows follow, in the same write."""
    with Store.open(postgres_url()) as store:
        flashes = [Processor.default()(a) for a in every_flash()]
        store.save(flashes)
        assert _rank_rows_match_the_documents(store) == len(flashes)
        first, second = flashes[0], flashes[1]
        moved = replace(
            first,
            title="完全不同的标题：英伟达发布财报",
            published=first.published - timedelta(days=400),
        )
        store.save([moved])
        assert _rank_rows_match_the_documents(store) == len(flashes)
        hits = search(store, "英伟达 财报", limit=50, now=NOW).results
        assert first.upstream_id in [r.article.upstream_id for r in hits]
        store.reprocess(lambda a: replace(a, stocks=(StockTag("600928.SH", "西安银行", "name"),)))
        assert _rank_rows_match_the_documents(store) == len(flashes)
        with store.engine.connect() as conn:
            second_id = conn.execute(
                text("SELECT id FROM articles WHERE source = :s AND upstream_id = :u"),
                {"s": second.source, "u": second.upstream_id},
            ).scalar_one()
        assert store.delete([second.key]) == 1
        assert _rank_rows_match_the_documents(store) == len(flashes) - 1
        with store.engine.connect() as conn:
            left = conn.execute(
                text("SELECT count(*) FROM article_rank WHERE article_id = :i"), {"i": second_id}
            ).scalar_one()
        assert left == 0


def test_a_store_from_before_version_8_upgrades() -> None:
    """Wave 9's review: migration 8 rebuilds the index, and the rebuild wrote the ranking
    table before migration 15 had made it — a PostgreSQL store of version 5 to 7 failed to
    open ("relation article_rank does not exist")."""
    url = postgres_url()
    with _filled(url) as store, store.engine.begin() as conn:
        conn.execute(text("DROP TABLE article_rank"))
        # migration 8 (the index rebuilt) runs again before 15, as on a store of version 7;
        # the migrations between are kept (they are not made to run twice)
        conn.execute(text("DELETE FROM schema_migrations WHERE version IN (8, 15)"))
    with Store.open(url) as store:
        with store.engine.connect() as conn:
            versions = [r[0] for r in conn.execute(text("SELECT version FROM schema_migrations"))]
        assert max(versions) == 15
        assert _rank_rows_match_the_documents(store) == store.count() > 150


def test_a_relaxed_answer_ranks_the_articles_with_every_word_first() -> None:
    """PostgreSQL relaxes a query below 50 strict matches, as SQLite does, and — ts_rank
    knowing no word's rarity — lists every article with all the words before those with
    most of them (fts_postgres.STRICT_FIRST, wave 16); pages cut that one list.  Ranked
    together, the one article with all of A股, 三大指数 and 收涨 came second."""
    with _filled(postgres_url()) as store:
        for query in ("A股 三大指数 收涨", "公司 公告 股份", "央行开展MLF操作"):
            strict = search(store, query, limit=100, now=NOW, relax=False).results
            exact = {r.article.upstream_id for r in strict}
            answer = search(store, query, limit=100, now=NOW)
            assert answer.relaxed and exact and answer.total > len(exact), query
            got = [r.article.upstream_id for r in answer.results]
            assert set(got[: len(exact)]) == exact, query
            pages = [
                r.article.upstream_id
                for offset in range(0, answer.total, 3)
                for r in search(store, query, limit=3, offset=offset, now=NOW).results
            ]
            assert pages == got, query
