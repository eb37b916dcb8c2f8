"""Shared fixtures: real files, a real SQLite database on disk, the real CLI."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from finews.store import Store
from standin import HOSTS, EastmoneyStandin, real_posts
from zygote import run_finews

DATA = Path(__file__).parent / "data"
JEKYLL_REAL = DATA / "jekyll" / "real"
JEKYLL_HANDMADE = DATA / "jekyll" / "handmade"
SEED = JEKYLL_REAL / "seed-2021-12-29-NW202112292230344237.txt"
BROKEN_REAL = JEKYLL_REAL / "_posts" / "-202205262391921712.md"

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (CI installs it)",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the host's settings out of the tests."""
    for name in list(os.environ):
        if name.startswith("FINEWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'finews.db'}"


POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
"""Set by pytest-xdist (``gw0``, ``gw1``, …) when the suite runs on several processes: each
worker then gets a PostgreSQL database and a Redis index of its own, so that one worker's
``DROP SCHEMA`` or ``FLUSHDB`` never pulls the floor from under another's test."""
BACKENDS = ["sqlite", "postgresql"]
"""The stores a parametrised test runs on.  PostgreSQL and Redis come from
``scripts/services.sh`` (``.ci/run`` starts them); without them those tests are skipped
on a developer's machine and fail on CI."""


def _service(url: str, what: str) -> str:
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail(f"{what} is not running: CI starts it with scripts/services.sh")
    pytest.skip(f'{what} is not running (eval "$(scripts/services.sh)" starts it)')


def _worker_number() -> int:
    return int(XDIST_WORKER.removeprefix("gw")) if XDIST_WORKER.startswith("gw") else -1


def _worker_postgres_url(url: str, suffix: str = "") -> str:
    """This xdist worker's own database beside the given one (created on first use);
    ``suffix`` names another of its own (a store shared by a module's tests)."""
    from sqlalchemy import create_engine

    if _worker_number() < 0 and not suffix:
        return url
    base, _, name = url.rpartition("/")
    own = f"{name}_{XDIST_WORKER or 'main'}{suffix}"
    engine = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        exists = conn.exec_driver_sql(
            "SELECT 1 FROM pg_database WHERE datname = %s", (own,)
        ).first()
        if exists is None:
            conn.exec_driver_sql(f'CREATE DATABASE "{own}"')
    engine.dispose()
    return f"{base}/{own}"


def _worker_redis_url(url: str) -> str:
    """This xdist worker's own Redis index (the given one + 1 + the worker's number)."""
    if _worker_number() < 0:
        return url
    base, _, index = url.rpartition("/")
    start = int(index) if index.isdigit() else 0
    return f"{base}/{start + 1 + _worker_number()}"


def postgres_url(suffix: str = "") -> str:
    """A PostgreSQL database emptied for this test (its public schema dropped); with a
    ``suffix``, another database of this worker's, which no other test empties."""
    from sqlalchemy import create_engine

    url = _worker_postgres_url(_service(POSTGRES_URL, "PostgreSQL"), suffix)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    return url


def redis_url() -> str:
    """Redis, emptied for this test."""
    import redis

    url = _worker_redis_url(_service(REDIS_URL, "Redis"))
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


def backend_url(backend: str, tmp_path: Path) -> str:
    return postgres_url() if backend == "postgresql" else f"sqlite:///{tmp_path / 'finews.db'}"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The real ``finews`` command in a process of its own, as a user runs it (forked from
    one that has imported the package already: ``tests/zygote.py``)."""
    full_env = {**os.environ, **(env or {})}
    forked = run_finews(list(args), full_env, timeout)
    if forked is not None:
        return forked
    return subprocess.run(
        [sys.executable, "-m", "finews", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )


@pytest.fixture
def httpserver() -> Iterator[Any]:
    """A real threaded HTTP server on 127.0.0.1 (pytest-httpserver), one per test."""
    from pytest_httpserver import HTTPServer

    # werkzeug's access lines: a request still answered after its test ended was logged into
    # whatever the next test captured as a command's stderr (test_user_mistakes)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def upstream(httpserver: Any) -> EastmoneyStandin:
    """The Eastmoney stand-in on 127.0.0.1 with real 7×24 items and real posts as columns."""
    import re

    standin = EastmoneyStandin()
    posts = real_posts()
    standin.add_column_posts(344, posts[:40])
    standin.add_column_posts(350, posts[30:60])  # 10 items appear in two columns
    standin.add_fast_articles()
    httpserver.expect_request(re.compile(".*")).respond_with_handler(standin)
    return standin


@pytest.fixture
def upstream_env(httpserver: Any, upstream: EastmoneyStandin) -> dict[str, str]:
    """Settings that send every Eastmoney host to the stand-in, with politeness delays off."""
    base = httpserver.url_for("").rstrip("/")
    return {
        "FINEWS_UPSTREAM_OVERRIDE": ",".join(f"{h}={base}" for h in HOSTS),
        "FINEWS_HTTP_HOST_SPACING": "0",
        "FINEWS_HTTP_BACKOFF": "0.01",
        "FINEWS_HTTP_TIMEOUT": "2",
        "FINEWS_EASTMONEY_NEWS_COLUMNS": "344,350",
        "FINEWS_SOURCES_ENABLED": "eastmoney.fast,eastmoney.column",
    }


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield b
        b.close()
