"""Schema migrations, numbered and recorded in ``schema_migrations``.

A new database is created at the current schema in one step and every known
migration is recorded as applied.  A migration describes the tables it creates
as they were at its version, never through the current metadata of a table a
later migration changes.  An existing database runs the migrations
it has not recorded yet, each in its own transaction, in order.  To change
the schema: change :mod:`finews.store.schema` *and* append a migration here
that brings an older database to the same shape.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    inspect,
    select,
    update,
)

from finews.errors import StoreError
from finews.model import Article
from finews.store import fulltext, schema
from finews.store.rows import row_to_article


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Connection], None]


def _create_v1(conn: Connection) -> None:
    """Unreachable in practice: a database without the migrations table is created at the
    current schema in one step (see :func:`migrate`)."""
    schema.metadata.create_all(conn)


def _v2_changes(conn: Connection) -> None:
    """Sections, a change counter and tombstones, for incremental site builds (issue #4)."""
    conn.exec_driver_sql("ALTER TABLE articles ADD COLUMN section TEXT NOT NULL DEFAULT ''")
    conn.exec_driver_sql("ALTER TABLE articles ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0")
    conn.exec_driver_sql(
        "UPDATE articles SET section = CASE WHEN category != '' THEN category ELSE media END, "
        "change_seq = id"
    )
    for index in schema.articles.indexes:
        if index.name in {"ix_articles_section_published", "ix_articles_change_seq"}:
            index.create(conn)
    # The table as it was at version 2 (migration 4 adds columns): a migration never
    # creates a table from the current metadata when a later migration changes it.
    v2 = MetaData()
    tombstones = Table(
        "article_tombstones",
        v2,
        Column("id", Integer, primary_key=True),
        Column("source", String(64), nullable=False),
        Column("upstream_id", String(200), nullable=False),
        Column("published_at", BigInteger, nullable=False),
        Column("section", Text, nullable=False),
        Column("change_seq", BigInteger, nullable=False),
        Column("deleted_at", BigInteger, nullable=False),
    )
    Index("ix_tombstones_change_seq", tombstones.c.change_seq)
    tombstones.create(conn)  # with its index


def _v3_clusters(conn: Connection) -> None:
    """Reprint clusters: a cluster per article, MinHash signatures, LSH buckets (issue #5)."""
    conn.exec_driver_sql("ALTER TABLE articles ADD COLUMN cluster_id INTEGER")
    conn.exec_driver_sql("UPDATE articles SET cluster_id = id")
    for index in schema.articles.indexes:
        if index.name == "ix_articles_cluster":
            index.create(conn)
    schema.article_signatures.create(conn)
    # the bucket table as it was at version 3 (migrations 13 and 14 change it)
    conn.exec_driver_sql(
        "CREATE TABLE lsh_buckets (band_key BIGINT NOT NULL,"
        " article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,"
        " published_at BIGINT NOT NULL)"
    )
    conn.exec_driver_sql("CREATE INDEX ix_lsh_buckets_key ON lsh_buckets (band_key, published_at)")
    conn.exec_driver_sql("CREATE INDEX ix_lsh_buckets_article ON lsh_buckets (article_id)")


def _v4_tombstone_stocks(conn: Connection) -> None:
    """Tombstones remember the stocks an article had, so stock pages follow (issue #5)."""
    conn.exec_driver_sql(
        "ALTER TABLE article_tombstones ADD COLUMN stocks TEXT NOT NULL DEFAULT '[]'"
    )
    conn.exec_driver_sql("ALTER TABLE article_tombstones ADD COLUMN cluster_id INTEGER")


_V5_ARTICLE_COLUMNS = (
    "id", "source", "upstream_id", "title", "published_at", "media", "category", "url",
    "digest", "body_html", "stocks", "important", "body_complete",
)  # fmt: skip


def _v5_fulltext(conn: Connection) -> None:
    """The full-text index, filled from the stored articles, and the sources' health
    (issue #6)."""
    schema.source_status.create(conn)  # unchanged since: safe to create from the metadata
    for index in schema.articles.indexes:
        if index.name == "ix_articles_search":
            index.create(conn)
    fulltext.create(conn)
    if not fulltext.available(conn):
        return
    last = 0
    while True:
        # the columns as they were at version 5 (later migrations add more)
        rows = conn.execute(
            select(*(schema.articles.c[name] for name in _V5_ARTICLE_COLUMNS))
            .where(schema.articles.c.id > last)
            .order_by("id")
            .limit(1000)
        ).mappings()
        batch = [(row["id"], row_to_article(row)) for row in rows]
        if not batch:
            return
        fulltext.index(conn, batch)
        last = batch[-1][0]


def _v6_alerts(conn: Connection) -> None:
    """Alert deliveries and their watermark, feeds added by the user (issue #7)."""
    schema.alert_state.create(conn)  # unchanged since: safe to create from the metadata
    schema.alert_deliveries.create(conn)
    schema.user_feeds.create(conn)


def _v7_clean_bodies(conn: Connection) -> None:
    """The sanitised body beside the upstream one, so that a site build does not run the
    cleaner over every article again (issue #4), filled for the stored articles here; on
    SQLite, the index of what a build lists."""
    from finews.process.clean import CLEAN_REVISION, clean_body

    conn.exec_driver_sql("ALTER TABLE articles ADD COLUMN body_clean TEXT NOT NULL DEFAULT ''")
    conn.exec_driver_sql(
        "ALTER TABLE articles ADD COLUMN clean_revision INTEGER NOT NULL DEFAULT 0"
    )
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(schema.LISTING_INDEX_SQLITE)
    a = schema.articles.c
    fill = (
        update(schema.articles)
        .where(a.id == bindparam("row_id"))
        .values(body_clean=bindparam("clean"), clean_revision=CLEAN_REVISION)
    )
    last = 0
    while True:
        rows = conn.execute(
            select(a.id, a.body_html, a.url).where(a.id > last).order_by(a.id).limit(1000)
        ).all()
        if not rows:
            return
        conn.execute(fill, [{"row_id": i, "clean": clean_body(body, url)} for i, body, url in rows])
        last = rows[-1][0]


def _v8_search_grams(conn: Connection) -> None:
    """The full-text index again, with the character bigrams that make every literal
    match findable, without the media among the ranked tags, and cut with the finance
    words and the names of the securities master (issue #16)."""

    def batches() -> Iterator[list[tuple[int, Article]]]:
        last = 0
        while True:
            # the columns the index reads, as they were at version 8 (later migrations
            # may add more)
            rows = conn.execute(
                select(*(schema.articles.c[name] for name in _V5_ARTICLE_COLUMNS))
                .where(schema.articles.c.id > last)
                .order_by("id")
                .limit(1000)
            ).mappings()
            batch = [(row["id"], row_to_article(row)) for row in rows]
            if not batch:
                return
            yield batch
            last = batch[-1][0]

    fulltext.rebuild(conn, batches())


def _v9_story_facts(conn: Connection) -> None:
    """The facts each report's story is judged on (issue #10).  Stored stories were grouped
    by the older judgement: their signatures have no facts, which marks them to be
    regrouped (``finews reprocess``; ``finews stats`` says so until then)."""
    columns = {c["name"] for c in inspect(conn).get_columns("article_signatures")}
    if "facts" not in columns:  # created by migration 3 from the current table: has it
        conn.exec_driver_sql("ALTER TABLE article_signatures ADD COLUMN facts TEXT")


def _v10_upstreams(conn: Connection) -> None:
    """Upstreams that change (issue #15): the request shape each source answers to, the
    field changes seen, 金十's data releases as calendar rows, the upstream's topics of each
    article and its spoken version.  The tables are new and unchanged since: created from
    the metadata.  Articles stored before keep no topics until they are seen again."""
    columns = {c["name"] for c in inspect(conn).get_columns("articles")}
    if "topics" not in columns:
        conn.exec_driver_sql("ALTER TABLE articles ADD COLUMN topics TEXT NOT NULL DEFAULT '[]'")
    if "audio_url" not in columns:
        conn.exec_driver_sql("ALTER TABLE articles ADD COLUMN audio_url TEXT NOT NULL DEFAULT ''")
    for table in (
        schema.source_shapes,
        schema.source_fields,
        schema.calendar_events,
        schema.article_topics,
    ):
        table.create(conn, checkfirst=True)  # with its indexes


def _v11_subscribers(conn: Connection) -> None:
    """Subscribers' matching, once-per-story state, pushes and sends (issue #14)."""
    for table in (
        schema.subscriber_state,  # unchanged since: safe to create from the metadata
        schema.subscriber_stories,
        schema.subscriber_pushes,
        schema.subscriber_sends,
    ):
        table.create(conn, checkfirst=True)  # migration 1 may have made it (current tables)


def _v12_source_schedule(conn: Connection) -> None:
    """Each source's polling pace, for ``finews sources`` (#17)."""
    Table(
        "source_schedule",
        MetaData(),
        Column("source", String(64), primary_key=True),
        Column("interval_ms", BigInteger, nullable=False),
        Column("phase", String(16), nullable=False, default=""),
        Column("updated_at", BigInteger, nullable=False),
    ).create(conn, checkfirst=True)


def _v13_covering_buckets(conn: Connection) -> None:
    """The MinHash bucket index covers the candidate lookup (band, time, article): the
    write path reads a new report's candidates without a bucket row (#10's speed).  A
    database whose migration 3 ran from the current metadata has it already."""
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_lsh_buckets_key")
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_lsh_buckets_cover"
        " ON lsh_buckets (band_key, published_at, article_id)"
    )


