"""The :class:`Store`: a narrow interface over SQLAlchemy Core.

Every write is one transaction: a batch of articles, their stock rows and
their previous revisions are committed together or not at all, so a crash
leaves the last committed state and never half an article.

``Store`` is the face; the work is in focused modules of functions over a connection
(#16), as :mod:`~finews.store.clusters` and :mod:`~finews.store.alertqueue` were from
the start: :mod:`~finews.store.engine` (opening, the write transaction),
:mod:`~finews.store.rows` (an article's row), :mod:`~finews.store.articles` (writes),
:mod:`~finews.store.reads` (reads and listings), :mod:`~finews.store.search`,
:mod:`~finews.store.sourcestatus` (the sources' polls) and :mod:`~finews.store.stats`
(figures and the JSON export).  A method here opens the connection or the transaction
and calls one of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from finews.errors import StoreError
from finews.model import Article
from finews.search.query import Query
from finews.store import articles as writes
from finews.store import (
    backlog,
    extent,
    fulltext,
    notify,
    reads,
    search,
    sourcestatus,
    stats,
    topics,
)
from finews.store import stories as story_queries
from finews.store.articles import SaveReport
from finews.store.engine import (
    check_sqlite_path,
    driver_hint,
    explain_db_error,
    make_engine,
    write_transaction,
)
from finews.store.migrations import SchemaTooNew, migrate
from finews.store.rows import row_to_article, section_of
from finews.store.search import SearchHit, SearchPage

CLOSE_GRACE = 5.0
"""Seconds :meth:`Store.close` waits for connections other threads still use."""


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
            check_sqlite_path(Path(path), create=create)
        try:
            engine = make_engine(parsed)
        except (ArgumentError, ImportError) as exc:
            raise StoreError(f"cannot use database {shown}: {exc}{driver_hint(parsed)}") from None
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
        return Store(make_engine(self.engine.url, poolclass=NullPool))

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
        """A write transaction (writers take turns: see :func:`.engine.write_transaction`)."""
        with write_transaction(self.engine) as conn:
            yield conn

    # -- writing -----------------------------------------------------------
    def save(self, articles: Iterable[Article], *, now: float | None = None) -> SaveReport:
        """Store a batch of articles in one transaction.

        The same article twice (same source and upstream id) is one row; a
        changed one is updated and its previous content kept as a revision.
        """
        batch = list(articles)
        if not batch:
            return SaveReport()
        stamp = int(now if now is not None else time.time())
        with self.engine.connect() as conn:
            prepared = writes.prepare(conn, batch)
        try:
            with self._write() as conn:
                report = writes.save(conn, batch, prepared, stamp)
                topics.write_topics(conn, batch)  # the topic pages' index, in the same write
                changed = report.counts["new"] + report.counts["updated"] > 0
                if changed:
                    notify.in_transaction(conn)  # PostgreSQL: sent with the commit (#17)
        except OperationalError as exc:
            raise StoreError(f"database write failed: {exc.orig}") from None
        if changed:
            notify.announce(self.engine)  # SQLite: readers woken once it is committed
        return report

    def delete(self, keys: Iterable[tuple[str, str]], *, now: float | None = None) -> int:
        """Remove articles (and their revisions and stock rows), leaving tombstones so
        that an incremental site build removes their pages."""
        wanted = sorted(set(keys))
        if not wanted:
            return 0
        stamp = int(now if now is not None else time.time())
        with self._write() as conn:
            return writes.delete_articles(conn, wanted, stamp)

    def snapshot(self) -> Any:
        """A connection inside one read transaction: a consistent view for a site build
        (on PostgreSQL a REPEATABLE READ transaction; SQLite's WAL reads are snapshots)."""
        if self.dialect == "postgresql":
            return self.engine.connect().execution_options(isolation_level="REPEATABLE READ")
        return self.engine.connect()

    # -- reading -----------------------------------------------------------
    def get(self, source: str, upstream_id: str) -> Article | None:
        with self.engine.connect() as conn:
            return reads.get(conn, source, upstream_id)

    def revisions(self, source: str, upstream_id: str) -> list[tuple[int, str, str]]:
        """(revision, title, body_html) of every earlier version, oldest first."""
        with self.engine.connect() as conn:
            return reads.revisions(conn, source, upstream_id)

    def iter_articles(self, *, newest_first: bool = False, chunk: int = 1000) -> Iterator[Article]:
        """Every stored article, ordered by publication time, streamed in chunks."""
        with self.engine.connect() as conn:
            yield from reads.iter_articles(conn, newest_first=newest_first, chunk=chunk)

    def sources(self) -> list[str]:
        """The sources that have stored articles (the unique index answers it)."""
        with self.engine.connect() as conn:
            return reads.sources(conn)

    def newest(self) -> int | None:
        """The newest article's publication time (epoch seconds); None when empty."""
        with self.engine.connect() as conn:
            return extent.newest(conn)

    def media(self) -> list[str]:
        """The outlets that have stored articles."""
        with self.engine.connect() as conn:
            return extent.media(conn)

    def is_tagged(self, code: str) -> bool:
        """Whether any article is tagged with this stock code."""
        with self.engine.connect() as conn:
            return extent.tagged(conn, code)

    def count_articles(self, filters: fulltext.Filters) -> int:
        """How many articles the filters match."""
        with self.engine.connect() as conn:
            return extent.count(conn, filters)

    def origin_of(self, sources: Sequence[str], upstream_id: str) -> str | None:
        """Which of ``sources`` stores an article with this upstream id, if exactly one
        (see :func:`.reads.origin_of`)."""
        if not sources:
            return None
        with self.engine.connect() as conn:
            return reads.origin_of(conn, sources, upstream_id)

    def known(self, source: str, upstream_ids: Sequence[str]) -> set[str]:
        """Which of these upstream ids of a source are stored already."""
        with self.engine.connect() as conn:
            return reads.known(conn, source, upstream_ids)

    def pending_fulltext(self, source: str, max_attempts: int, limit: int) -> list[Article]:
        """Stored articles of a source whose full text is still due, newest first."""
        with self.engine.connect() as conn:
            return reads.pending_fulltext(conn, source, max_attempts, limit)

    def note_fulltext_failure(self, source: str, upstream_ids: Sequence[str]) -> None:
        """Count one more failed full-text attempt for each of these articles."""
        if not upstream_ids:
            return
        with self._write() as conn:
            writes.note_fulltext_failure(conn, source, upstream_ids)

    def stock_timeline(self, code: str, limit: int = 50) -> list[tuple[Article, str]]:
        """Articles tagged with a stock, newest first, with the tag's origin."""
        with self.engine.connect() as conn:
            return reads.stock_timeline(conn, code, limit)

    def export_rows(self) -> Iterator[dict[str, Any]]:
        """One plain record per article, oldest first, for `finews export json` (see
        :func:`.stats.export_rows`)."""
        with self.snapshot() as conn:  # one read: both passes see the same articles
            yield from stats.export_rows(conn)

    def reprocess(
        self,
        process: Callable[[Article], Article],
        *,
        batch: int = 500,
        progress: Callable[[int], None] | None = None,
        reindex: bool = False,
    ) -> int:
        """Run the processing again over every stored article (after the stock list or
        the rules changed) and rebuild the reprint clusters from scratch, oldest first,
        one transaction per ``batch`` (see :func:`.articles.reprocess_batch`); with
        ``reindex``, write every article's search index again too."""
        with self._write() as conn:
            writes.forget_signatures(conn)
        last: tuple[int, int] = (-(2**62), 0)
        changed = 0
        while True:
            with self._write() as conn:
                read, retagged, last = writes.reprocess_batch(
                    conn, process, last, batch, reindex=reindex
                )
                if not read:
                    return changed
                changed += retagged
            if progress:
                progress(read)

    def search(
        self,
        query: Query,
        filters: fulltext.Filters | None = None,
        *,
        limit: int = 20,
        offset: int = 0,
        recent_first: bool = False,
        now: int | None = None,
        relax: bool = True,
    ) -> SearchPage:
        """One page of the articles matching a parsed query (never raw user text: see
        :mod:`finews.search.query`), best first.  ``relax=False``: every word or nothing
        (a search feed: a subscription to 央行 降息 wants both words)."""
        with self.engine.connect() as conn:
            return search.search(
                conn,
                query,
                filters or fulltext.Filters(),
                limit=limit,
                offset=offset,
                recent_first=recent_first,
                now=int(now if now is not None else time.time()),
                relax=relax,
            )

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
        with self.engine.connect() as conn:
            return reads.list_articles(
                conn, filters or fulltext.Filters(), before=before, limit=limit
            )

    def find(self, source: str, upstream_id: str) -> tuple[int, Article, int] | None:
        """(id, article, cluster) of one article."""
        with self.engine.connect() as conn:
            return reads.find(conn, source, upstream_id)

    def latest_id(self) -> int:
        """The highest article row id (0 for an empty store); new articles get higher ones."""
        with self.engine.connect() as conn:
            return reads.latest_id(conn)

    def articles_after(self, article_id: int, limit: int = 200) -> list[tuple[int, Article, int]]:
        """(id, article, cluster) of the articles stored after row ``article_id``, oldest first."""
        with self.engine.connect() as conn:
            return reads.articles_after(conn, article_id, limit)

    # -- the sources' health ----------------------------------------------------------
    def record_poll(
        self, source: str, *, ok: bool, error: str = "", new: int = 0, now: float | None = None
    ) -> None:
        """Remember how a source's latest poll went (for ``/api/sources`` and alerts)."""
        stamp = int(now if now is not None else time.time())
        with self._write() as conn:
            sourcestatus.record_poll(conn, source, ok=ok, error=error, new=new, stamp=stamp)
            backlog.close(conn, source)  # where its back catalogue ends, if it just began

    def source_status(self) -> dict[str, dict[str, Any]]:
        """Per source: its latest poll (if any) and its stored articles."""
        with self.engine.connect() as conn:
            return sourcestatus.source_status(conn)

    def version(self) -> int:
        """A number that grows with every change to the articles (insert, update, delete):
        what a cache of query results is keyed on."""
        with self.engine.connect() as conn:
            return stats.version(conn)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return stats.count(conn)

    def stats(self) -> dict[str, Any]:
        """Articles per source and per media, with the oldest and newest times."""
        with self.engine.connect() as conn:
            return stats.stats(conn)

    def stories(self, since: int, until: int, limit: int = 30) -> list[story_queries.Story]:
        """The stories of a period, hottest first (see :mod:`finews.store.stories`)."""
        with self.engine.connect() as conn:
            return story_queries.between(conn, since, until, limit)

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` ('ok' when healthy); 'ok' elsewhere."""
        if self.dialect != "sqlite":
            return "ok"
        with self.engine.connect() as conn:
            return stats.integrity_check(conn)


# Names other modules have imported from here (kept: branches in flight still do).
__all__ = [
    "SQLAlchemyError",
    "SaveReport",
    "SearchHit",
    "SearchPage",
    "Store",
    "explain_db_error",
    "row_to_article",
    "section_of",
]
