"""Writing articles: a batch saved (inserted, updated with the previous revision kept,
or left alone, as :mod:`finews.store.decide` says), articles deleted behind tombstones,
everything processed again.  Functions over a connection inside a write transaction
(:meth:`Store.save` and its siblings open it); the expensive part of a write — the
search document, the MinHash signature, the sanitised body — is derived before the
write lock is taken (:func:`prepare`)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Connection, bindparam, delete, func, insert, select, tuple_, update
from sqlalchemy.exc import DBAPIError

from finews.model import Article, StockTag
from finews.process import dedup
from finews.process.clean import CLEAN_REVISION, clean_body
from finews.search import segment
from finews.store import clusters, derivehelper, fulltext, schema
from finews.store.decide import Insert, Intent, Stored, Unchanged, Update, decide
from finews.store.rows import (
    published_values,
    row_to_article,
    row_values,
    section_of,
    stocks_json,
)

A = schema.articles
T = schema.article_tombstones
# Statements built once: SQLAlchemy then reuses their compiled form for every row.
_UPDATE_ARTICLE = update(A).where(A.c.id == bindparam("article_id"))
_ROW_COLUMNS = tuple(c.name for c in A.columns if c.name != "id")
_ROW_DEFAULTS: dict[str, Any] = {
    c.name: getattr(c.default, "arg", None) if c.default and c.default.is_scalar else None
    for c in A.columns
}
"""An inserted row's columns, and what a column the values leave out gets (the table's
scalar default, as SQLAlchemy's insert gave it, else NULL)."""
_STOCK_COLUMNS = ("article_id", "code", "name", "origin")


class _Inserts(NamedTuple):
    article: str
    stock: str
    returning: bool


@lru_cache(maxsize=4)
def _inserts(paramstyle: str, returning: bool) -> _Inserts:
    """The insert statements of a new article's rows in the driver's placeholder style."""
    m = "?" if paramstyle == "qmark" else "%s"
    article = (
        f"INSERT INTO {A.name} ({', '.join(_ROW_COLUMNS)}) "
        f"VALUES ({', '.join([m] * len(_ROW_COLUMNS))})" + (" RETURNING id" if returning else "")
    )
    stock = (
        f"INSERT INTO {schema.article_stocks.name} ({', '.join(_STOCK_COLUMNS)}) "
        f"VALUES ({', '.join([m] * len(_STOCK_COLUMNS))})"
    )
    return _Inserts(article, stock, returning)


def _insert_article(conn: Connection, values: dict[str, Any], stocks: Sequence[StockTag]) -> int:
    """Insert a new article's row and its stock rows; its id.  On the driver's cursor of the
    transaction's connection, like the story statements (:mod:`.clusters`): SQLAlchemy's
    work around one row's insert cost more than the insert (#10's write path)."""
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None, "a connection in a transaction has its driver connection"
    sql = _inserts(conn.dialect.paramstyle, conn.dialect.name == "postgresql")
    cursor = dbapi.cursor()
    row = tuple(values.get(c, _ROW_DEFAULTS[c]) for c in _ROW_COLUMNS)
    driver_error = conn.dialect.loaded_dbapi.Error
    statement = sql.article
    try:
        cursor.execute(statement, row)
        if sql.returning:
            (new_id,) = cursor.fetchone() or (None,)
        else:
            new_id = cursor.lastrowid
        assert new_id is not None, "an insert gives the new row's id"
        stock_rows = _stock_rows(new_id, stocks)
        if stock_rows:
            statement = sql.stock
            cursor.executemany(statement, stock_rows)
    except driver_error as exc:
        # as SQLAlchemy would raise it: callers tell a constraint from a locked file
        raise DBAPIError.instance(statement, None, exc, driver_error) from exc
    finally:
        cursor.close()
    return int(new_id)


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


class Derived(NamedTuple):
    """What a write derives from an article: its search document, its MinHash signature,
    and its row as published (with the sanitised body and the content hash)."""

    document: fulltext.Document
    signature: dedup.Signature | None
    row: dict[str, Any]


