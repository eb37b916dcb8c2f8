"""The worker pool of a full build on several cores, and the workers' snapshots.

The build plans every page first (the writer defers them); then one pool, forked once,
renders every article page and the planned pages.  Each worker reads the rows it
renders through its own read transaction, after checking that it shows what the
build's snapshot shows (the store's change counters and article count: every write
raises a counter); a worker whose transaction does not (something was written since
the build began) gets the rows from the build instead.  So every page shows the
snapshot.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from sqlalchemy import Connection

from finews.site.context import Build, log
from finews.site.options import SiteOptions
from finews.site.pages.articles import render_one
from finews.site.writer import Render
from finews.store import sitequeries as q

PARALLEL_FROM = 3000
"""Below this many articles a full build renders in one process (forking costs more)."""
MAX_WORKERS = 4
BATCH = 400

# what the workers inherit (set in the parent just before the fork)
_BUILD: Build | None = None
_JOBS: list[tuple[str, Render]] = []
_MARK: tuple[int, int, int] = (0, 0, 0)
_SNAPSHOT: tuple[Connection | None] | None = None


def workers_for(options: SiteOptions, conn: Connection) -> int:
    """How many processes render a full build (1: this one only)."""
    workers = options.workers or min(os.cpu_count() or 1, MAX_WORKERS)
    if options.workers == 0 and q.article_count(conn) < PARALLEL_FROM:
        return 1
    return workers


def _worker_snapshot() -> Connection | None:
    """This worker's own read transaction on the store, opened on first use and kept
    for the worker's life, if it shows what the build's snapshot shows; else None
    (something was written in between: the parent then sends the rows itself)."""
    global _SNAPSHOT
    b = _BUILD
    assert b is not None, "worker started without a build"
    if _SNAPSHOT is None:
        # a new engine: the inherited one's connections are the parent's
        conn: Connection | None = b.store.reopened().snapshot()
        assert conn is not None
        if q.snapshot_mark(conn) != _MARK:
            conn.close()
            conn = None
        _SNAPSHOT = (conn,)
    return _SNAPSHOT[0]


def _feed_ids(b: Build, start: int, end: int) -> list[int]:
    """The articles the feeds among planned pages ``start:end`` show."""
    needs = b.writer.feed_needs
    return sorted({i for job in range(start, end) for i in needs.get(job, ())})


def _render_job_slice(
    bounds: tuple[int, int], feed_rows: list[tuple[Any, ...]] | None
) -> list[bool] | None:
    """Render and write planned pages ``bounds`` of the job list (in a worker).
    ``feed_rows`` are the rows of the articles their feeds show, or None to read them
    here (None back: this worker's snapshot cannot, send them)."""
    b = _BUILD
    assert b is not None, "worker started without a build"
    start, end = bounds
    if feed_rows is None:
        conn = _worker_snapshot()
        if conn is None:
            return None
        feed_rows = list(q.article_rows_by_id(conn, _feed_ids(b, start, end)))
    b.feed_articles = {p.id: p for p in map(q.article_from_row, feed_rows)}
    return [b.writer.write(path, render) for path, render in _JOBS[start:end]]


def _render_article_batch(batch: list[tuple[Any, ...]]) -> list[tuple[str, str, bool]]:
    b = _BUILD
    assert b is not None, "worker started without a build"
    return [render_one(b, q.article_from_row(row)) for row in batch]


def _render_article_range(bounds: tuple[int, int]) -> list[tuple[str, str, bool]] | None:
    """The article pages of ids ``bounds`` (inclusive), read by this worker; None when its
    snapshot is not the build's (the parent then sends the rows)."""
    conn = _worker_snapshot()
    if conn is None:
        return None
    return _render_article_batch(q.article_rows_between(conn, *bounds))


def render_parallel(b: Build, conn: Connection, article_ids: list[int]) -> None:
    """Render every article page (``article_ids``) and the planned pages in worker
    processes.  Into a folder readers already see, the listings start once every
    article page is written (a listing never links to a page that does not exist yet);
    into a staging folder, which nobody sees before it is complete, they follow
    without waiting."""
    global _BUILD, _JOBS, _MARK, _SNAPSHOT
    jobs = b.writer.deferred or []
    b.writer.deferred = None
    workers = workers_for(b.o, conn)
    _BUILD, _JOBS, _MARK, _SNAPSHOT = b, jobs, q.snapshot_mark(conn), None
    # Objects the workers inherit are moved out of the garbage collector's reach:
    # otherwise each worker's collections walk (and copy, page by page) the parent's
    # whole heap.
    gc.freeze()
    try:
        b.report.articles = _run_pool(b, conn, jobs, article_ids, workers)
    finally:
        gc.unfreeze()
        _BUILD, _JOBS = None, []


def _run_pool(
    b: Build,
    conn: Connection,
    jobs: list[tuple[str, Render]],
    ids: list[int],
    workers: int,
) -> int:
    context = multiprocessing.get_context("fork")
    ranges = [(ids[i], ids[min(i + BATCH, len(ids)) - 1]) for i in range(0, len(ids), BATCH)]
    step = max(1, len(jobs) // (workers * 4))
    slices = [(start, min(len(jobs), start + step)) for start in range(0, len(jobs), step)]
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_worker_signals
    ) as pool:
        try:
            sent_rows = _render_all(b, conn, pool, ranges, slices)
        except BaseException:
            # stopped (Ctrl-C, SIGTERM) or failed: no batch starts any more, and the ones
            # under way end before the caller removes the folder they write into
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    if sent_rows:
        log.info(
            "build: the store changed while the workers started; %d rows were sent "
            "to them from the build's snapshot",
            sent_rows,
        )
    return len(ids)


def _worker_signals() -> None:
    """A worker leaves stopping to the build: Ctrl-C (sent to the whole terminal's process
    group) is the parent's to handle, and the parent's SIGTERM handler (a
    KeyboardInterrupt, inherited by the fork) would end a worker with a traceback."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _render_all(
    b: Build,
    conn: Connection,
    pool: ProcessPoolExecutor,
    ranges: list[tuple[int, int]],
    slices: list[tuple[int, int]],
) -> int:
    """Every article page and planned page through the pool; the rows sent to workers."""
    sent_rows = 0
    report = b.report
    articles = [(pool.submit(_render_article_range, r), r) for r in ranges]
    listings: list[tuple[Future[list[bool] | None], tuple[int, int]]] = []
    if b.writer.staged:  # staged: nobody sees the pages before the end
        listings = [(pool.submit(_render_job_slice, s, None), s) for s in slices]
    for future, (first, last) in articles:
        result = future.result()
        if result is None:  # that worker's transaction is not the snapshot
            rows = q.article_rows_between(conn, first, last)
            sent_rows += len(rows)
            result = pool.submit(_render_article_batch, rows).result()
        b.writer.collect(result)
    if not b.writer.staged:  # in place: listings after the articles
        listings = [(pool.submit(_render_job_slice, s, None), s) for s in slices]
    for listing, (start, end) in listings:
        written = listing.result()
        if written is None:
            rows = list(q.article_rows_by_id(conn, _feed_ids(b, start, end)))
            sent_rows += len(rows)
            written = pool.submit(_render_job_slice, (start, end), rows).result()
            assert written is not None
        report.rendered += len(written)
        report.written += sum(written)
    return sent_rows
