"""Table definitions: the current schema, as SQLAlchemy Core metadata.

Times are stored as integer Unix seconds (UTC): portable across SQLite and
PostgreSQL, sortable, and free of driver time-zone surprises.  ``section`` is
where the article is listed on the site (its ``category`` if set, else its
media) and ``change_seq`` a counter raised by every write, so that a site
build can ask "what changed since my last build" with one indexed query.
Structured fields (stocks) are JSON text so that the row is self-contained; the
``article_stocks`` table repeats them for indexed per-stock queries.
"""

from __future__ import annotations

from sqlalchemy import (
    DDL,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)

metadata = MetaData()

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied_at", BigInteger, nullable=False),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("upstream_id", String(200), nullable=False),
    Column("title", Text, nullable=False, default=""),
    Column("published_at", BigInteger, nullable=False),
    Column("media", Text, nullable=False, default=""),
    Column("category", Text, nullable=False, default=""),
    Column("url", Text, nullable=False, default=""),
    Column("digest", Text, nullable=False, default=""),
    Column("body_html", Text, nullable=False, default=""),
    Column("stocks", Text, nullable=False, default="[]"),
    Column("important", Boolean, nullable=False, default=False),
    Column("body_complete", Boolean, nullable=False, default=True),
    Column("raw", Text, nullable=False, default=""),
    Column("content_hash", String(64), nullable=False),
    Column("revision", Integer, nullable=False, default=1),
    Column("first_seen_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("fulltext_attempts", Integer, nullable=False, default=0),
    Column("section", Text, nullable=False, default=""),
    Column("change_seq", BigInteger, nullable=False, default=0),
    Column("cluster_id", Integer, nullable=True),
    # the sanitised body as published, and the cleaner revision that made it (issue #4)
    Column("body_clean", Text, nullable=False, default=""),
    Column("clean_revision", Integer, nullable=False, default=0),
    # the upstream's topic pages (JSON [{id, name}]) and spoken version (issue #15)
    Column("topics", Text, nullable=False, default="[]"),
    Column("audio_url", Text, nullable=False, default=""),
    UniqueConstraint("source", "upstream_id", name="uq_articles_source_upstream"),
)
Index("ix_articles_section_published", articles.c.section, articles.c.published_at)
Index("ix_articles_change_seq", articles.c.change_seq)
Index("ix_articles_cluster", articles.c.cluster_id)

article_signatures = Table(
    "article_signatures",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("signature", LargeBinary, nullable=False),
    # what the same-story judgement reads of the article (process/story.Facts as JSON;
    # NULL: stored by the judgement before issue #10, regrouped by `finews reprocess`)
    Column("facts", Text, nullable=True),
)

lsh_buckets = Table(
    "lsh_buckets",
    metadata,
    Column("band_key", BigInteger, nullable=False),
    Column(
        "article_id",
        Integer,
        # named: migration 14 creates this table beside the renamed old one, whose
        # constraint keeps PostgreSQL's default name
        ForeignKey("articles.id", ondelete="CASCADE", name="fk_lsh_buckets_article"),
        nullable=False,
    ),
    Column("published_at", BigInteger, nullable=False),
    # the candidate lookup's key (band, time, article) is the table itself: without a rowid
    # on SQLite, a bucket row is written into one B-tree, not a table and a covering index
    # (migration 14; the write path's speed, #10)
    PrimaryKeyConstraint("band_key", "published_at", "article_id", name="pk_lsh_buckets"),
    sqlite_with_rowid=False,
)
Index("ix_lsh_buckets_article", lsh_buckets.c.article_id)
Index("ix_articles_published", articles.c.published_at)
Index("ix_articles_media_published", articles.c.media, articles.c.published_at)
Index("ix_articles_updated", articles.c.updated_at)
# search ranks and filters by these without reading the wide article rows (issue #6)
Index(
    "ix_articles_search",
    articles.c.id,
    articles.c.published_at,
    articles.c.source,
    articles.c.media,
    articles.c.important,
)

LISTING_INDEX_SQLITE = (
    "CREATE INDEX IF NOT EXISTS ix_articles_listing ON articles (published_at, id, source, "
    "upstream_id, title, media, section, important, content_hash, cluster_id)"
)
"""What a site build lists of every article, readable without the article rows (issue #4).
SQLite only: there a row's later columns are read through its long upstream payload, and
the index makes reading every article's listing fields about twice as fast; PostgreSQL
reads columns directly (and caps an index entry's size, which a long title could pass)."""
event.listen(
    articles,
    "after_create",
    DDL(LISTING_INDEX_SQLITE).execute_if(dialect="sqlite"),  # type: ignore[no-untyped-call]
)

article_tombstones = Table(
    "article_tombstones",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("upstream_id", String(200), nullable=False),
    Column("published_at", BigInteger, nullable=False),
    Column("section", Text, nullable=False),
    Column("change_seq", BigInteger, nullable=False),
    Column("deleted_at", BigInteger, nullable=False),
    Column("stocks", Text, nullable=False, default="[]"),
    Column("cluster_id", Integer, nullable=True),
)
Index("ix_tombstones_change_seq", article_tombstones.c.change_seq)

