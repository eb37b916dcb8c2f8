"""The helper process that derives a big batch's search documents, signatures and rows while
the writer stores it (#10's write speed, :mod:`finews.store.derivehelper`): a store written
with it holds exactly what one written without it holds; a helper that dies loses nothing;
and it outlives neither its work nor its parent.

Real flashes: the 214 of tests/data/flash/briefing_2026-06-16.jsonl and story_cases.jsonl
(copied from the shared corpus with their upstream payloads), through the real adapters and
tagger, as `finews fetch` stores them."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import postgres_url
from daydata import flash_article
from finews.model import Article
from finews.process.pipeline import Processor
from finews.store import Store, derivehelper

FLASHES = Path(__file__).parent / "data" / "flash"

pytestmark = pytest.mark.skipif(
    derivehelper._cores() < 2, reason="the helper is only used with a second core"
)


def _flashes() -> list[Article]:
    process = Processor.default()
    found = [
        process(flash_article(json.loads(line)))
        for name in ("briefing_2026-06-16.jsonl", "story_cases.jsonl")
        for line in (FLASHES / name).read_text(encoding="utf-8").splitlines()
    ]
    unique = {a.key: a for a in found}
    return sorted(unique.values(), key=lambda a: (a.published, a.key))


@pytest.fixture(scope="module")
def flashes() -> list[Article]:
    articles = _flashes()
    assert len(articles) >= derivehelper.MIN_ARTICLES
    return articles


def _contents(store: Store) -> dict[str, Any]:
    """Everything a write derives, by article key: the row as published, its story (named
    by its first report) and its search index row."""
    search = (
        "s.document::text FROM articles a JOIN articles f ON f.id = a.cluster_id"
        " JOIN article_search s ON s.article_id = a.id"
        if store.dialect == "postgresql"
        else "s.title, s.body, s.tags, s.grams FROM articles a"
        " JOIN articles f ON f.id = a.cluster_id JOIN article_fts s ON s.rowid = a.id"
    )
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT a.source, a.upstream_id, a.title, a.body_clean, a.content_hash, a.stocks,"
            " a.section, a.published_at, a.revision, f.source, f.upstream_id, " + search
        ).all()
        signatures = conn.exec_driver_sql(
            "SELECT a.source, a.upstream_id, m.signature, m.facts"
            " FROM articles a JOIN article_signatures m ON m.article_id = a.id"
        ).all()
    return {
        "rows": {(r[0], r[1]): tuple(r[2:]) for r in rows},
        "signatures": {(r[0], r[1]): (bytes(r[2]), r[3]) for r in signatures},
    }


def _written_alone(store: Store, articles: list[Article]) -> dict[str, Any]:
    """The store's contents once written in batches too small for the helper: the writer
    derives all."""
    small = derivehelper.MIN_ARTICLES // 4
    for start in range(0, len(articles), small):
        store.save(articles[start : start + small])
    return _contents(store)


def _reference(tmp_path: Path, articles: list[Article]) -> dict[str, Any]:
    with Store.open(f"sqlite:///{tmp_path}/reference.db") as store:
        return _written_alone(store, articles)


def test_a_big_batch_with_the_helper_stores_what_the_writer_alone_stores(
    tmp_path: Path, flashes: list[Article]
) -> None:
    assert derivehelper.warm_up(), "a helper process starts and loads its dictionary"
    before = derivehelper.helped()
    with Store.open(f"sqlite:///{tmp_path}/helped.db") as store:
        report = store.save(flashes)
        helped = _contents(store)
    assert report.counts["new"] == len(flashes)
    assert derivehelper.helped() > before, "the helper derived some of the batch"
    reference = _reference(tmp_path, flashes)
    assert len(reference["rows"]) == len(flashes)
    assert helped == reference
    # stories were judged (some flashes of the story cases are one story)
    stories = {row[8:10] for row in helped["rows"].values()}
    assert len(stories) < len(flashes)


def test_the_same_on_postgresql(flashes: list[Article]) -> None:
    assert derivehelper.warm_up()
    before = derivehelper.helped()
    with Store.open(postgres_url()) as store:
        store.save(flashes)
        helped = _contents(store)
    assert derivehelper.helped() > before
    with Store.open(postgres_url()) as store:  # emptied: the same database again
        reference = _written_alone(store, flashes)
    assert len(reference["rows"]) == len(flashes)
    assert helped == reference


def test_a_helper_that_dies_before_or_during_a_write_loses_nothing(
    tmp_path: Path, flashes: list[Article]
) -> None:
    reference = _reference(tmp_path, flashes)

    # killed before the write: the writer finds it gone and derives everything itself
    assert derivehelper.warm_up()
    helper = derivehelper._the_helper()
    assert helper is not None
    os.kill(helper.process.pid, signal.SIGKILL)
    helper.process.wait(timeout=10)
    with Store.open(f"sqlite:///{tmp_path}/before.db") as store:
        store.save(flashes)
        assert _contents(store) == reference

    # killed while the write runs: once it has answered a first chunk (more are given to
    # it four at a time, so some are in flight)
    assert derivehelper.warm_up()
    helper = derivehelper._the_helper()
    assert helper is not None
    answered = derivehelper.helped()

    def kill_after_first_answer() -> None:
        deadline = time.monotonic() + 60
        while derivehelper.helped() == answered and time.monotonic() < deadline:
            time.sleep(0.001)
        os.kill(helper.process.pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_after_first_answer)
    with Store.open(f"sqlite:///{tmp_path}/during.db") as store:
        killer.start()
        store.save(flashes)
        killer.join()
        assert _contents(store) == reference
    assert helper.process.wait(timeout=10) == -signal.SIGKILL
    # the next big write starts a new helper
    assert derivehelper.warm_up()
    assert derivehelper._the_helper() is not helper


def test_a_silent_helper_is_stopped_and_the_writer_derives_the_rest(
    tmp_path: Path, flashes: list[Article], monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = _reference(tmp_path, flashes)
    monkeypatch.setattr(derivehelper, "PATIENCE", 1.0)
    assert derivehelper.warm_up()
    helper = derivehelper._the_helper()
    assert helper is not None
    os.kill(helper.process.pid, signal.SIGSTOP)  # alive, never answering
    try:
        with Store.open(f"sqlite:///{tmp_path}/silent.db") as store:
            store.save(flashes)
            assert _contents(store) == reference
        assert helper.process.wait(timeout=10) == -signal.SIGKILL
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(helper.process.pid, signal.SIGKILL)


def test_two_threads_writing_big_batches_share_the_helper(
    tmp_path: Path, flashes: list[Article], caplog: pytest.LogCaptureFixture
) -> None:
    """Each batch gets its own answers: neither waits for an answer the other took (before,
    one of them hung; now it would wait PATIENCE and say so)."""
    reference = _reference(tmp_path, flashes)
    assert derivehelper.warm_up()
    before = derivehelper.helped()
    found: dict[str, Any] = {}

    def write(name: str) -> None:
        with Store.open(f"sqlite:///{tmp_path}/{name}.db") as store:
            store.save(flashes)
            found[name] = _contents(store)

    threads = [threading.Thread(target=write, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive(), "a writer hung"
    assert found["one"] == reference
    assert found["two"] == reference
    assert derivehelper.helped() > before
    assert "did not answer" not in caplog.text


_SCRIPT = """
import json, os, signal, sys, time
sys.path.insert(0, {tests!r})
from test_derive_helper import _flashes
from finews.store import Store, derivehelper
derivehelper.IDLE_SECONDS = {idle!r}
articles = _flashes()
assert derivehelper.warm_up()
helper = derivehelper._the_helper()
print(helper.process.pid, flush=True)
with Store.open({url!r}) as store:
    store.save(articles)
