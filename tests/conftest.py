"""Shared fixtures: real files, a real SQLite database on disk, the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from finews.store import Store

DATA = Path(__file__).parent / "data"
JEKYLL_REAL = DATA / "jekyll" / "real"
JEKYLL_HANDMADE = DATA / "jekyll" / "handmade"
SEED = JEKYLL_REAL / "seed-2021-12-29-NW202112292230344237.txt"
BROKEN_REAL = JEKYLL_REAL / "_posts" / "-202205262391921712.md"


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


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The real ``finews`` command in a subprocess, as a user runs it."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "finews", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )
