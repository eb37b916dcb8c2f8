"""`finews search` answered by a running `finews serve` of the same database (issue #11:
a new process ≤ 0.4 s; finews.web.rendezvous) — the same answer as searching in the
process, and never a wrong one: a stale announcement or a foreign server is ignored."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import run_cli
from finews import __version__
from finews.process.pipeline import Processor
from finews.store import Store
from finews.web import rendezvous
from sitedata import populate
from test_search import cls_flashes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def cache_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder for this file's tests (announcements are per database; the query
    dictionary that a first search writes there is then written once)."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def cache(cache_folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The cache folder, for this process and the commands it starts."""
    monkeypatch.setenv("FINEWS_CACHE", str(cache_folder))
    return cache_folder


@pytest.fixture
def served(tmp_path: Path, store: Store, db_url: str, cache: Path) -> Iterator[dict[str, Any]]:
    """A filled store and `finews serve` on it, as a user starts it."""
    populate(store)
    store.save([Processor.default()(a) for a in cls_flashes()])
    site = tmp_path / "site"
    site.mkdir()
    # hand-written: serve only checks that a built site is there; no page of it is read
    (site / "index.html").write_text("<!doctype html><title>site</title>\n", encoding="utf-8")
    env = {**os.environ, "FINEWS_DB": db_url, "FINEWS_SITE_OUT": str(site)}
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "finews", "serve", "--port", str(free_port())],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    announcement = cache / "servers" / rendezvous.store_key(db_url) / f"{process.pid}.json"
    deadline = time.monotonic() + 30
    while not announcement.exists():
        assert process.poll() is None, (tmp_path / "serve.log").read_text()
        assert time.monotonic() < deadline, "finews serve did not announce itself"
        time.sleep(0.1)
    # its first search waits for the segmenter (warmed in the background): done here, so
    # that the searches of the tests are answered well within the command's 5 s
    record = json.loads(announcement.read_text(encoding="utf-8"))
    warm = httpx.get(
        f"http://127.0.0.1:{record['port']}/api/search", params={"q": "银行"}, timeout=60
    )
    assert warm.status_code == 200 and warm.headers[rendezvous.HEADER] == record["token"]
    try:
        yield {"env": {"FINEWS_DB": db_url}, "process": process, "announcement": announcement}
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(15)
        log.close()


QUERIES = [
    ["西安银行", "抗疫"],  # all the words
    ["央行开展MLF操作"],  # relaxed to most of the words, or none found: the same both ways
    ["银行", "--recent", "--limit", "3"],
    ["银行", "--important"],
    ["银行", "--offset", "1", "--limit", "2"],
]


@pytest.mark.parametrize("args", QUERIES)
def test_a_running_server_answers_as_the_process_would(
    served: dict[str, Any], args: list[str]
) -> None:
    env = served["env"]
    remote = run_cli("-v", "search", *args, "--json", env=env)
    local = run_cli("-v", "search", *args, "--json", "--local", env=env)
    assert remote.returncode == 0 and local.returncode == 0, remote.stderr + local.stderr
    assert "answered by the finews server" in remote.stderr
    assert "answered by the finews server" not in local.stderr
    assert json.loads(remote.stdout) == json.loads(local.stdout)
    assert remote.stdout == local.stdout  # byte for byte, key order included
    plain_remote = run_cli("search", *args, env=env)
    plain_local = run_cli("search", *args, "--local", env=env)
    assert plain_remote.stdout == plain_local.stdout
    assert plain_remote.stderr == plain_local.stderr


def test_what_the_server_refuses_is_said_as_in_the_process(served: dict[str, Any]) -> None:
    bad = run_cli("search", "银行", "--since", "yesterday-ish", env=served["env"])
    assert bad.returncode == 2 and "not a time" in bad.stderr, bad.stderr
    many = run_cli("-v", "search", "银行", "--limit", "300", "--json", env=served["env"])
    assert many.returncode == 0 and "answered by" not in many.stderr  # beyond the API's 100


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_server_takes_its_announcement_away(
    served: dict[str, Any], stop: signal.Signals
) -> None:
    process, announcement = served["process"], served["announcement"]
    process.send_signal(stop)
    assert process.wait(15) == 0  # how a server is stopped: not an error
    assert not announcement.exists()
    after = run_cli("-v", "search", "西安银行", "--json", env=served["env"])
    assert after.returncode == 0 and "answered by" not in after.stderr
    assert json.loads(after.stdout)["results"], after.stderr


def test_a_stale_or_foreign_announcement_is_ignored(
    store: Store, db_url: str, cache: Path, httpserver: Any
) -> None:
    populate(store)
    folder = cache / "servers" / rendezvous.store_key(db_url)
    folder.mkdir(parents=True, exist_ok=True)
    announcement = folder / "1.json"
    env = {"FINEWS_DB": db_url}
    expected = run_cli("search", "西安银行", "--json", "--local", env=env)
    assert json.loads(expected.stdout)["results"]

    def announce(port: int, **record: Any) -> None:
        fields = {"host": "127.0.0.1", "port": port, "version": __version__, "token": "t0k3n"}
        announcement.write_text(json.dumps({**fields, **record}), encoding="utf-8")

    def searched_here() -> None:
        result = run_cli("-v", "search", "西安银行", "--json", env=env)
        assert result.returncode == 0, result.stderr
        assert "answered by" not in result.stderr and "Traceback" not in result.stderr
        assert result.stdout == expected.stdout

    announce(free_port())  # nothing listens there any more (a server killed)
    searched_here()
    # another program took the port: it answers, but cannot name the token
    empty = {"query": "西安银行", "total": 0, "offset": 0, "relaxed": False, "results": []}
    httpserver.expect_request("/api/search").respond_with_json(empty)
    announce(httpserver.port)
    searched_here()
    httpserver.clear()
    httpserver.expect_request("/api/search").respond_with_json(
        empty, headers={rendezvous.HEADER: "not-the-token"}
    )
    searched_here()
    assert len(httpserver.log) == 1  # it was asked, and its answer set aside
    # the right token, but a finews of another version: not asked at all
    httpserver.clear()
    httpserver.expect_request("/api/search").respond_with_json(
        empty, headers={rendezvous.HEADER: "t0k3n"}
    )
    announce(httpserver.port, version="0.0.1")
    searched_here()
    assert not httpserver.log
    # announcements that make no sense are no server either
    for nonsense in ("{not json", '{"host": "a b", "port": 80, "token": "x"}', "[]"):
        announcement.write_text(nonsense, encoding="utf-8")
        searched_here()
    announce(70000)  # no such port
    searched_here()
    # a query that is not valid UTF-8 (a mistyped argument) with an announcement there
    odd = run_cli("search", "\udcff", env=env)
    assert odd.returncode == 0 and "Traceback" not in odd.stderr, odd.stderr


def test_an_announcement_answered_by_this_server_is_taken_over_a_stale_one(
    served: dict[str, Any],
) -> None:
    """Each server has its own announcement (two servers of one database, or one killed
    and started again): a dead one tried first does not hide the live one."""
    stale = served["announcement"].parent / "1.json"
    stale.write_text(
        json.dumps(
            {"host": "127.0.0.1", "port": free_port(), "version": __version__, "token": "x"}
        ),
        encoding="utf-8",
    )
    later = time.time() + 60
    os.utime(stale, (later, later))  # the newest: tried first
    asked = run_cli("-v", "search", "西安银行", "--json", env=served["env"])
    assert "answered by" in asked.stderr, asked.stderr
    # a server of another version is not asked: the process searches itself
    live = served["announcement"]
    record = json.loads(live.read_text(encoding="utf-8"))
    live.write_text(json.dumps({**record, "version": "0.0.1"}), encoding="utf-8")
    local = run_cli("-v", "search", "西安银行", "--json", env=served["env"])
    assert local.returncode == 0 and "answered by" not in local.stderr
    assert local.stdout == asked.stdout


def test_the_database_key_takes_a_relative_path_from_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    key = rendezvous.store_key("sqlite:///finews.db")
    assert key == rendezvous.store_key(f"sqlite:///{tmp_path / 'finews.db'}")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert rendezvous.store_key("sqlite:///finews.db") != key


def test_finews_runs_web_process_announces_itself_too(
    tmp_path: Path, store: Store, db_url: str, cache: Path
) -> None:
    """`finews run` serves from a child process (finews.web.process): it is asked alike."""
    from finews.config import load_settings
    from finews.web.app import ServeOptions
    from finews.web.process import WebProcess

    populate(store)
    site = tmp_path / "site"
    site.mkdir()
    settings = load_settings(env={"FINEWS_DB": db_url})
    web = WebProcess(ServeOptions.from_settings(settings, site), "127.0.0.1", 0)
    folder = cache / "servers" / rendezvous.store_key(db_url)
    announcement = folder / f"{web.process.pid}.json"
    try:
        assert json.loads(announcement.read_text(encoding="utf-8"))["port"] == web.port
        asked = run_cli("-v", "search", "西安银行", "--json", env={"FINEWS_DB": db_url})
        assert asked.returncode == 0 and f"127.0.0.1:{web.port}" in asked.stderr, asked.stderr
        assert json.loads(asked.stdout)["results"][0]["title"].startswith("打出金融科技")
        # a service manager stops every process of the service with SIGTERM
        os.kill(web.process.pid, signal.SIGTERM)
        web.process.join(15)
        assert web.process.exitcode == 0
        assert not announcement.exists()
    finally:
        web.stop()