def _v14_buckets_without_rowid(conn: Connection) -> None:
    """The bucket rows keyed by what the candidate lookup reads (band, time, article): on
    SQLite a table without a rowid, so a report's 40 bucket rows are written into one
    B-tree instead of a table and its covering index (#10's write speed; on PostgreSQL the
    key is the primary key that replaces the covering index).  Rows whose article is gone
    (written with foreign keys off) are not carried over."""
    conn.exec_driver_sql("ALTER TABLE lsh_buckets RENAME TO lsh_buckets_v13")
    for index in ("ix_lsh_buckets_cover", "ix_lsh_buckets_key", "ix_lsh_buckets_article"):
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {index}")
    schema.lsh_buckets.create(conn)  # the current table (with its article index)
    conn.exec_driver_sql(
        "INSERT INTO lsh_buckets (band_key, published_at, article_id)"
        " SELECT DISTINCT band_key, published_at, article_id FROM lsh_buckets_v13"
        " WHERE article_id IN (SELECT id FROM articles)"
        " ORDER BY band_key, published_at, article_id"
    )
    conn.exec_driver_sql("DROP TABLE lsh_buckets_v13")


def _v15_ranking_vectors(conn: Connection) -> None:
    """PostgreSQL: each indexed article's ranking vector — its search document without the
    character bigrams, which weigh 0 in ``ts_rank`` — and its publication time, in a narrow
    table of their own, so that ranking the newest candidates reads neither the documents
    (mostly TOASTed, half bigrams) nor the article rows (wave 9 of #11, docs/design.md).
    Filled from the stored documents in SQL, as the write path fills it.  SQLite ranks
    with FTS5's own statistics: nothing to do there."""
    if conn.dialect.name != "postgresql":
        return
    conn.exec_driver_sql(
        "CREATE TABLE IF NOT EXISTS article_rank ("
        " article_id INTEGER PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,"
        " published_at BIGINT NOT NULL,"
        " ranked TSVECTOR NOT NULL)"
    )
    # migrations 5 and 8 index through the current write path, which fills it already
    conn.exec_driver_sql("DELETE FROM article_rank")
    conn.exec_driver_sql(
        "INSERT INTO article_rank (article_id, published_at, ranked)"
        " SELECT s.article_id, a.published_at, ts_filter(s.document, '{a,b,d}')"
        " FROM article_search s JOIN articles a ON a.id = s.article_id"
        " ORDER BY s.article_id"
    )
    conn.exec_driver_sql("ANALYZE article_rank")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "articles, revisions, stocks", _create_v1),
    Migration(2, "sections, change counter, tombstones", _v2_changes),
    Migration(3, "reprint clusters", _v3_clusters),
    Migration(4, "stocks and clusters in tombstones", _v4_tombstone_stocks),
    Migration(5, "full-text index, source status", _v5_fulltext),
    Migration(6, "alert deliveries, user feeds", _v6_alerts),
    Migration(7, "sanitised bodies", _v7_clean_bodies),
    Migration(8, "search index with character bigrams", _v8_search_grams),
    Migration(9, "facts for story judgement", _v9_story_facts),
    Migration(10, "request shapes, field changes, calendar, topics", _v10_upstreams),
    Migration(11, "subscribers: stories given, pushes, sends", _v11_subscribers),
    Migration(12, "source polling pace", _v12_source_schedule),
    Migration(13, "covering index of MinHash buckets", _v13_covering_buckets),
    Migration(14, "MinHash buckets keyed by band, time, article", _v14_buckets_without_rowid),
    Migration(15, "PostgreSQL: search ranking vectors", _v15_ranking_vectors),
)


