"""The store on a real SQLite file: idempotent, revisioned, transactional."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from conftest import BACKENDS, SEED, backend_url
from finews.errors import StoreError
from finews.jekyll.read import parse_post
from finews.model import BEIJING, Article, StockTag
from finews.process.clean import CLEAN_REVISION, clean_body
from finews.store import Store, clusters, decide
from finews.store.decide import Insert, Stored, Unchanged, Update
from finews.store.migrations import current_version


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every test of this file that uses the store runs on SQLite and on PostgreSQL."""
    return backend_url(request.param, tmp_path)


def seed_article() -> Article:
    return parse_post(SEED.read_text(encoding="utf-8"), str(SEED))


def flash(n: int, **kw: object) -> Article:
    base = Article(
        source="eastmoney.fast",
        upstream_id=f"20260519{n:010d}",
        title=f"快讯{n}",
        published=datetime(2026, 5, 19, 9, 30, n % 60, tzinfo=BEIJING),
        media="东方财富",
        digest=f"摘要{n}",
        stocks=(StockTag("600519.SH", "贵州茅台"),),
        raw='{"code": "x"}',
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def test_database_file_is_wal_and_migrations_are_recorded(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'finews.db'}") as store:
        store.save([seed_article()])
    con = sqlite3.connect(tmp_path / "finews.db")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    versions = [r[0] for r in con.execute("SELECT version FROM schema_migrations")]
    assert versions[-1] == current_version()
    con.close()


def test_same_article_twice_is_one_row(store: Store) -> None:
    a = seed_article()
    assert store.save([a]).outcomes == ["new"]
    assert store.save([a]).outcomes == ["unchanged"]
    assert store.save([a, a]).outcomes == ["unchanged", "unchanged"]
    assert store.count() == 1
    got = store.get(a.source, a.upstream_id)
    assert got == a
    assert got is not None and got.raw == a.raw


def test_changed_body_is_an_update_with_the_old_revision_kept(store: Store) -> None:
    a = seed_article()
    store.save([a])
    b = replace(a, body_html=a.body_html + "<p>更正</p>")
    assert store.save([b]).outcomes == ["updated"]
    assert store.count() == 1
    assert store.get(a.source, a.upstream_id) == b
    revisions = store.revisions(a.source, a.upstream_id)
    assert [(r, t) for r, t, _ in revisions] == [(1, a.title)]
    assert revisions[0][2] == a.body_html
    assert store.stats()["revisions"] == 1


def test_volatile_raw_payload_alone_is_not_a_revision(store: Store) -> None:
    a = flash(1, raw='{"pinglun_Num": 1}')
    store.save([a])
    assert store.save([replace(a, raw='{"pinglun_Num": 7}')]).outcomes == ["unchanged"]


def test_list_item_seen_again_does_not_erase_fetched_full_text(store: Store) -> None:
    listed = flash(2, body_html="", body_complete=False)
    store.save([listed])
    full = replace(listed, body_html="<p>全文</p>", body_complete=True)
    assert store.save([full]).outcomes == ["updated"]
    assert store.save([listed]).outcomes == ["unchanged"]
    got = store.get(listed.source, listed.upstream_id)
    assert got is not None and got.body_html == "<p>全文</p>" and got.body_complete


def test_decide_is_pure_and_follows_the_rules() -> None:
    a = flash(3)
    assert isinstance(decide(None, a), Insert)
    stored = Stored(1, a, 1, a.content_hash())
    assert isinstance(decide(stored, a), Unchanged)
    changed = decide(stored, replace(a, title="新标题"))
    assert isinstance(changed, Update) and changed.content_changed


def test_a_failing_batch_leaves_nothing_behind(store: Store) -> None:
    good = flash(4)
    bad = flash(5, stocks=(StockTag(None, "x"),))  # type: ignore[arg-type]  # NOT NULL violation
    with pytest.raises(IntegrityError):
        store.save([good, bad])
    assert store.count() == 0
    assert store.get(good.source, good.upstream_id) is None


def test_stock_rows_follow_the_article(store: Store) -> None:
    a = flash(6)
    store.save([a])
    store.save([replace(a, stocks=(StockTag("000001.SZ", "平安银行"),))])
    with store.engine.connect() as con:
        assert con.execute(text("SELECT code FROM article_stocks")).all() == [("000001.SZ",)]


def test_iteration_is_ordered_by_time(store: Store) -> None:
    store.save([flash(9), flash(7), flash(8)])
    assert [a.upstream_id[-1] for a in store.iter_articles()] == ["7", "8", "9"]
    assert [a.upstream_id[-1] for a in store.iter_articles(newest_first=True)] == ["9", "8", "7"]


def test_stats(store: Store) -> None:
    store.save([flash(1), flash(2), seed_article()])
    s = store.stats()
    assert s["articles"] == 3
    assert {r["name"]: r["articles"] for r in s["sources"]} == {"eastmoney.fast": 2, "jekyll": 1}
    assert {r["name"]: r["articles"] for r in s["media"]} == {"东方财富": 2, "财联社": 1}
    assert s["oldest"].startswith("2021-12-29T21:45:37+08:00")


def test_reopening_keeps_data_and_schema(db_url: str) -> None:
    with Store.open(db_url) as s:
        s.save([flash(1)])
    with Store.open(db_url) as s:
        assert s.count() == 1
        assert s.integrity_check() == "ok"


def test_unusable_database_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError):
        Store.open(f"sqlite:///{tmp_path / 'dir.db'}")
    with pytest.raises(StoreError):
        Store.open("nonsense://")