article_revisions = Table(
    "article_revisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("published_at", BigInteger, nullable=False),
    Column("media", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("digest", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("stocks", Text, nullable=False),
    Column("important", Boolean, nullable=False),
    Column("raw", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("replaced_at", BigInteger, nullable=False),
    UniqueConstraint("article_id", "revision", name="uq_revisions_article_revision"),
)

source_status = Table(
    "source_status",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("last_attempt_at", BigInteger, nullable=False),
    Column("last_success_at", BigInteger, nullable=True),
    Column("last_error", Text, nullable=False, default=""),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("last_new", Integer, nullable=False, default=0),
    Column("polls", Integer, nullable=False, default=0),
    Column("failures", Integer, nullable=False, default=0),
)

source_schedule = Table(
    # each source's polling pace as `finews run` set it last (#17, migration 12): shown by
    # `finews sources`, which runs in another process
    "source_schedule",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("interval_ms", BigInteger, nullable=False),
    Column("phase", String(16), nullable=False, default=""),
    Column("updated_at", BigInteger, nullable=False),
)

user_feeds = Table(
    "user_feeds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", Text, nullable=False, unique=True),
    Column("title", Text, nullable=False, default=""),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("added_at", BigInteger, nullable=False),
)

alert_state = Table(
    "alert_state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("upstream_id", String(200), nullable=False),
    Column("webhook", Text, nullable=False),
    Column("reasons", Text, nullable=False, default=""),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", BigInteger, nullable=False),
    Column("last_error", Text, nullable=False, default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("sent_at", BigInteger, nullable=True),
    UniqueConstraint("source", "upstream_id", "webhook", name="uq_alert_once"),
)
Index("ix_alert_due", alert_deliveries.c.status, alert_deliveries.c.next_attempt_at)

article_stocks = Table(
    "article_stocks",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("code", String(32), nullable=False),
    Column("name", Text, nullable=False, default=""),
    Column("origin", String(32), nullable=False, default=""),
    UniqueConstraint("article_id", "code", name="uq_article_stocks"),
)
Index("ix_article_stocks_code", article_stocks.c.code, article_stocks.c.article_id)

# -- issue #15: upstreams that change ------------------------------------------------------

source_shapes = Table(
    "source_shapes",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("shape", Text, nullable=False),
    Column("since", BigInteger, nullable=False),
    Column("previous", Text, nullable=False, default=""),
    Column("reason", Text, nullable=False, default=""),
    Column("fallback_ms", Integer, nullable=True),
    Column("locked", BigInteger, nullable=False, default=0),
)
"""The request shape each source answers to, since when, and what it replaced."""

source_fields = Table(
    "source_fields",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("field", String(200), nullable=False),
    Column("change", String(16), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("items", Integer, nullable=False, default=0),
    Column("first_seen", BigInteger, nullable=False),
    Column("last_seen", BigInteger, nullable=False),
    Column("resolved_at", BigInteger, nullable=True),
    UniqueConstraint("source", "field", "change", name="uq_source_fields"),
)
"""Each way a source's items differed from what its adapter expects, first seen when."""

calendar_events = Table(
    "calendar_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("upstream_id", String(200), nullable=False),
    Column("name", Text, nullable=False),
    Column("country", Text, nullable=False, default=""),
    Column("unit", Text, nullable=False, default=""),
    Column("actual", Text, nullable=False, default=""),
    Column("forecast", Text, nullable=False, default=""),
    Column("previous", Text, nullable=False, default=""),
    Column("revised", Text, nullable=False, default=""),
    Column("star", Integer, nullable=False, default=0),
    Column("affect", Text, nullable=False, default=""),
    Column("important", Boolean, nullable=False, default=False),
    Column("released_at", BigInteger, nullable=False),
    Column("first_seen", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("raw", Text, nullable=False, default=""),
    UniqueConstraint("source", "upstream_id", name="uq_calendar_events"),
)
Index("ix_calendar_released", calendar_events.c.released_at)

article_topics = Table(
    "article_topics",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("topic_id", String(200), nullable=False),
    Column("name", Text, nullable=False),
    UniqueConstraint("article_id", "topic_id", name="uq_article_topics"),
)
Index("ix_article_topics_name", article_topics.c.name, article_topics.c.article_id)
# -- subscribers (issue #14) -------------------------------------------------------------
# Per subscriber: how far its matching has read the articles, each story it was given
# (once per story, across restarts), the pushes made for it (a story alone, a digest of
# several, a briefing) and their delivery to each of its webhooks.
subscriber_state = Table(
    "subscriber_state",
    metadata,
    Column("subscriber", String(100), primary_key=True),
    Column("matched_up_to", BigInteger, nullable=False),
)

subscriber_stories = Table(
    "subscriber_stories",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subscriber", String(100), nullable=False),
    Column("story", BigInteger, nullable=False),
    Column("article_id", BigInteger, nullable=False),
    Column("reasons", Text, nullable=False, default=""),
    Column("matched_at", BigInteger, nullable=False),
    Column("push_id", Integer, nullable=True),
    UniqueConstraint("subscriber", "story", name="uq_subscriber_story"),
)
Index(
    "ix_subscriber_stories_waiting", subscriber_stories.c.subscriber, subscriber_stories.c.push_id
)

subscriber_pushes = Table(
    "subscriber_pushes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subscriber", String(100), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("dedupe", String(200), nullable=True),
    Column("text", Text, nullable=False),
    Column("data", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("subscriber", "dedupe", name="uq_subscriber_push"),
)
Index("ix_subscriber_pushes_recent", subscriber_pushes.c.subscriber, subscriber_pushes.c.created_at)

subscriber_sends = Table(
    "subscriber_sends",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("push_id", Integer, nullable=False),
    Column("webhook", Text, nullable=False),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", BigInteger, nullable=False),
    Column("last_error", Text, nullable=False, default=""),
    Column("sent_at", BigInteger, nullable=True),
    UniqueConstraint("push_id", "webhook", name="uq_subscriber_send"),
)
Index("ix_subscriber_sends_due", subscriber_sends.c.status, subscriber_sends.c.next_attempt_at)
