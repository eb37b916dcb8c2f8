"""The store's focused modules (#16), each as functions over a connection, on a real SQLite
file with real articles (tests/data): what :class:`Store` delegates to, checked directly."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy.exc import DBAPIError

from finews.process.pipeline import Processor
from finews.search.query import parse
from finews.store import Store, reads, rows, schema, search, sourcestatus, stats
from finews.store import articles as writes
from finews.store.engine import explain_db_error, write_transaction
from finews.store.fulltext import Filters
from sitedata import real_articles


def _stored(store: Store, n: int = 12) -> list:  # type: ignore[type-arg]
    process = Processor.default()
    batch = [process(a) for a in real_articles(fast=n, posts=2)]
    with store.engine.connect() as conn:
        prepared = writes.prepare(conn, batch)
    with write_transaction(store.engine) as conn:
        report = writes.save(conn, batch, prepared, stamp=1_700_000_000)
    assert report.counts["new"] == len(batch)
    return batch


def test_rows_round_trip(store: Store) -> None:
    article = _stored(store)[-1]
    with store.engine.connect() as conn:
        row = (
            conn.execute(
                schema.articles.select().where(schema.articles.c.upstream_id == article.upstream_id)
            )
            .mappings()
            .one()
        )
    assert rows.row_to_article(row) == article
    assert row["section"] == rows.section_of(article)


def test_articles_save_update_delete_and_reads(store: Store) -> None:
    batch = _stored(store)
    first = batch[-1]
    with store.engine.connect() as conn:
        assert reads.get(conn, first.source, first.upstream_id) == first
        found = reads.find(conn, first.source, first.upstream_id)
        assert found is not None and found[1] == first
        assert reads.known(conn, first.source, [first.upstream_id, "no-such-id"]) == {
            first.upstream_id
        }
        assert reads.latest_id(conn) == len(batch)
        assert [a for _, a, _ in reads.articles_after(conn, 0, 100)] == batch
        newest = reads.list_articles(conn, Filters(), before=None, limit=3)
        everything = reads.list_articles(conn, Filters(), before=None, limit=100)
        assert newest == everything[:3] and len(everything) == len(batch)
        times = [(int(a.published.timestamp()), i) for i, a, _ in everything]
        assert times == sorted(times, reverse=True)  # newest first
        cursor = times[2]
        assert reads.list_articles(conn, Filters(), before=cursor, limit=100) == everything[3:]
        before = stats.version(conn)

    changed = replace(first, title=first.title + "（更新）")
    with write_transaction(store.engine) as conn:
        report = writes.save(conn, [changed], {}, stamp=1_700_000_100)
    assert report.outcomes == ["updated"]
    with store.engine.connect() as conn:
        assert reads.get(conn, first.source, first.upstream_id) == changed
        assert [r[1] for r in reads.revisions(conn, first.source, first.upstream_id)] == [
            first.title
        ]
        assert stats.version(conn) == before + 1

    with write_transaction(store.engine) as conn:
        assert writes.delete_articles(conn, [(first.source, first.upstream_id)], 1) == 1
    with store.engine.connect() as conn:
        assert reads.get(conn, first.source, first.upstream_id) is None
        assert stats.count(conn) == len(batch) - 1


def test_search_over_a_connection(store: Store) -> None:
    batch = _stored(store)
    word = batch[-1].title[:4]
    with store.engine.connect() as conn:
        page = search.search(
            conn,
            parse(word),
            Filters(),
            limit=5,
            offset=0,
            recent_first=False,
            now=2_000_000_000,
        )
    assert page.total >= 1
    assert any(word in h.article.title for h in page.hits)


def test_source_status(store: Store) -> None:
    _stored(store)
    with write_transaction(store.engine) as conn:
        sourcestatus.record_poll(conn, "cls.telegraph", ok=False, error="boom", new=0, stamp=10)
        sourcestatus.record_poll(conn, "cls.telegraph", ok=False, error="boom", new=0, stamp=20)
        sourcestatus.record_poll(conn, "eastmoney.fast", ok=True, error="", new=3, stamp=30)
    with store.engine.connect() as conn:
        status = sourcestatus.source_status(conn)
    assert status["cls.telegraph"]["consecutive_failures"] == 2
    assert status["cls.telegraph"]["last_error"] == "boom"
    assert status["eastmoney.fast"]["last_success_at"] == 30
    assert status["eastmoney.fast"]["articles"] >= 1


def test_stats_and_export_rows(store: Store) -> None:
    batch = _stored(store)
    with store.engine.connect() as conn:
        figures = stats.stats(conn)
        records = list(stats.export_rows(conn))
        assert stats.integrity_check(conn) == "ok"
    assert figures["articles"] == len(batch) == len(records)
    assert sum(s["articles"] for s in figures["sources"]) == len(batch)
    assert {r["id"] for r in records} == {f"{a.source}/{a.upstream_id}" for a in batch}


def test_engine_explains_a_damaged_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    with pytest.raises(DBAPIError) as caught:
        from sqlalchemy import create_engine, text

        with create_engine(f"sqlite:///{damaged}").connect() as conn:
            conn.execute(text("SELECT * FROM sqlite_master"))
    assert isinstance(caught.value.orig, sqlite3.DatabaseError)
    assert "finews check" in explain_db_error(caught.value)
