"""The suite's forked ``finews`` processes (``tests/zygote.py``) answer as fresh ones do.

Each command below runs twice, once in a new interpreter (``python -m finews``) and once
forked from the process that has imported the package: the exit status, standard output and
standard error must be the same, for answers that depend on the environment, the working
folder, the arguments and a failure's exit status.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SEED
from zygote import run_finews


def _fresh(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "finews", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["stats", "--json"],
        ["search", "--limt", "3", "茅台"],
        ["--db", "missing/finews.db", "stats"],
        ["config", "--json"],
        ["import", "jekyll", str(SEED.parent), "--json"],
        ["nonsense"],
    ],
    ids=["help", "stats", "mistyped-option", "missing-db", "config", "import", "no-command"],
)
def test_a_forked_run_answers_as_a_fresh_one(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = []
    monkeypatch.chdir(tmp_path)  # a relative --db is read against the working folder
    for how in ("fresh", "forked"):
        env = {
            **os.environ,
            "FINEWS_DATA_DIR": str(tmp_path / f"data-{how}"),
            "FINEWS_HTTP_TIMEOUT": "7",
            "FINEWS_HTTP_TIMOUT": "1",  # misspelt: a warning on stderr
        }
        forked = run_finews(args, env, 120) if how == "forked" else _fresh(args, env)
        assert forked is not None
        answers.append(
            (
                forked.returncode,
                forked.stdout.replace(f"data-{how}", "data-"),
                forked.stderr.replace(f"data-{how}", "data-"),
            )
        )
    assert answers[0] == answers[1]
    if args[0] == "config":  # the child's environment is the one it was given
        assert '"timeout": 7.0' in answers[0][1] and "FINEWS_HTTP_TIMOUT" in answers[0][2]