def test_article_needs_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone"):
        Article(source="s", upstream_id="1", title="t", published=datetime(2026, 1, 1))


def test_an_old_database_is_migrated_in_place(tmp_path: Path) -> None:
    """A database at schema 1 (before sections and change counters) gets migration 2."""
    db = tmp_path / "old.db"
    with Store.open(f"sqlite:///{db}") as s:
        s.save([seed_article(), flash(1)])
    con = sqlite3.connect(db)
    con.executescript(
        """
        DROP INDEX ix_articles_listing;
        DROP INDEX ix_articles_section_published;
        DROP INDEX ix_articles_change_seq;
        ALTER TABLE articles DROP COLUMN section;
        ALTER TABLE articles DROP COLUMN change_seq;
        DROP TABLE article_tombstones;
        DROP INDEX ix_articles_cluster;
        ALTER TABLE articles DROP COLUMN cluster_id;
        DROP TABLE lsh_buckets;
        DROP TABLE article_signatures;
        DROP TABLE article_fts;
        DROP TABLE source_status;
        DROP INDEX ix_articles_search;
        DROP TABLE alert_state;
        DROP TABLE alert_deliveries;
        DROP TABLE user_feeds;
        ALTER TABLE articles DROP COLUMN body_clean;
        ALTER TABLE articles DROP COLUMN clean_revision;
        ALTER TABLE articles DROP COLUMN topics;
        ALTER TABLE articles DROP COLUMN audio_url;
        DROP TABLE source_shapes;
        DROP TABLE source_fields;
        DROP TABLE calendar_events;
        DROP TABLE article_topics;
        DROP TABLE subscriber_state;
        DROP TABLE subscriber_stories;
        DROP TABLE subscriber_pushes;
        DROP TABLE subscriber_sends;
        DROP TABLE source_schedule;
        DELETE FROM schema_migrations WHERE version > 1;
        """
    )
    con.commit()
    con.close()
    with Store.open(f"sqlite:///{db}") as s:
        assert s.count() == 2
        assert s.integrity_check() == "ok"
        s.save([flash(2)])
    con = sqlite3.connect(db)
    assert [r[0] for r in con.execute("SELECT version FROM schema_migrations")] == [
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        9,
        10,
        11,
        12,
        13,
        14,
        15,
    ]
    assert con.execute("SELECT count(*) FROM article_fts").fetchone()[0] == 3
    # migration 10 (#15): the new columns and tables are there and empty
    assert con.execute("SELECT count(*) FROM articles WHERE topics != '[]'").fetchone() == (0,)
    for table in ("source_shapes", "source_fields", "calendar_events", "article_topics"):
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
    # the subscribers' tables (migration 11) are there, as a new database has them
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"subscriber_state", "subscriber_stories", "subscriber_pushes"} <= tables
    # the stored articles got their published body (migration 7), like the one saved after
    stored = con.execute(
        "SELECT body_html, url, body_clean, clean_revision FROM articles ORDER BY id"
    ).fetchall()
    assert [(clean_body(b, u), CLEAN_REVISION) for b, u, _, _ in stored] == [
        (c, r) for _, _, c, r in stored
    ]
    assert "西安银行" in stored[0][2]
    indexes = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "ix_articles_listing" in indexes
    plan = con.execute(
        "EXPLAIN QUERY PLAN SELECT id, source, upstream_id, title, published_at, media, section,"
        " important, content_hash, cluster_id FROM articles ORDER BY published_at, id"
    ).fetchall()
    assert "COVERING INDEX ix_articles_listing" in str(plan)
    sections = dict(con.execute("SELECT upstream_id, section FROM articles"))
    assert sections[seed_article().upstream_id] == "财联社"
    assert sections[flash(1).upstream_id] == "东方财富"
    seqs = [r[0] for r in con.execute("SELECT change_seq FROM articles ORDER BY id")]
    assert seqs[2] > max(seqs[:2]) > 0
    con.close()


