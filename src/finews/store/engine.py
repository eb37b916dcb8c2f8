"""Opening a database: SQLite's connection settings, the checks that turn a path that
cannot be a database into one line, the one-line explanation of a driver's error, and
the write transaction writers take turns on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError

from finews.errors import StoreError

WRITE_LOCK = 0x66696E657773  # "finews": the PostgreSQL advisory lock writers take turns on
WRITE_CACHE_KIB = 32 * 1024
"""SQLite's page cache of a connection that writes (2 MB by default).  A new article's
story candidates are looked up in the MinHash bucket index at 40 places spread over all of
it, and its rows go into the article, bucket and search tables: with the default cache
most of those pages were read from the OS again on every article (#10's speed: 6–12 %
more articles per CPU second on 5,000 flashes, docs/benchmarks.md).  Only writers grow
it: readers, a site build's workers among them, keep the default."""


def _sqlite_pragmas(engine: Engine) -> None:
    """WAL, full fsync on commit, foreign keys, and write transactions that
    take the write lock up front (``BEGIN IMMEDIATE``) so that two writers
    queue on the busy timeout instead of failing on a lock upgrade, with a
    larger page cache (:data:`WRITE_CACHE_KIB`)."""

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
        writing = bool(conn.get_execution_options().get("finews_write"))
        if writing:
            conn.exec_driver_sql(f"PRAGMA cache_size = -{WRITE_CACHE_KIB}")
        conn.exec_driver_sql(f"BEGIN {'IMMEDIATE' if writing else 'DEFERRED'}")


def make_engine(url: Any, **options: Any) -> Engine:
    """An engine for the store, with SQLite's connection settings when it is SQLite."""
    engine = create_engine(url, **options)
    if engine.dialect.name == "sqlite":
        _sqlite_pragmas(engine)
    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A write transaction.  Writers take turns: on SQLite through ``BEGIN IMMEDIATE``,
    on PostgreSQL through a transaction-scoped advisory lock taken first thing.  Taking
    turns is what keeps ``change_seq`` in commit order (an incremental build that has
    seen N never misses a later commit numbered N or less) and makes a save
    idempotent across processes: the second of two workers storing one article finds
    the first one's row and leaves it alone."""
    with engine.execution_options(finews_write=True).begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
        yield conn


def check_sqlite_path(path: Path, *, create: bool) -> None:
    """Refuse, in one line, an SQLite path that cannot be a database before SQLite or a
    ``mkdir`` says so in a traceback: a folder, a missing file when only reading, a folder
    that cannot be created (``/proc``, a read-only mount, no permission)."""
    if path.is_dir():
        raise StoreError(f"database {path} is a folder (give a file path, e.g. {path}/finews.db)")
    if not create and not path.exists():
        raise StoreError(f"no database at {path} (check the path; commands that write create it)")
    if not create and path.is_file() and path.stat().st_size == 0:
        # SQLite takes an empty file for an empty database: a reader would write finews'
        # schema into a file it was only asked to read
        raise StoreError(
            f"{path} is an empty file, not a finews database (check the path, or wait if a "
            "`finews fetch` or `finews import` is creating it right now)"
        )
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
        if head:
            _refuse_foreign_tables(path)


def _refuse_foreign_tables(path: Path) -> None:
    """Refuse an SQLite database that holds tables but no finews schema: someone else's
    data.  Read-only, before finews connects (its connection would switch the file to WAL
    and the migrations would write 60 tables into it: a walk of wave 11 saw ``finews
    search`` do both to a file of one table).  A finews store is known by its own
    ``schema_migrations`` (version, name, applied_at) beside ``articles``: Rails, dbmate and
    golang-migrate name a table ``schema_migrations`` too.  Without a ``-wal`` file beside
    it, the file is read as immutable, so that reading it leaves no ``-shm`` behind (the
    main file then holds everything); with one, as a reader of a store in use.  A file
    SQLite cannot read is left to the open, which says so."""
    import sqlite3

    wal = path.with_name(path.name + "-wal")
    uri = f"{path.resolve().as_uri()}?mode=ro" + ("" if wal.exists() else "&immutable=1")
    try:
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            tables = [
                str(row[0])
                for row in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
                )
            ]
            ledger = {str(row[1]) for row in conn.execute("PRAGMA table_info(schema_migrations)")}
    except sqlite3.Error:
        return
    if not tables or ("articles" in tables and {"version", "name", "applied_at"} <= ledger):
        return
    shown = ", ".join(tables[:3]) + (f" and {len(tables) - 3} more" if len(tables) > 3 else "")
    raise StoreError(
        f"{path} is an SQLite database but not a finews store (it holds {shown}); "
        "finews leaves it as it is: give another --db (a new file is created)"
    )


def driver_hint(url: Any) -> str:
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