def derive(article: Article) -> Derived:
    """What a write of ``article`` derives from it (in a helper process too:
    :mod:`.derivehelper`).  The story facts' stored form is made here, one string to send
    from a helper; their n-gram sets are left to the judgement (unpickled, they cost the
    writer more than computing them)."""
    signature = dedup.signature(article)
    if signature is not None and signature.facts is not None:
        signature.facts.to_json()  # remembered by the facts
    return Derived(
        fulltext.document(article),
        signature,
        published_values(article, clean_body(article.body_html, article.url)),
    )


def warm_up(article: Article) -> None:
    """Derive what a write of ``article`` would (its search document, signature and clean
    body) and drop it: the segmenter, the MinHash tables and the sanitiser are built on
    first use, seconds on a busy machine, which a long-running writer (a worker) had
    better spend before its first poll than in it."""
    derive(article)


class Prepared(Protocol):
    """The derived values a write has ready, by article (None: derive it now)."""

    def get(self, article: Article, /) -> Derived | None: ...


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


def prepare(conn: Connection, batch: list[Article]) -> Prepared:
    """The index documents, signatures and sanitised bodies of the articles this batch
    will write, as far as a look without the write lock can tell (what a concurrent
    writer changes in between is computed under the lock).  Segmenting, hashing and
    sanitising are the expensive part of a write; done here, other processes' writers
    wait for SQL only — except for a large batch on a machine with a second core, whose
    values a helper process derives while this one writes (:mod:`.derivehelper`)."""
    existing = load_existing(conn, {a.key for a in batch})
    to_write = [
        written
        for article in batch
        if (written := _written(decide(existing.get(article.key), article))) is not None
    ]
    if len(to_write) >= derivehelper.MIN_ARTICLES:
        # a big batch: jieba's whole dictionary in memory pays for its load (about a
        # second) within it; a poll's few dozen read the quick file (search.segment)
        segment.tokenizer()
    if derivehelper.wanted(len(to_write)):
        return derivehelper.Derivations(to_write, derive).start()
    return {written: derive(written) for written in to_write}


def save(conn: Connection, batch: list[Article], prepared: Prepared, stamp: int) -> SaveReport:
    """Store ``batch`` (inside a write transaction); ``prepared`` from :func:`prepare`."""
    report = SaveReport()
    seq = next_seq(conn)
    existing = load_existing(conn, {a.key for a in batch})
    to_index: dict[int, fulltext.Document] = {}
    for article in batch:
        intent = decide(existing.get(article.key), article)
        written = _written(intent)
        derived = None
        if written is not None:
            derived = prepared.get(written) or derive(written)
        stored = _apply(conn, intent, stamp, seq, derived)
        if derived is not None:
            document, signature, _ = derived
            to_index[stored.id] = document
        if isinstance(intent, Insert) or (isinstance(intent, Update) and intent.content_changed):
            now_in, was_in = clusters.assign(
                conn,
                stored.id,
                int(stored.article.published.timestamp()),
                signature,
                fresh=isinstance(intent, Insert),
            )
            if was_in is not None and was_in != now_in:
                # it left a story: the site revisits that story's pages
                tombstone(conn, stored.article, seq, stamp, stored.id, cluster=was_in)
        existing[article.key] = stored
        report.outcomes.append(_outcome(intent))
    fulltext.index_documents(conn, to_index.items())
    return report


def load_existing(conn: Connection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], Stored]:
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


def next_seq(conn: Connection) -> int:
    """The change counter for this write; serial because writes hold the write lock."""
    latest = conn.execute(
        select(
            func.max(A.c.change_seq),
            select(func.max(T.c.change_seq)).scalar_subquery(),
        )
    ).one()
    return max(latest[0] or 0, latest[1] or 0) + 1


def delete_articles(conn: Connection, wanted: list[tuple[str, str]], stamp: int) -> int:
    """Remove articles (and their revisions and stock rows), leaving tombstones so
    that an incremental site build removes their pages."""
    seq = next_seq(conn)
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
    conn.execute(delete(schema.article_stocks).where(schema.article_stocks.c.article_id.in_(ids)))
    conn.execute(
        delete(schema.article_revisions).where(schema.article_revisions.c.article_id.in_(ids))
    )
    conn.execute(delete(A).where(A.c.id.in_(ids)))
    clusters.reassign_orphans(conn, [(r.id, r.cluster_id) for r in rows], seq)
    return len(rows)


def tombstone(
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
            stocks=stocks_json(article.stocks),
            cluster_id=cluster,
        )
    )