def test_migrations_13_and_14_key_the_buckets_by_the_candidate_lookup(tmp_path: Path) -> None:
    """A database made before #10's speed work has the MinHash bucket table with a rowid
    and an index on (band, time): migration 13 made the index cover the lookup, migration
    14 makes (band, time, article) the table's own key, without a rowid.  Its bucket rows
    are carried over (but one whose article is gone), and a new report's candidates are
    read from the key alone, as in a new database."""
    db = tmp_path / "old.db"
    with Store.open(f"sqlite:///{db}") as s:
        s.save([flash(1, title="央行开展1000亿元MLF操作，利率维持不变"), flash(2)])
    con = sqlite3.connect(db)
    rows = con.execute("SELECT band_key, article_id, published_at FROM lsh_buckets").fetchall()
    assert len(rows) % 40 == 0 and rows
    con.executescript(
        """
        DROP TABLE lsh_buckets;
        CREATE TABLE lsh_buckets (band_key BIGINT NOT NULL,
            article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
            published_at BIGINT NOT NULL);
        CREATE INDEX ix_lsh_buckets_key ON lsh_buckets (band_key, published_at);
        CREATE INDEX ix_lsh_buckets_article ON lsh_buckets (article_id);
        DELETE FROM schema_migrations WHERE version >= 13;
        """
    )
    con.executemany("INSERT INTO lsh_buckets VALUES (?, ?, ?)", rows)
    con.execute("INSERT INTO lsh_buckets VALUES (7, 999, 0)")  # an orphan (foreign keys off)
    con.commit()
    con.close()
    with Store.open(f"sqlite:///{db}") as s:
        s.save([flash(3, title="央行开展1000亿元MLF操作 利率维持不变")])
        assert s.integrity_check() == "ok"
    con = sqlite3.connect(db)
    indexes = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "ix_lsh_buckets_key" not in indexes and "ix_lsh_buckets_cover" not in indexes
    assert "ix_lsh_buckets_article" in indexes
    table = con.execute("SELECT sql FROM sqlite_master WHERE name = 'lsh_buckets'").fetchone()
    assert "WITHOUT ROWID" in table[0]
    kept = con.execute("SELECT band_key, article_id, published_at FROM lsh_buckets").fetchall()
    assert set(rows) < set(kept) and len(kept) == len(rows) + 40 and (7, 999, 0) not in kept
    keys = [r[0] for r in con.execute("SELECT band_key FROM lsh_buckets LIMIT 40")]
    sql = clusters._statements("qmark").neighbours
    plan = str(con.execute(f"EXPLAIN QUERY PLAN {sql}", (*keys, 0, 2**40, 0)).fetchall())
    assert "USING PRIMARY KEY" in plan
    # the two reports of one MLF operation are one story, through the migrated table
    stories = dict(con.execute("SELECT upstream_id, cluster_id FROM articles"))
    assert stories[flash(3).upstream_id] == stories[flash(1).upstream_id]
    con.close()


def test_delete_leaves_tombstones_and_moves_leave_one_too(store: Store) -> None:
    a, b = flash(1), flash(2)
    store.save([a, b])
    store.save([replace(a, media="证券时报")])  # another section
    assert store.delete([b.key, ("nope", "1")]) == 1
    assert store.get(b.source, b.upstream_id) is None
    with store.engine.connect() as con:
        tombs = con.execute(
            text("SELECT upstream_id, section FROM article_tombstones ORDER BY id")
        ).all()
    assert tombs == [(a.upstream_id, "东方财富"), (b.upstream_id, "东方财富")]


def test_concurrent_writers_of_the_same_articles_make_one_row_each(db_url: str) -> None:
    """Four writers (separate stores, as separate workers) save the same 40 articles at once:
    one row each, no revision, no error — on SQLite and on PostgreSQL."""
    import threading

    batch = [flash(n) for n in range(40)]
    Store.open(db_url).close()  # created and migrated before the race
    errors: list[BaseException] = []
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def write() -> None:
        try:
            with Store.open(db_url) as store:
                start.wait()
                for i in range(0, 40, 10):
                    outcomes.extend(store.save(batch[i : i + 10]).outcomes)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert outcomes.count("new") == 40 and outcomes.count("unchanged") == 120
    with Store.open(db_url) as store:
        assert store.count() == 40
        assert store.stats()["revisions"] == 0