print("saved", flush=True)
{then}
"""


def _gone(pid: int) -> bool:
    """Whether a process has ended (a zombie not yet reaped counts as ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


def _wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.1)
    return _gone(pid)


def _script(tmp_path: Path, idle: float, then: str) -> subprocess.Popen[str]:
    code = _SCRIPT.format(
        tests=str(Path(__file__).parent),
        idle=idle,
        url=f"sqlite:///{tmp_path}/script.db",
        then=then,
    )
    return subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="reads /proc")
def test_the_helper_leaves_with_its_parent(tmp_path: Path) -> None:
    # a script without a __main__ guard: the helper is a plain subprocess, nothing of the
    # caller's script runs again in it; the parent then dies without any clean-up
    with _script(tmp_path, 600.0, "os.kill(os.getpid(), signal.SIGKILL)") as script:
        assert script.stdout is not None
        helper_pid = int(script.stdout.readline())
        assert script.stdout.readline().strip() == "saved"
        assert script.wait(timeout=60) == -signal.SIGKILL
    assert _wait_gone(helper_pid, 10), "the helper ended when its input closed"


def test_an_idle_helper_leaves_by_itself_and_ignores_ctrl_c(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(derivehelper, "IDLE_SECONDS", 2.0)
    helper = derivehelper._Helper()
    try:
        assert helper.ready.wait(30) and helper.alive
        # Ctrl-C in a terminal reaches the whole process group: the helper stays
        os.kill(helper.process.pid, signal.SIGINT)
        time.sleep(0.5)
        assert helper.process.poll() is None
        # then, two seconds without work: it leaves, cleanly (not aborted at shutdown)
        assert helper.process.wait(timeout=20) == 0
    finally:
        helper.close()
