"""The suite's forked ``finews`` processes (``tests/zygote.py``) answer as fresh ones do.

Each command below runs twice, once in a new interpreter (``python -m finews``) and once
forked from the process that has imported the package: the exit status, standard output and
standard error must be the same, for answers that depend on the environment, the working
folder, the arguments and a failure's exit status.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
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


def test_a_run_cut_short_leaves_the_next_one_its_own_answer(tmp_path: Path) -> None:
    """A run that times out, and one interrupted from outside (pytest-timeout raises in
    the waiting test), take their child with them: the next run gets its own exit status
    and output, not the late answer of the one before."""
    env = {**os.environ, "FINEWS_DATA_DIR": str(tmp_path / "data")}
    db = str(tmp_path / "finews.db")
    made = run_finews(["--db", db, "import", "jekyll", str(SEED.parent)], env, 120)
    assert made is not None and made.returncode in {0, 3}, made  # 3: one broken post
    serve = ["--db", db, "serve", "--port", "0"]
    with pytest.raises(subprocess.TimeoutExpired):
        run_finews([*serve, "--site", str(tmp_path / "a")], env, 4)

    class Interrupted(Exception):
        pass

    def interrupt(signum: int, frame: object) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.alarm(4)
    try:
        with pytest.raises(Interrupted):
            run_finews([*serve, "--site", str(tmp_path / "b")], env, 60)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    after = run_finews(["nonsense"], env, 60)
    assert after is not None
    assert (after.returncode, after.stdout, after.stderr) == (
        2,
        "",
        "error: No such command 'nonsense'. (see `finews --help`)\n",
    )


def test_what_an_interpreter_reads_as_it_starts_is_read_again_or_run_fresh(
    tmp_path: Path,
) -> None:
    """TZ is read again by each child (a log line's time); a colour forced for Rich, read
    as the package is imported, sends the run to a fresh interpreter."""
    seed = str(SEED.parent)
    env = {**os.environ, "FINEWS_DATA_DIR": str(tmp_path / "data"), "TZ": "Asia/Shanghai"}
    forked = run_finews(["--verbose", "import", "jekyll", seed], env, 120)
    assert forked is not None and forked.returncode in {0, 3}, forked  # 3: one broken post
    stamps = re.findall(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([+-]\d\d:\d\d) ", forked.stderr, re.M)
    assert stamps and set(stamps) == {"+08:00"}
    coloured = {**env, "FORCE_COLOR": "1"}
    assert run_finews(["nonsense"], coloured, 60) is None
    fresh = _fresh(["nonsense"], coloured)
    assert "\x1b[" in fresh.stderr  # what a forked child would not have written


_DYING_WORKER = """
import os, sys, threading
sys.path.insert(0, sys.argv[1])
from zygote import _ZYGOTE, run_finews
_ZYGOTE._started()
print(_ZYGOTE.process.pid, flush=True)
threading.Timer(4, lambda: os._exit(1)).start()  # dies without its exit handlers
run_finews(sys.argv[2:], dict(os.environ), 60)
"""


def test_a_run_does_not_outlive_a_test_worker_that_dies(tmp_path: Path) -> None:
    """A worker that dies mid-run (a crash, SIGKILL, ``os._exit``) runs no exit handler:
    the forking process sees its channel close, kills the run's child and ends."""
    db = tmp_path / "finews.db"
    made = _fresh(["--db", str(db), "import", "jekyll", str(SEED.parent)], dict(os.environ))
    assert made.returncode in {0, 3}, made
    site = tmp_path / "dying-worker-site"
    serve = ["--db", str(db), "serve", "--port", "0", "--site", str(site)]
    worker = subprocess.run(
        [sys.executable, "-c", _DYING_WORKER, str(Path(__file__).parent), *serve],
        capture_output=True,
        text=True,
        timeout=30,
    )
    forking = int(worker.stdout.split()[0])

    def left() -> list[int]:
        pids = []
        for proc in Path("/proc").iterdir():
            try:
                command = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if proc.name.isdigit() and str(site).encode() in command:
                pids.append(int(proc.name))
        return pids

    deadline = time.monotonic() + 15
    while (left() or Path(f"/proc/{forking}").exists()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert left() == [] and not Path(f"/proc/{forking}").exists()
