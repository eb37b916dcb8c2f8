"""The :class:`Store`: a narrow interface over SQLAlchemy Core.

Every write is one transaction: a batch of articles, their stock rows and
their previous revisions are committed together or not at all, so a crash
leaves the last committed state and never half an article.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    RowMapping,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from finews.errors import StoreError
from finews.model import Article, StockTag, Topic, from_epoch
from finews.process import dedup
from finews.process.clean import CLEAN_REVISION, clean_body
from finews.search.query import Query
from finews.store import clusters, fulltext, schema
from finews.store import stories as story_queries
from finews.store.decide import Insert, Intent, Stored, Unchanged, Update, decide
from finews.store.migrations import SchemaTooNew, migrate

A = schema.articles
T = schema.article_tombstones
CLOSE_GRACE = 5.0
"""Seconds :meth:`Store.close` waits for connections other threads still use."""
WRITE_LOCK = 0x66696E657773  # "finews": the PostgreSQL advisory lock writers take turns on
# Statements built once: SQLAlchemy then reuses their compiled form for every row.
_INSERT_ARTICLE = insert(A)
_UPDATE_ARTICLE = update(A).where(A.c.id == bindparam("article_id"))


@dataclass
class SaveReport:
    """What one :meth:`Store.save` did, item by item and in total."""

    outcomes: list[str] = field(default_factory=list)
    """'new', 'updated' or 'unchanged', in the order the articles came."""

    @property
    def counts(self) -> Counter[str]:
        return Counter(self.outcomes)

    def __iadd__(self, other: SaveReport) -> SaveReport:
        self.outcomes.extend(other.outcomes)
        return self


@dataclass(frozen=True)
class SearchHit:
    id: int
    article: Article
    score: float
    cluster: int


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    total: int
    relaxed: bool = False
    """most of the words sufficed: all of them found too few (see fulltext.search)"""


def _stocks_json(stocks: Sequence[StockTag]) -> str:
    return json.dumps([s.as_dict() for s in stocks], ensure_ascii=False)


def _stocks_from_json(text: str) -> tuple[StockTag, ...]:
    if not text or text == "[]":  # most articles: no JSON to parse
        return ()
    return tuple(StockTag(**item) for item in json.loads(text))


def _topics_json(topics: Sequence[Topic]) -> str:
    return json.dumps([t.as_dict() for t in topics], ensure_ascii=False) if topics else "[]"


def _topics_from_json(text: str) -> tuple[Topic, ...]:
    if not text or text == "[]":
        return ()
    return tuple(Topic(**item) for item in json.loads(text))


def _row_values(article: Article) -> dict[str, Any]:
    return {
        "source": article.source,
        "upstream_id": article.upstream_id,
        "title": article.title,
        "published_at": int(article.published.timestamp()),
        "media": article.media,
        "category": article.category,
        "url": article.url,
        "digest": article.digest,
        "body_html": article.body_html,
        "stocks": _stocks_json(article.stocks),
        "important": article.important,
        "body_complete": article.body_complete,
        "raw": article.raw,
        "content_hash": article.content_hash(),
        "section": section_of(article),
        "topics": _topics_json(article.topics),
        "audio_url": article.audio_url,
    }


def _published_values(article: Article, body_clean: str) -> dict[str, Any]:
    """The row of an article as written: its values and the body as published."""
    return {**_row_values(article), "body_clean": body_clean, "clean_revision": CLEAN_REVISION}


def section_of(article: Article) -> str:
    """Where the site lists the article: its declared category, else its media."""
    return article.category or article.media or article.source


def row_to_article(row: RowMapping) -> Article:
    return Article(
        source=row["source"],
        upstream_id=row["upstream_id"],
        title=row["title"],
        published=from_epoch(row["published_at"]),
        media=row["media"],
        url=row["url"],
        digest=row["digest"],
        body_html=row["body_html"],
        stocks=_stocks_from_json(row["stocks"]),
        important=bool(row["important"]),
        category=row["category"],
        body_complete=bool(row.get("body_complete", True)),
        raw=row.get("raw", ""),
        topics=_topics_from_json(row.get("topics") or ""),
        audio_url=row.get("audio_url") or "",
    )


def _sqlite_pragmas(engine: Engine) -> None:
    """WAL, full fsync on commit, foreign keys, and write transactions that
    take the write lock up front (``BEGIN IMMEDIATE``) so that two writers
    queue on the busy timeout instead of failing on a lock upgrade."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let the begin hook issue BEGIN
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get("finews_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


def _engine(url: Any, **options: Any) -> Engine:
    """An engine for the store, with SQLite's connection settings when it is SQLite."""
    engine = create_engine(url, **options)
    if engine.dialect.name == "sqlite":
        _sqlite_pragmas(engine)
    return engine


def _check_sqlite_path(path: Path, *, create: bool) -> None:
    """Refuse, in one line, an SQLite path that cannot be a database before SQLite or a
    ``mkdir`` says so in a traceback: a folder, a missing file when only reading, a folder
    that cannot be created (``/proc``, a read-only mount, no permission)."""
    if path.is_dir():
        raise StoreError(f"database {path} is a folder (give a file path, e.g. {path}/finews.db)")
    if not create and not path.exists():
        raise StoreError(f"no database at {path} (check the path; commands that write create it)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the folder {path.parent} for the database: "
            f"{exc.strerror or exc} (choose another --db)"
        ) from None
    if path.exists():
        try:
            with path.open("rb") as handle:
                head = handle.read(16)
        except OSError as exc:
            raise StoreError(
                f"cannot read database {path}: {exc.strerror or exc} (check its permissions)"
            ) from None
        if head and head != b"SQLite format 3\x00":
            raise StoreError(
                f"{path} is not an SQLite database (not made by finews, or damaged: "
                "restore a backup or choose another --db)"
            )


def _driver_hint(url: Any) -> str:
    backend = url.get_backend_name()
    if backend == "postgresql":
        return " (pip install 'finews[scale]')"
    if backend == "sqlite":
        return ""
    return " (finews runs on SQLite and PostgreSQL only)"


def explain_db_error(exc: DBAPIError) -> str:
    """A driver's error as one line with what to do: what a user meets when a database is
    damaged, locked, read-only or unreachable."""
    message = " ".join(str(exc.orig).split())
    lowered = message.lower()
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return f"{message} (the file is damaged: run `finews check`, restore a backup)"
    if "locked" in lowered or "busy" in lowered:
        return f"{message} (another process holds it: wait, or stop that process)"
    if "readonly" in lowered or "read-only" in lowered:
        return f"{message} (the file or its folder is not writable: check permissions)"
    if "unable to open" in lowered:
        return f"{message} (check the path and its permissions)"
    if "connect" in lowered or "could not translate host" in lowered or "refused" in lowered:
        return f"{message} (is the database server running and reachable?)"
    return message


class Store:
    """Articles in a database; open with :meth:`Store.open`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    # -- opening -----------------------------------------------------------
    @classmethod
    def open(cls, url: str, *, create: bool = True) -> Store:
        """Open (creating and migrating if needed) the store at an SQLAlchemy URL.

        ``create=False`` is for commands that only read: an SQLite file that does not exist
        is refused instead of created, so a mistyped ``--db`` reports the mistake rather
        than "0 articles" (and leaves no empty folder or database behind).  Every failure a
        user can cause (a missing, unwritable, corrupt or locked file, a server that does
        not answer, a driver that is not installed, a schema newer than this finews) is a
        :class:`StoreError` of one line saying what to do, never a driver traceback."""
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError) as exc:
            raise StoreError(
                f"not a database URL: {url!r} ({exc}; give a file path or "
                "sqlite:///… / postgresql://…)"
            ) from None
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, not psycopg2
        shown = parsed.render_as_string(hide_password=True)
        path = parsed.database
        if parsed.get_backend_name() == "sqlite" and path not in (None, "", ":memory:"):
            _check_sqlite_path(Path(path), create=create)
        try:
            engine = _engine(parsed)
        except (ArgumentError, ImportError) as exc:
            raise StoreError(f"cannot use database {shown}: {exc}{_driver_hint(parsed)}") from None
        store = cls(engine)
        try:
            with store._write() as conn:
                migrate(conn)
        except SchemaTooNew as exc:
            engine.dispose()
            raise StoreError(f"database {shown}: {exc}") from None
        except DBAPIError as exc:
            engine.dispose()
            raise StoreError(f"cannot open database {shown}: {explain_db_error(exc)}") from None
        return store

    def reopened(self) -> Store:
        """The same database through a new engine, for a forked process: the connections
        of the engine it inherited are the parent's, which a child must neither use nor
        close (SQLite's locks are per process; closing them in the child would touch the
        parent's).  No migration: the parent opened the store."""
        return Store(_engine(self.engine.url, poolclass=NullPool))

    def close(self) -> None:
        """Close the pooled connections.  On PostgreSQL, queries still running in other
        threads (a web request the server is finishing) get a few seconds to return their
        connection first: one returned after the pool is gone would never be closed."""
        if self.dialect == "postgresql":
            checked_out = getattr(self.engine.pool, "checkedout", lambda: 0)
            deadline = time.monotonic() + CLOSE_GRACE
            while checked_out() > 0 and time.monotonic() < deadline:
                time.sleep(0.02)
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction.  Writers take turns: on SQLite through ``BEGIN IMMEDIATE``,
        on PostgreSQL through a transaction-scoped advisory lock taken first thing.  Taking
        turns is what keeps ``change_seq`` in commit order (an incremental build that has
        seen N never misses a later commit numbered N or less) and makes a save
        idempotent across processes: the second of two workers storing one article finds
        the first one's row and leaves it alone."""
        with self.engine.execution_options(finews_write=True).begin() as conn:
            if self.dialect == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
            yield conn

    # -- writing -----------------------------------------------------------
    def save(self, articles: Iterable[Article], *, now: float | None = None) -> SaveReport:
        """Store a batch of articles in one transaction.

        The same article twice (same source and upstream id) is one row; a
        changed one is updated and its previous content kept as a revision.
        """
        batch = list(articles)
        report = SaveReport()
        if not batch:
            return report
        stamp = int(now if now is not None else time.time())
        prepared = self._prepare(batch)
        try:
            with self._write() as conn:
                seq = self._next_seq(conn)
                existing = self._load_existing(conn, {a.key for a in batch})
                to_index: dict[int, fulltext.Document] = {}
                for article in batch:
                    intent = decide(existing.get(article.key), article)
                    written = _written(intent)
                    derived = None
                    if written is not None:
                        derived = prepared.get(written) or _derived(written)
                    stored = self._apply(conn, intent, stamp, seq, derived)
                    if derived is not None:
                        document, signature, _ = derived
                        to_index[stored.id] = document
                    if isinstance(intent, Insert) or (
                        isinstance(intent, Update) and intent.content_changed
                    ):
                        now_in, was_in = clusters.assign(
                            conn,
                            stored.id,
                            int(stored.article.published.timestamp()),
                            signature,
                            fresh=isinstance(intent, Insert),
                        )
                        if was_in is not None and was_in != now_in:
                            # it left a story: the site revisits that story's pages
                            self._tombstone(
                                conn, stored.article, seq, stamp, stored.id, cluster=was_in
                            )
                    existing[article.key] = stored
                    report.outcomes.append(_outcome(intent))
                fulltext.index_documents(conn, to_index.items())
        except OperationalError as exc:
            raise StoreError(f"database write failed: {exc.orig}") from None
        return report

    def _prepare(self, batch: list[Article]) -> dict[Article, Derived]:
        """The index documents, signatures and sanitised bodies of the articles this batch
        will write, as far as a look without the write lock can tell (what a concurrent
        writer changes in between is computed under the lock).  Segmenting, hashing and
        sanitising are the expensive part of a write; done here, other processes' writers
        wait for SQL only."""
        with self.engine.connect() as conn:
            existing = self._load_existing(conn, {a.key for a in batch})
        prepared: dict[Article, Derived] = {}
        for article in batch:
            written = _written(decide(existing.get(article.key), article))
            if written is not None:
                prepared[written] = _derived(written)
        return prepared

    def _load_existing(
        self, conn: Connection, keys: set[tuple[str, str]]
    ) -> dict[tuple[str, str], Stored]:
        found: dict[tuple[str, str], Stored] = {}
        key_list = sorted(keys)
        for start in range(0, len(key_list), 400):
            chunk = key_list[start : start + 400]
            rows = conn.execute(select(A).where(tuple_(A.c.source, A.c.upstream_id).in_(chunk)))
            for row in rows.mappings():
                found[(row["source"], row["upstream_id"])] = Stored(
                    id=row["id"],
                    article=row_to_article(row),
                    revision=row["revision"],
                    content_hash=row["content_hash"],
                )
        return found

    @staticmethod
    def _next_seq(conn: Connection) -> int:
        """The change counter for this write; serial because writes hold the write lock."""
        latest = conn.execute(
            select(
                func.max(A.c.change_seq),
                select(func.max(T.c.change_seq)).scalar_subquery(),
            )
        ).one()
        return max(latest[0] or 0, latest[1] or 0) + 1

    def delete(self, keys: Iterable[tuple[str, str]], *, now: float | None = None) -> int:
        """Remove articles (and their revisions and stock rows), leaving tombstones so
        that an incremental site build removes their pages."""
        wanted = sorted(set(keys))
        if not wanted:
            return 0
        stamp = int(now if now is not None else time.time())
        with self._write() as conn:
            seq = self._next_seq(conn)
            rows = conn.execute(
                select(
                    A.c.id,
                    A.c.source,
                    A.c.upstream_id,
                    A.c.published_at,
                    A.c.section,
                    A.c.stocks,
                    A.c.cluster_id,
                ).where(tuple_(A.c.source, A.c.upstream_id).in_(wanted))
            ).all()
            if not rows:
                return 0
            conn.execute(
                insert(T),
                [
                    {
                        "source": r.source,
                        "upstream_id": r.upstream_id,
                        "published_at": r.published_at,
                        "section": r.section,
                        "change_seq": seq,
                        "deleted_at": stamp,
                        "stocks": r.stocks,
                        "cluster_id": r.cluster_id,
                    }
                    for r in rows
                ],
            )
            ids = [r.id for r in rows]
            fulltext.unindex(conn, ids)
            conn.execute(
                delete(schema.article_stocks).where(schema.article_stocks.c.article_id.in_(ids))
            )
            conn.execute(
                delete(schema.article_revisions).where(
                    schema.article_revisions.c.article_id.in_(ids)
                )
            )
            conn.execute(delete(A).where(A.c.id.in_(ids)))
            clusters.reassign_orphans(conn, [(r.id, r.cluster_id) for r in rows], seq)
        return len(rows)

    @staticmethod
    def _tombstone(
        conn: Connection,
        article: Article,
        seq: int,
        stamp: int,
        article_id: int,
        *,
        cluster: int | None = None,
    ) -> None:
        """Where an article was: its day, section, stocks and story (``cluster``: the story
        it left; else the one it is in), so that an incremental build revisits them."""
        if cluster is None:
            cluster = conn.execute(select(A.c.cluster_id).where(A.c.id == article_id)).scalar()
        conn.execute(
            insert(T).values(
                source=article.source,
                upstream_id=article.upstream_id,
                published_at=int(article.published.timestamp()),
                section=section_of(article),
                change_seq=seq,
                deleted_at=stamp,
                stocks=_stocks_json(article.stocks),
                cluster_id=cluster,
            )
        )

    def snapshot(self) -> Any:
        """A connection inside one read transaction: a consistent view for a site build
        (on PostgreSQL a REPEATABLE READ transaction; SQLite's WAL reads are snapshots)."""
        if self.dialect == "postgresql":
            return self.engine.connect().execution_options(isolation_level="REPEATABLE READ")
        return self.engine.connect()

    def _apply(
        self, conn: Connection, intent: Intent, stamp: int, seq: int, derived: Derived | None
    ) -> Stored:
        if isinstance(intent, Unchanged):
            return intent.old
        assert derived is not None, "an insert or update comes with what it derives"
        if isinstance(intent, Insert):
            values = _published_values(intent.article, derived[2])
            result = conn.execute(
                _INSERT_ARTICLE,
                {
                    **values,
                    "revision": 1,
                    "first_seen_at": stamp,
                    "updated_at": stamp,
                    "change_seq": seq,
                },
            )
            new_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            self._insert_stocks(conn, new_id, intent.article.stocks)
            return Stored(new_id, intent.article, 1, values["content_hash"])
        assert isinstance(intent, Update)
        old = intent.old
        revision = old.revision
        if intent.keep_revision:
            conn.execute(
                insert(schema.article_revisions).values(
                    article_id=old.id,
                    revision=old.revision,
                    **{
                        k: v
                        for k, v in _row_values(old.article).items()
                        if k
                        not in {
                            "source",
                            "upstream_id",
                            "body_complete",
                            "section",
                            "topics",
                            "audio_url",
                        }
                    },
                    replaced_at=stamp,
                )
            )
            revision += 1
        values = _published_values(intent.new, derived[2])
        old_published = int(old.article.published.timestamp())
        old_section = section_of(old.article)
        if (
            old_published != values["published_at"]
            or old_section != values["section"]
            or old.article.stocks != intent.new.stocks
        ):
            # The article moves on the site (another day, section or stocks): a
            # tombstone for where it was lets an incremental build clean up there.
            self._tombstone(conn, old.article, seq, stamp, old.id)
        conn.execute(
            _UPDATE_ARTICLE,
            {
                **values,
                "revision": revision,
                "updated_at": stamp,
                "article_id": old.id,
                "change_seq": seq,
            },
        )
        if intent.new.stocks != old.article.stocks:
            self._replace_stocks(conn, old.id, intent.new.stocks)
        return Stored(old.id, intent.new, revision, values["content_hash"])

    @classmethod
    def _replace_stocks(cls, conn: Connection, article_id: int, stocks: Sequence[StockTag]) -> None:
        conn.execute(
            delete(schema.article_stocks).where(schema.article_stocks.c.article_id == article_id)
        )
        cls._insert_stocks(conn, article_id, stocks)

    @staticmethod
    def _insert_stocks(conn: Connection, article_id: int, stocks: Sequence[StockTag]) -> None:
        unique = {s.code: s for s in stocks}
        if unique:
            conn.execute(
                insert(schema.article_stocks),
                [
                    {"article_id": article_id, "code": s.code, "name": s.name, "origin": s.origin}
                    for s in unique.values()
                ],
            )

    # -- reading -----------------------------------------------------------
    def get(self, source: str, upstream_id: str) -> Article | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(A).where(A.c.source == source, A.c.upstream_id == upstream_id))
                .mappings()
                .first()
            )
        return row_to_article(row) if row else None

    def revisions(self, source: str, upstream_id: str) -> list[tuple[int, str, str]]:
        """(revision, title, body_html) of every earlier version, oldest first."""
        R = schema.article_revisions
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(R.c.revision, R.c.title, R.c.body_html)
                .join(A, A.c.id == R.c.article_id)
                .where(A.c.source == source, A.c.upstream_id == upstream_id)
                .order_by(R.c.revision)
            )
            return [(r[0], r[1], r[2]) for r in rows]

    def iter_articles(self, *, newest_first: bool = False, chunk: int = 1000) -> Iterator[Article]:
        """Every stored article, ordered by publication time, streamed in chunks."""
        order = (
            (A.c.published_at.desc(), A.c.id.desc()) if newest_first else (A.c.published_at, A.c.id)
        )
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=chunk).execute(select(A).order_by(*order))
            for row in result.mappings():
                yield row_to_article(row)

    def sources(self) -> list[str]:
        """The sources that have stored articles (the unique index answers it)."""
        with self.engine.connect() as conn:
            return [str(r[0]) for r in conn.execute(select(A.c.source).distinct())]

    def origin_of(self, sources: Sequence[str], upstream_id: str) -> str | None:
        """Which of ``sources`` stores an article with this upstream id, if exactly one:
        how an import recognises finews's own Jekyll export of an article it already holds
        (a lookup on the ``(source, upstream_id)`` index)."""
        if not sources:
            return None
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(A.c.source).where(A.c.source.in_(sources), A.c.upstream_id == upstream_id)
            ).all()
        return str(rows[0][0]) if len(rows) == 1 else None

    def known(self, source: str, upstream_ids: Sequence[str]) -> set[str]:
        """Which of these upstream ids of a source are stored already."""
        found: set[str] = set()
        ids = list(dict.fromkeys(upstream_ids))
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 400):
                rows = conn.execute(
                    select(A.c.upstream_id).where(
                        A.c.source == source, A.c.upstream_id.in_(ids[start : start + 400])
                    )
                )
                found.update(r[0] for r in rows)
        return found

    def pending_fulltext(self, source: str, max_attempts: int, limit: int) -> list[Article]:
        """Stored articles of a source whose full text is still due, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(A)
                .where(
                    A.c.source == source,
                    A.c.body_complete.is_(False),
                    A.c.fulltext_attempts < max_attempts,
                )
                .order_by(A.c.published_at.desc())
                .limit(limit)
            )
            return [row_to_article(r) for r in rows.mappings()]

    def note_fulltext_failure(self, source: str, upstream_ids: Sequence[str]) -> None:
        """Count one more failed full-text attempt for each of these articles."""
        if not upstream_ids:
            return
        with self._write() as conn:
            conn.execute(
                update(A)
                .where(A.c.source == source, A.c.upstream_id.in_(list(upstream_ids)))
                .values(fulltext_attempts=A.c.fulltext_attempts + 1)
            )

    def stock_timeline(self, code: str, limit: int = 50) -> list[tuple[Article, str]]:
        """Articles tagged with a stock, newest first, with the tag's origin."""
        S = schema.article_stocks
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(A, S.c.origin.label("tag_origin"))
                .join(S, S.c.article_id == A.c.id)
                .where(S.c.code == code)
                .order_by(A.c.published_at.desc(), A.c.id.desc())
                .limit(limit)
            )
            return [(row_to_article(r), r["tag_origin"]) for r in rows.mappings()]

    def export_rows(self) -> Iterator[dict[str, Any]]:
        """One plain record per article, oldest first, for `finews export json`.

        ``story`` is the story's id (the row id of the report that started it, as in
        ``/story/<id>/``), ``story_size`` its number of reports, ``first_in_story`` marks its
        earliest published report (the one a reader calls first: "首发"; a report stored
        late from a backfill can be earlier than the one that started the story);
        ``canonical`` marks the report that stands for the story: the earliest one with
        its full text (the earliest at all when none has it).  ``cluster`` is ``story``
        under its older name."""
        with self.snapshot() as conn:  # one read: both passes see the same articles
            canonical: dict[int, tuple[int, int, int]] = {}
            first: dict[int, tuple[int, int]] = {}
            size: dict[int, int] = defaultdict(int)
            for article_id, cluster, published_at, complete in conn.execute(
                select(A.c.id, A.c.cluster_id, A.c.published_at, A.c.body_complete)
            ):
                rank = (0 if complete else 1, published_at, article_id)
                key = cluster or article_id
                size[key] += 1
                if key not in canonical or rank < canonical[key]:
                    canonical[key] = rank
                if key not in first or (published_at, article_id) < first[key]:
                    first[key] = (published_at, article_id)
            result = conn.execution_options(yield_per=1000).execute(
                select(A).order_by(A.c.published_at, A.c.id)
            )
            for row in result.mappings():
                a = row_to_article(row)
                story = row["cluster_id"] or row["id"]
                yield {
                    "id": f"{a.source}/{a.upstream_id}",
                    "source": a.source,
                    "upstream_id": a.upstream_id,
                    "media": a.media,
                    "title": a.title,
                    "time": a.published_beijing.isoformat(),
                    "url": a.url,
                    "stocks": [s.as_dict() for s in a.stocks],
                    "topics": [t.as_dict() for t in a.topics],
                    "audio_url": a.audio_url,
                    "story": story,
                    "story_size": size[story],
                    "first_in_story": first[story][1] == row["id"],
                    "cluster": row["cluster_id"],
                    "canonical": canonical[story][2] == row["id"],
                    "important": a.important,
                }

    def reprocess(
        self,
        process: Callable[[Article], Article],
        *,
        batch: int = 500,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Run the processing again over every stored article (after the stock list or
        the rules changed) and rebuild the reprint clusters from scratch, oldest first.
        Changed stocks update the article in place (no revision: the upstream content
        did not change); every article gets a new change counter so the site follows, and
        its published body is cleaned again (after the cleaner changed)."""
        with self._write() as conn:
            conn.execute(delete(schema.lsh_buckets))
            conn.execute(delete(schema.article_signatures))
        last: tuple[int, int] = (-(2**62), 0)
        changed = 0
        while True:
            with self._write() as conn:
                rows = (
                    conn.execute(
                        select(A)
                        .where(tuple_(A.c.published_at, A.c.id) > last)
                        .order_by(A.c.published_at, A.c.id)
                        .limit(batch)
                    )
                    .mappings()
                    .all()
                )
                if not rows:
                    return changed
                seq = self._next_seq(conn)
                retag: list[tuple[int, Article]] = []
                for row in rows:
                    before = row_to_article(row)
                    after = replace(process(before), media=before.media)  # sections stay
                    if after.stocks != before.stocks:
                        changed += 1
                        retag.append((row["id"], after))
                        self._replace_stocks(conn, row["id"], after.stocks)
                        self._tombstone(conn, before, seq, int(time.time()), row["id"])
                    conn.execute(
                        update(A)
                        .where(A.c.id == row["id"])
                        .values(
                            stocks=_stocks_json(after.stocks),
                            content_hash=after.content_hash(),
                            change_seq=seq,
                            body_clean=clean_body(after.body_html, after.url),
                            clean_revision=CLEAN_REVISION,
                        )
                    )
                    # not fresh: a writer in another process may have stored its signature
                    # again since the tables were emptied
                    now_in, was_in = clusters.assign(
                        conn,
                        row["id"],
                        row["published_at"],
                        dedup.signature(after),
                        regroup=True,
                    )
                    if was_in is not None and was_in != now_in:
                        self._tombstone(
                            conn, before, seq, int(time.time()), row["id"], cluster=was_in
                        )
                fulltext.index(conn, retag)
                last = (rows[-1]["published_at"], rows[-1]["id"])
            if progress:
                progress(len(rows))

    def search(
        self,
        query: Query,
        filters: fulltext.Filters | None = None,
        *,
        limit: int = 20,
        offset: int = 0,
        recent_first: bool = False,
        now: int | None = None,
    ) -> SearchPage:
        """One page of the articles matching a parsed query (never raw user text: see
        :mod:`finews.search.query`), best first."""
        with self.engine.connect() as conn:
            if not fulltext.available(conn):
                raise StoreError(f"search needs SQLite or PostgreSQL (not {self.dialect})")
            try:
                ranked = fulltext.search(
                    conn,
                    query,
                    filters or fulltext.Filters(),
                    limit=limit,
                    offset=offset,
                    recent_first=recent_first,
                    now=int(now if now is not None else time.time()),
                )
            except OperationalError as exc:
                raise StoreError(f"search failed: {exc.orig}") from None
            found = self._by_ids(conn, [i for i, _ in ranked.hits])
        hits = [
            SearchHit(i, found[i][0], score, found[i][1]) for i, score in ranked.hits if i in found
        ]
        return SearchPage(hits, ranked.total, ranked.relaxed)

    @staticmethod
    def _by_ids(conn: Connection, ids: Sequence[int]) -> dict[int, tuple[Article, int]]:
        """Articles by row id, with their cluster."""
        found: dict[int, tuple[Article, int]] = {}
        for start in range(0, len(ids), 400):
            rows = conn.execute(select(A).where(A.c.id.in_(ids[start : start + 400])))
            for row in rows.mappings():
                found[row["id"]] = (row_to_article(row), row["cluster_id"] or row["id"])
        return found

    # -- listings for the API and the live page ------------------------------------
    def list_articles(
        self,
        filters: fulltext.Filters | None = None,
        *,
        before: tuple[int, int] | None = None,
        limit: int = 50,
    ) -> list[tuple[int, Article, int]]:
        """(id, article, cluster) newest first, from just after the ``before`` cursor
        (published_at, id) on: keyset pagination, stable while articles arrive."""
        params: dict[str, Any] = {"limit": limit}
        where = fulltext.filter_sql(filters or fulltext.Filters(), params)
        if before is not None:
            where.append("(a.published_at, a.id) < (:b_published, :b_id)")
            params.update(b_published=before[0], b_id=before[1])
        sql = "SELECT a.id FROM articles a"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY a.published_at DESC, a.id DESC LIMIT :limit"
        with self.engine.connect() as conn:
            ids = [int(r[0]) for r in conn.execute(text(sql), params)]
            found = self._by_ids(conn, ids)
        return [(i, *found[i]) for i in ids if i in found]

    def find(self, source: str, upstream_id: str) -> tuple[int, Article, int] | None:
        """(id, article, cluster) of one article."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(A.c.id).where(A.c.source == source, A.c.upstream_id == upstream_id)
            ).first()
            if row is None:
                return None
            found = self._by_ids(conn, [int(row[0])])
        return (int(row[0]), *found[int(row[0])]) if found else None

    def latest_id(self) -> int:
        """The highest article row id (0 for an empty store); new articles get higher ones."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.max(A.c.id))).scalar() or 0)

    def articles_after(self, article_id: int, limit: int = 200) -> list[tuple[int, Article, int]]:
        """(id, article, cluster) of the articles stored after row ``article_id``, oldest first."""
        with self.engine.connect() as conn:
            ids = [
                int(r[0])
                for r in conn.execute(
                    select(A.c.id).where(A.c.id > article_id).order_by(A.c.id).limit(limit)
                )
            ]
            found = self._by_ids(conn, ids)
        return [(i, *found[i]) for i in ids if i in found]

    # -- the sources' health ----------------------------------------------------------
    def record_poll(
        self, source: str, *, ok: bool, error: str = "", new: int = 0, now: float | None = None
    ) -> None:
        """Remember how a source's latest poll went (for ``/api/sources`` and alerts)."""
        stamp = int(now if now is not None else time.time())
        S = schema.source_status
        with self._write() as conn:
            row = conn.execute(select(S).where(S.c.source == source)).mappings().first()
            values = {
                "last_attempt_at": stamp,
                "last_error": "" if ok else error[:2000],
                "last_new": new,
            }
            if ok:
                values["last_success_at"] = stamp
            if row is None:
                conn.execute(
                    insert(S).values(
                        source=source,
                        consecutive_failures=0 if ok else 1,
                        polls=1,
                        failures=0 if ok else 1,
                        **values,
                    )
                )
            else:
                conn.execute(
                    update(S)
                    .where(S.c.source == source)
                    .values(
                        consecutive_failures=0 if ok else row["consecutive_failures"] + 1,
                        polls=row["polls"] + 1,
                        failures=row["failures"] + (0 if ok else 1),
                        **values,
                    )
                )

    def source_status(self) -> dict[str, dict[str, Any]]:
        """Per source: its latest poll (if any) and its stored articles."""
        S = schema.source_status
        out: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(select(S)).mappings():
                out[row["source"]] = {k: v for k, v in row.items() if k != "source"}
            counts = conn.execute(
                select(A.c.source, func.count(), func.max(A.c.published_at)).group_by(A.c.source)
            )
            for source, count, newest in counts:
                entry = out.setdefault(source, {})
                entry["articles"] = int(count)
                entry["newest_at"] = newest
        return out

    def version(self) -> int:
        """A number that grows with every change to the articles (insert, update, delete):
        what a cache of query results is keyed on."""
        with self.engine.connect() as conn:
            return self._next_seq(conn) - 1

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(A)).scalar_one())

    def stats(self) -> dict[str, Any]:
        """Articles per source and per media, with the oldest and newest times."""

        def group(conn: Connection, column: Any) -> list[dict[str, Any]]:
            rows = conn.execute(
                select(column, func.count(), func.min(A.c.published_at), func.max(A.c.published_at))
                .group_by(column)
                .order_by(func.count().desc(), column)
            )
            return [
                {
                    "name": r[0],
                    "articles": r[1],
                    "oldest": from_epoch(r[2]).isoformat(),
                    "newest": from_epoch(r[3]).isoformat(),
                }
                for r in rows
            ]

        with self.engine.connect() as conn:
            total, oldest, newest = conn.execute(
                select(func.count(), func.min(A.c.published_at), func.max(A.c.published_at))
            ).one()
            revisions = conn.execute(
                select(func.count()).select_from(schema.article_revisions)
            ).scalar_one()
            story_count = conn.execute(
                select(func.count(func.distinct(func.coalesce(A.c.cluster_id, A.c.id))))
            ).scalar_one()
            return {
                "articles": total,
                "revisions": revisions,
                "stories": story_count,
                "stories_outdated": story_queries.outdated(conn),
                "oldest": from_epoch(oldest).isoformat() if oldest is not None else None,
                "newest": from_epoch(newest).isoformat() if newest is not None else None,
                "sources": group(conn, A.c.source),
                "media": group(conn, A.c.media),
            }

    def stories(self, since: int, until: int, limit: int = 30) -> list[story_queries.Story]:
        """The stories of a period, hottest first (see :mod:`finews.store.stories`)."""
        with self.engine.connect() as conn:
            return story_queries.between(conn, since, until, limit)

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` ('ok' when healthy); 'ok' elsewhere."""
        if self.dialect != "sqlite":
            return "ok"
        with self.engine.connect() as conn:
            # one row 'ok', or one row per problem found
            rows = conn.exec_driver_sql("PRAGMA integrity_check").scalars().all()
            return "\n".join(str(r) for r in rows)


Derived = tuple[fulltext.Document, "dedup.Signature | None", str]
"""What a write derives from an article: its search document, its MinHash signature and
its body as published (sanitised)."""


def _derived(article: Article) -> Derived:
    return (
        fulltext.document(article),
        dedup.signature(article),
        clean_body(article.body_html, article.url),
    )


def _written(intent: Intent) -> Article | None:
    """The article an intent writes (None: nothing to write)."""
    if isinstance(intent, Insert):
        return intent.article
    if isinstance(intent, Update):
        return intent.new
    return None


def _outcome(intent: Intent) -> str:
    if isinstance(intent, Insert):
        return "new"
    if isinstance(intent, Update):
        return "updated"
    return "unchanged"


__all__ = ["SQLAlchemyError", "SaveReport", "SearchHit", "SearchPage", "Store"]