class SchemaTooNew(StoreError):
    """The database records migrations this finews does not know: a newer finews wrote it.
    Opening it would risk writing rows the newer schema does not expect."""


def current_version() -> int:
    return MIGRATIONS[-1].version


def migrate(conn: Connection) -> list[int]:
    """Bring the database to the current schema; return the versions applied."""
    now = int(time.time())
    if not inspect(conn).has_table("schema_migrations"):
        schema.metadata.create_all(conn)
        fulltext.create(conn)
        conn.execute(
            schema.schema_migrations.insert(),
            [{"version": m.version, "name": m.name, "applied_at": now} for m in MIGRATIONS],
        )
        return [m.version for m in MIGRATIONS]
    done = {row[0] for row in conn.execute(schema.schema_migrations.select())}
    unknown = done - {m.version for m in MIGRATIONS}
    if unknown:
        raise SchemaTooNew(
            f"schema version {max(unknown)} is newer than this finews knows "
            f"({current_version()}): upgrade finews"
        )
    applied: list[int] = []
    for migration in MIGRATIONS:
        if migration.version in done:
            continue
        migration.apply(conn)
        conn.execute(
            schema.schema_migrations.insert(),
            {"version": migration.version, "name": migration.name, "applied_at": now},
        )
        applied.append(migration.version)
    return applied