def _apply(
    conn: Connection, intent: Intent, stamp: int, seq: int, derived: Derived | None
) -> Stored:
    if isinstance(intent, Unchanged):
        return intent.old
    assert derived is not None, "an insert or update comes with what it derives"
    if isinstance(intent, Insert):
        values = {**derived.row, "raw": intent.article.raw}  # raw is not in equality
        values.update(revision=1, first_seen_at=stamp, updated_at=stamp, change_seq=seq)
        new_id = _insert_article(conn, values, intent.article.stocks)
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
                    for k, v in row_values(old.article).items()
                    # revisions keep what a reader saw, not the upstream's topics (#15)
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
    values = {**derived.row, "raw": intent.new.raw}
    old_published = int(old.article.published.timestamp())
    old_section = section_of(old.article)
    if (
        old_published != values["published_at"]
        or old_section != values["section"]
        or old.article.stocks != intent.new.stocks
    ):
        # The article moves on the site (another day, section or stocks): a
        # tombstone for where it was lets an incremental build clean up there.
        tombstone(conn, old.article, seq, stamp, old.id)
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
        _replace_stocks(conn, old.id, intent.new.stocks)
    return Stored(old.id, intent.new, revision, values["content_hash"])


def _replace_stocks(conn: Connection, article_id: int, stocks: Sequence[StockTag]) -> None:
    conn.execute(
        delete(schema.article_stocks).where(schema.article_stocks.c.article_id == article_id)
    )
    _insert_stocks(conn, article_id, stocks)


def _stock_rows(article_id: int, stocks: Sequence[StockTag]) -> list[tuple[Any, ...]]:
    """An article's stock rows (:data:`_STOCK_COLUMNS`), one per code: a tag given twice
    is stored once."""
    unique = {s.code: s for s in stocks}
    return [(article_id, s.code, s.name, s.origin) for s in unique.values()]


def _insert_stocks(conn: Connection, article_id: int, stocks: Sequence[StockTag]) -> None:
    rows = _stock_rows(article_id, stocks)
    if rows:
        conn.execute(
            insert(schema.article_stocks), [dict(zip(_STOCK_COLUMNS, r, strict=True)) for r in rows]
        )


def forget_signatures(conn: Connection) -> None:
    """Empty the MinHash tables: :func:`reprocess_batch` then rebuilds the stories."""
    conn.execute(delete(schema.lsh_buckets))
    conn.execute(delete(schema.article_signatures))


def reprocess_batch(
    conn: Connection,
    process: Callable[[Article], Article],
    last: tuple[int, int],
    batch: int,
    *,
    reindex: bool = False,
) -> tuple[int, int, tuple[int, int]]:
    """Process again the ``batch`` articles after ``last`` (published_at, id), oldest
    first: (articles read, articles whose stocks changed, the new ``last``).  Changed
    stocks update the article in place (no revision: the upstream content did not
    change); every article gets a new change counter so the site follows, and its
    published body is cleaned again (after the cleaner changed).  The search index is
    written again for the re-tagged articles, or — ``reindex`` — for every article (a
    new word or name in the segmenter's dictionary reaches stored text only so)."""
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
        return 0, 0, last
    changed = 0
    seq = next_seq(conn)
    retag: list[tuple[int, Article]] = []
    for row in rows:
        before = row_to_article(row)
        after = replace(process(before), media=before.media)  # sections stay
        retagged = after.stocks != before.stocks
        if retagged or reindex:
            retag.append((row["id"], after))
        if retagged:
            changed += 1
            _replace_stocks(conn, row["id"], after.stocks)
            tombstone(conn, before, seq, int(time.time()), row["id"])
        conn.execute(
            update(A)
            .where(A.c.id == row["id"])
            .values(
                stocks=stocks_json(after.stocks),
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
            tombstone(conn, before, seq, int(time.time()), row["id"], cluster=was_in)
    fulltext.index(conn, retag)
    return len(rows), changed, (rows[-1]["published_at"], rows[-1]["id"])


def note_fulltext_failure(conn: Connection, source: str, upstream_ids: Sequence[str]) -> None:
    """Count one more failed full-text attempt for each of these articles."""
    conn.execute(
        update(A)
        .where(A.c.source == source, A.c.upstream_id.in_(list(upstream_ids)))
        .values(fulltext_attempts=A.c.fulltext_attempts + 1)
    )
