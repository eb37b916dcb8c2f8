"""Every command × every class of user mistake: one ``error:`` line, the documented exit
status, no traceback, the store unchanged (issue #13).

The commands are not listed here: they are walked from the Typer app, so a new command is
walked too (and fails here until its required arguments have a sample below).  The cases
run in this process through :func:`finews.cli.run_cli`, the function the console entry
point calls: an exception escaping it is exactly a traceback the user would see, so the
walk records it as one.  A few cases run the real ``finews`` in a subprocess as well, with a
real closed pipe, to prove the entry point adds nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
import typer

from conftest import JEKYLL_HANDMADE, JEKYLL_REAL, SEED, run_cli
from finews.cli import EXIT_FATAL, EXIT_OK, EXIT_USAGE, app
from finews.cli import run_cli as finews_in_process
from finews.config import load_settings
from finews.jekyll.importer import import_jekyll
from finews.store import Store, feedlist

LONG_RUNNING = {"run", "serve", "demo", "worker", "scheduler", "mcp"}
"""Commands that do not return when they work: walked only with input that must stop them."""
NO_STORE = {"config", "demo"}
"""Commands that never open the database given (demo makes its own)."""
READ_ONLY = {
    "build", "check", "export jekyll", "export json", "feeds export", "feeds list", "search",
    "serve", "sources", "stats", "stocks", "stories", "calendar", "mcp", "briefing",
    "subscribers test",
}  # fmt: skip
"""Commands that only read the store: they refuse a database that does not exist."""


@dataclass
class Outcome:
    status: int | None
    stdout: str
    stderr: str
    traceback: str = ""


class _ClosedPipe(io.StringIO):
    """Standard output whose reader went away (``| head`` after its lines): writes fail
    as they do on a real pipe, and its descriptor is a real pipe with no reader."""

    def __init__(self) -> None:
        super().__init__()
        read_end, self._fd = os.pipe()
        os.close(read_end)

    def write(self, _text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return False

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)
        super().close()


def invoke(args: list[str], env: dict[str, str], *, closed_stdout: bool = False) -> Outcome:
    """``finews ARGS`` in this process, as the console entry point runs it."""
    out: io.StringIO = _ClosedPipe() if closed_stdout else io.StringIO()
    err = io.StringIO()
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status: int | None = finews_in_process(args)
                trace = ""
            except BaseException as exc:  # what would reach the user
                import traceback

                status, trace = None, "".join(traceback.format_exception(exc))
    finally:
        os.environ.clear()
        os.environ.update(saved)
        if closed_stdout:
            out.close()
    return Outcome(status, "" if closed_stdout else out.getvalue(), err.getvalue(), trace)


# -- the commands, walked from the app ---------------------------------------------------


def walk_commands() -> list[tuple[list[str], typer.main.TyperCommand]]:
    root = typer.main.get_command(app)
    found: list[tuple[list[str], typer.main.TyperCommand]] = []

    def visit(command: object, path: list[str]) -> None:
        sub = getattr(command, "commands", None)
        if sub:
            for name, child in sorted(sub.items()):
                visit(child, [*path, name])
        else:
            found.append((path, command))  # type: ignore[arg-type]

    visit(root, [])
    return found


@dataclass
class World:
    """Files the cases point at; built once per module."""

    root: Path
    good_db: Path
    samples: dict[str, list[str]] = field(default_factory=dict)
    bad_dbs: dict[str, str] = field(default_factory=dict)
    bad_settings: dict[str, dict[str, str]] = field(default_factory=dict)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "absent"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("mistakes")
    good = root / "good.db"
    with Store.open(f"sqlite:///{good}") as store:
        import_jekyll(store, [SEED])
        feedlist.add(store, "https://example.org/feed.xml", "example")
    with sqlite3.connect(good) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    w = World(root, good)

    opml = root / "subs.opml"
    opml.write_text(  # hand-made: one feed
        '<opml version="2.0"><body><outline xmlUrl="https://example.org/a.xml"/></body></opml>',
        encoding="utf-8",
    )
    w.samples = {  # a valid value for each required argument, by parameter name
        "paths": [str(SEED)],
        "out_file": ["-"],
        "out_dir": [str(root / "jekyll-out")],
        "query": ["银行"],
        "code": ["600519"],
        "url": ["https://example.org/other.xml"],
        "feed": ["feed.1"],
        "opml": [str(opml)],
        "name": ["sample"],  # the subscriber of the world's settings file (below)
    }
    (root / "config.toml").write_text(  # hand-made: one subscriber, for `subscribers test`
        '[subscribers.sample]\nkeywords = ["银行"]\nwebhooks = ["generic:http://127.0.0.1:9/h"]\n',
        encoding="utf-8",
    )

    (root / "random.db").write_bytes(os.urandom(8192))
    (root / "text.db").write_text("not a database\n" * 100, encoding="utf-8")
    data = good.read_bytes()
    (root / "truncated.db").write_bytes(data[: len(data) // 2])
    (root / "folder.db").mkdir()
    newer = root / "newer.db"
    shutil.copy(good, newer)
    with sqlite3.connect(newer) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (99, 'from the future', 0)")
    # someone else's data (wave 11's walk: `finews search` wrote 60 tables into it, and into
    # one with an `articles` table of its own, half of them before it failed)
    # (the review: one in WAL mode, whose reading must leave no -shm behind; one of Rails,
    # whose migrations table has finews's name)
    for name, tables, wal in (
        ("theirs", ["mydata (x)"], False),
        ("their-articles", ["articles (id, title)"], False),
        ("their-wal", ["mydata (x)"], True),
        ("rails", ["schema_migrations (version varchar)", "users (id)"], False),
    ):
        with contextlib.closing(sqlite3.connect(root / f"{name}.db")) as conn:
            if wal:
                conn.execute("PRAGMA journal_mode=WAL")
            for table in tables:
                conn.execute(f"CREATE TABLE {table}")
            conn.commit()
    w.bad_dbs = {
        "someone else's SQLite database": str(root / "theirs.db"),
        "an SQLite database with an articles table": str(root / "their-articles.db"),
        "someone else's SQLite database in WAL mode": str(root / "their-wal.db"),
        "a Rails database (a schema_migrations of its own)": str(root / "rails.db"),
        "random bytes": str(root / "random.db"),
        "a text file": str(root / "text.db"),
        "a truncated copy": str(root / "truncated.db"),
        "a folder": str(root / "folder.db"),
        "a newer schema": str(newer),
        "a folder that cannot be created": "/proc/finews-test/x.db",
        "an unknown database kind": "mysql://user@localhost/finews",
        "an unparsable URL": "postgresql://user@host:notaport/x",
        # nothing listens on port 1 of loopback: refused at once (no real server is used)
        "an unreachable server": "postgresql://finews@127.0.0.1:1/finews?connect_timeout=3",
    }

    def config(name: str, text: str) -> dict[str, str]:
        path = root / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        return {"FINEWS_CONFIG": str(path)}

    w.bad_settings = {
        "config is a folder": {"FINEWS_CONFIG": str(root)},
        "config does not exist": {"FINEWS_CONFIG": str(root / "nope.toml")},
        "config is not TOML": config("broken", "[http\n"),
        "unknown setting": config("unknown", "[http]\ntimeuot = 3\n"),
        "negative duration": {"FINEWS_RUN_STALE_AFTER": "-5"},
        "not a number": {"FINEWS_HTTP_TIMEOUT": "eighty"},
        "port out of range": {"FINEWS_SERVE_PORT": "70000"},
        "host not an address": {"FINEWS_SERVE_HOST": "999.1.1.1"},
        "ftp upstream": {"FINEWS_UPSTREAM_OVERRIDE": "www.cls.cn=ftp://mirror.example"},
        "not a boolean": {"FINEWS_RUN_SERVE": "maybe"},
    }
    yield w


def base_args(world: World, path: list[str], command: typer.main.TyperCommand) -> list[str]:
    """The command with a valid value for each required argument (and a free port)."""
    args = list(path)
    for param in command.params:
        if param.param_type_name != "argument":
            continue
        if param.required:
            assert param.name in world.samples, f"no sample for {path} {param.name}"
        if param.name in world.samples:
            args += world.samples[param.name]
    if any(p.name == "port" for p in command.params):
        args += ["--port", "0"]
    if any(p.name == "network" for p in command.params):
        args += ["--no-network"]  # the walk is about local mistakes
    return args


def problems(outcome: Outcome, status: int, what: str) -> list[str]:
    """What is wrong with an outcome: a traceback, another status, not one error line."""
    if outcome.traceback:
        return [f"{what}: TRACEBACK {outcome.traceback.strip().splitlines()[-1]}"]
    found = []
    if outcome.status != status:
        found.append(f"{what}: exit {outcome.status}, not {status}: {outcome.stderr!r}")
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    if len(lines) != 1 or not lines[0].startswith("error: "):
        found.append(f"{what}: not one error line: {outcome.stderr!r}")
    return found


def check(outcome: Outcome, status: int, what: str) -> None:
    found = problems(outcome, status, what)
    assert not found, "\n".join(found)


def _env(world: World, **extra: str) -> dict[str, str]:
    return {
        "FINEWS_DATA_DIR": str(world.root / "data"),
        "FINEWS_CONFIG": str(world.root / "config.toml"),
        **extra,
    }


# -- the walk -------------------------------------------------------------------------


COMMANDS = walk_commands()


def test_the_walk_finds_every_command() -> None:
    assert len(COMMANDS) >= 20


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(path) for path, _ in COMMANDS]
)
def test_every_command_with_every_bad_input(
    world: World, path: list[str], command: typer.main.TyperCommand
) -> None:
    """One command against every bad store, bad setting and out-of-range option (one test
    per command, so that a parallel run spreads the walk and a failure names its command)."""
    good_digest = _digest(world.good_db)
    cases = 0
    failures: list[str] = []

    def case(args: list[str], env: dict[str, str], status: int, what: str) -> Outcome:
        nonlocal cases
        cases += 1
        outcome = invoke(args, env)
        failures.extend(problems(outcome, status, what))
        return outcome

    name = " ".join(path)
    args = base_args(world, path, command)
    good = ["--db", str(world.good_db)]
    if path[0] not in NO_STORE:
        for kind, db in world.bad_dbs.items():
            before = _digest(Path(db)), _digest(Path(db + "-shm")), _digest(Path(db + "-wal"))
            case(["--db", db, *args], _env(world), EXIT_FATAL, f"{name} on {kind}")
            after = _digest(Path(db)), _digest(Path(db + "-shm")), _digest(Path(db + "-wal"))
            if after != before:
                failures.append(f"{name} changed {kind} (or its -shm / -wal)")
    if name in READ_ONLY:
        missing = world.root / "typo" / "x.db"
        out = case(["--db", str(missing), *args], _env(world), EXIT_FATAL, f"{name} no db")
        if "no database at" not in out.stderr or missing.parent.exists():
            failures.append(f"{name}: a missing database not refused: {out.stderr!r}")
            shutil.rmtree(missing.parent, ignore_errors=True)
        # an empty file (`touch`, a failed copy) is no database either: SQLite would take it
        # for an empty one, and a reader would write the schema into it
        empty = world.root / f"empty-{name.replace(' ', '-')}.db"
        empty.write_bytes(b"")
        out = case(["--db", str(empty), *args], _env(world), EXIT_FATAL, f"{name} empty db")
        if "empty file" not in out.stderr or empty.stat().st_size:
            failures.append(f"{name}: an empty file not refused: {out.stderr!r}")
        empty.unlink()
    for kind, env in world.bad_settings.items():
        case([*good, *args], _env(world, **env), EXIT_FATAL, f"{name} with {kind}")
    for option, value in out_of_range(command):
        bad = [*args, option, value]
        case([*good, *bad], _env(world), EXIT_USAGE, f"{name} {option} {value}")
    if _digest(world.good_db) != good_digest:
        failures.append(f"{name} changed the store")
    assert not failures, "\n".join(failures)
    assert cases >= len(world.bad_settings)


def out_of_range(command: typer.main.TyperCommand) -> list[tuple[str, str]]:
    """For every numeric option: a word, and values just outside its declared range; for
    every port: what the settings file refuses."""
    found: list[tuple[str, str]] = []
    for param in command.params:
        if param.param_type_name != "option" or not param.opts:
            continue
        option = param.opts[0]
        kind = param.type
        type_name = getattr(kind, "name", "")
        if param.name == "port":
            found += [(option, "70000"), (option, "65536"), (option, "-1")]
        elif param.name == "host":
            found += [(option, "999.1.1.1"), (option, "not a host")]
        if type_name in {"integer", "float", "integer range", "float range"}:
            found.append((option, "eighty"))
        low, high = getattr(kind, "min", None), getattr(kind, "max", None)
        if low is not None:
            found.append((option, str(low - 1)))
        if high is not None:
            found.append((option, str(high + 1)))
    return found


def test_closed_standard_output_is_one_line_for_every_command_that_prints(world: World) -> None:
    """``finews … | head``: a command that prints says once that its output was cut."""
    walked = 0
    for path, command in walk_commands():
        name = " ".join(path)
        if path[0] in LONG_RUNNING or path[0] == "fetch":
            continue  # they poll or serve; their output is a banner on standard error
        db = world.root / f"copy-{'-'.join(path)}.db"
        shutil.copy(world.good_db, db)
        args = ["--db", str(db), *base_args(world, path, command)]
        normal = invoke(args, _env(world))
        assert not normal.traceback and normal.status in {EXIT_OK, 3}, (name, normal)
        if not normal.stdout:
            continue
        walked += 1
        shutil.copy(world.good_db, db)  # as before the normal run (a writer changed it)
        before = _digest(db)
        outcome = invoke(args, _env(world), closed_stdout=True)
        check(outcome, EXIT_FATAL, f"{name} with standard output closed")
        assert "standard output was closed" in outcome.stderr
        if name in READ_ONLY:
            assert _digest(db) == before
    print(f"\n{walked} commands that print walked with standard output closed")
    assert walked >= 8


# -- the real entry point ----------------------------------------------------------------


def test_the_console_command_adds_no_traceback(world: World, tmp_path: Path) -> None:
    for args, env, status in [
        (["--db", world.bad_dbs["random bytes"], "stats"], {}, EXIT_FATAL),
        (["--db", world.bad_dbs["a folder that cannot be created"], "fetch"], {}, EXIT_FATAL),
        (["--db", str(world.good_db), "serve", "--port", "70000"], {}, EXIT_USAGE),
        (["--db", str(world.good_db), "stats"], world.bad_settings["config is a folder"], 1),
    ]:
        result = run_cli(*args, env=env)
        assert result.returncode == status, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    # a real pipe closed by its reader
    proc = subprocess.Popen(
        [sys.executable, "-m", "finews", "--db", str(world.good_db), "export", "json", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    with proc.stderr:
        stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == EXIT_FATAL
    assert "Traceback" not in stderr and stderr.count("\n") == 1, stderr
    assert "standard output was closed" in stderr


def test_a_missing_database_is_refused_by_readers_and_created_by_writers(
    tmp_path: Path,
) -> None:
    db = tmp_path / "typo" / "x.db"
    result = run_cli("--db", str(db), "stats")
    assert result.returncode == 1 and "no database at" in result.stderr
    assert "the default is" in result.stderr and not db.parent.exists()
    assert run_cli("--db", str(db), "import", "jekyll", str(SEED)).returncode == 0
    assert run_cli("--db", str(db), "stats").returncode == 0


def test_a_data_dir_mistake_is_said_as_the_data_dirs(tmp_path: Path) -> None:
    """Without --db the store is data_dir's: a data_dir that is a file, or that has no store
    yet, is said naming data_dir (FINEWS_DATA_DIR), not --db (wave 11's walk)."""
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine\n", encoding="utf-8")
    env = {"FINEWS_DATA_DIR": str(a_file), "FINEWS_DB": ""}
    for command in (["stats"], ["fetch", "cls.telegraph"]):
        result = run_cli(*command, env=env)
        assert result.returncode == 1, result.stderr
        assert result.stderr.startswith(f"error: data_dir {a_file} is not a folder"), result.stderr
        assert result.stderr.count("\n") == 1
    assert a_file.read_text(encoding="utf-8") == "mine\n"
    empty = tmp_path / "fresh"
    result = run_cli("stats", env={"FINEWS_DATA_DIR": str(empty), "FINEWS_DB": ""})
    assert result.returncode == 1 and "the default store of data_dir" in result.stderr
    assert "--db / FINEWS_DB" not in result.stderr and not empty.exists()


# -- finews check ----------------------------------------------------------------------


def test_check_finds_damage_inside_a_valid_file_and_a_site_of_another_store(
    tmp_path: Path,
) -> None:
    db, other = tmp_path / "f.db", tmp_path / "other.db"
    env = {"FINEWS_DATA_DIR": str(tmp_path / "data")}
    assert run_cli("--db", str(db), "import", "jekyll", str(JEKYLL_REAL), env=env).returncode == 3
    assert run_cli("--db", str(db), "build", env=env).returncode == 0
    healthy = run_cli("--db", str(db), "check", "--no-network", "--json", env=env)
    assert healthy.returncode == 0, healthy.stderr
    assert json.loads(healthy.stdout)["verdict"] == "healthy"

    # the same site checked against another, smaller database: built from elsewhere
    assert run_cli("--db", str(other), "import", "jekyll", str(SEED), env=env).returncode == 0
    elsewhere = run_cli("--db", str(other), "check", "--no-network", "--json", env=env)
    assert elsewhere.returncode == 1 and elsewhere.stderr.startswith("error: check: broken")
    states = {(f["area"], f["name"]): f["state"] for f in json.loads(elsewhere.stdout)["findings"]}
    assert states[("site", "built from")] == "fail"

    # garbage written into the middle of the file: ordinary commands may not read that page
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    assert pages > 8
    with db.open("r+b") as handle:
        handle.seek(page_size * (pages // 2) + 100)
        handle.write(os.urandom(page_size - 200))
    damaged = run_cli("--db", str(db), "check", "--no-network", "--json", env=env)
    assert damaged.returncode == 1, damaged.stdout
    assert "Traceback" not in damaged.stderr and len(damaged.stderr.splitlines()) == 1
    findings = json.loads(damaged.stdout)["findings"]
    assert any(f["area"] == "store" and f["state"] == "fail" for f in findings)


def test_check_reports_unreachable_sources_with_status_4(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    assert run_cli("--db", str(db), "import", "jekyll", str(SEED)).returncode == 0
    closed = "http://127.0.0.1:9"  # the discard port: nothing listens on loopback
    env = {
        "FINEWS_SOURCES_ENABLED": "cls.telegraph,ths.flash",
        "FINEWS_UPSTREAM_OVERRIDE": f"www.cls.cn={closed},news.10jqka.com.cn={closed}",
        "FINEWS_HTTP_TIMEOUT": "2",
    }
    result = run_cli("--db", str(db), "check", "--json", env=env)
    assert result.returncode == 4, result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "some sources unreachable"
    assert {f["name"] for f in report["findings"] if f["area"] == "source"} == {
        "cls.telegraph",
        "ths.flash",
    }


# -- logs ------------------------------------------------------------------------------

ISO_LINE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2} (INFO|WARNING) \S+: ")


def test_logs_are_iso_one_line_each_and_json_on_request(tmp_path: Path) -> None:
    db = str(tmp_path / "f.db")
    text = run_cli("-v", "--db", db, "import", "jekyll", str(JEKYLL_HANDMADE))
    logs = [line for line in text.stderr.splitlines() if not line.startswith("skipped ")]
    assert logs and all(ISO_LINE.match(line) for line in logs), text.stderr
    assert any(len(line) > 120 for line in logs)  # long, and still one line when piped
    as_json = run_cli(
        "-v", "--log-format", "json", "--db", db, "import", "jekyll", str(JEKYLL_HANDMADE)
    )
    lines = [line for line in as_json.stderr.splitlines() if not line.startswith("skipped ")]
    records = [json.loads(line) for line in lines]
    assert records and {"time", "level", "logger", "message"} <= set(records[0])
    assert datetime.fromisoformat(records[0]["time"]).tzinfo is not None


# -- what the messages say ---------------------------------------------------------------


def test_messages_say_what_to_do(world: World, tmp_path: Path) -> None:
    good = ["--db", str(world.good_db)]
    said = {
        "not a number": invoke(["stats"], _env(world, FINEWS_HTTP_TIMEOUT="eighty")),
        "SQLite and PostgreSQL only": invoke(["--db", "mysql://u@h/x", "stats"], _env(world)),
        "not an IP address": invoke([*good, "serve", "--host", "999.1.1.1"], _env(world)),
        "宁德时代 300750.SZ": invoke([*good, "stocks", "宁德"], _env(world)),
        "is a folder": invoke(["stats"], _env(world, FINEWS_CONFIG=str(tmp_path))),
        "not an http(s) URL": invoke(
            ["stats"], _env(world, FINEWS_UPSTREAM_OVERRIDE="www.cls.cn=ftp://mirror.example")
        ),
        "run.stale_after must be positive": invoke(
            ["stats"], _env(world, FINEWS_RUN_STALE_AFTER="-5")
        ),
    }
    for words, outcome in said.items():
        assert words in outcome.stderr, (words, outcome.stderr)
        assert "<class" not in outcome.stderr and "pip install 'finews')" not in outcome.stderr


def test_feeds_import_reports_entries_it_cannot_use(tmp_path: Path) -> None:
    opml = tmp_path / "subs.opml"
    opml.write_text(  # hand-made: a good feed, an ftp one, a folder
        '<opml version="2.0"><body><outline xmlUrl="https://example.org/a.xml"/>'
        '<outline xmlUrl="ftp://example.org/b.xml"/><outline text="a folder"/></body></opml>',
        encoding="utf-8",
    )
    result = run_cli("--db", str(tmp_path / "f.db"), "feeds", "import", str(opml))
    assert result.returncode == 3, result.stderr
    assert "1 added" in result.stdout and "1 skipped" in result.stdout
    assert "ftp://example.org/b.xml" in result.stderr


def test_run_on_a_taken_port_says_so_at_once(tmp_path: Path) -> None:
    import socket
    import time

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        result = run_cli("--db", str(tmp_path / "f.db"), "run", "--port", str(port))
        elapsed = time.monotonic() - started
    assert result.returncode == 1 and "choose another --port" in result.stderr, result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert elapsed < 10  # it waited 14 s for the polls in flight before


def test_uvicorn_lines_have_the_same_format(world: World, tmp_path: Path) -> None:
    import signal
    import socket

    env = {**os.environ, "FINEWS_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "finews", "--db", str(world.good_db), "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    try:
        banner = ""
        while "serving " not in banner:
            banner = proc.stderr.readline()
            assert banner, "serve ended before it served"
        port = int(re.findall(r":(\d+)/", banner)[-1])
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.sendall(b"GARBAGE \x00\x01\r\n\r\n")  # uvicorn warns about it
            assert conn.recv(100).startswith(b"HTTP/1.1 400")
    finally:
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=30)[1]
    warning = [line for line in rest.splitlines() if "uvicorn" in line]
    assert warning and all(ISO_LINE.match(line) for line in warning), rest


def test_fetch_offline_fails_within_one_requests_retries_and_says_so(tmp_path: Path) -> None:
    import time

    from finews.sources.registry import build_sources

    hosts = [
        "np-listapi.eastmoney.com", "newsinfo.eastmoney.com", "finance.eastmoney.com",
        "www.cls.cn", "news.10jqka.com.cn", "zhibo.sina.com.cn", "api-one-wscn.awtmt.com",
        "flash-api.jin10.com",
    ]  # fmt: skip
    nowhere = "http://offline.invalid"  # .invalid never resolves (RFC 6761)
    env = {
        "FINEWS_UPSTREAM_OVERRIDE": ",".join(f"{h}={nowhere}" for h in hosts),
        "FINEWS_HTTP_TIMEOUT": "2",
        "FINEWS_HTTP_RETRIES": "3",
        "FINEWS_HTTP_BACKOFF": "0.2",
    }
    assert len(build_sources(load_settings(env={}), [])) == 7
    started = time.monotonic()
    result = run_cli("--db", str(tmp_path / "f.db"), "fetch", env=env)
    elapsed = time.monotonic() - started
    assert result.returncode == 4, result.stderr
    assert "this machine looks offline" in result.stderr
    assert "Traceback" not in result.stderr
    # one request's attempts (timeout × (retries + 1)), not once per source (7 sources)
    assert elapsed < 2 * 4 + 5, elapsed
    # `check` says the same (wave 13's walk: "some sources unreachable", naming one of them)
    checked = run_cli("--db", str(tmp_path / "f.db"), "check", env=env)
    assert checked.returncode == 4 and "verdict: offline" in checked.stdout, checked.stdout
    assert checked.stderr.strip() == (
        "error: check: offline: source network: no source could be reached: this machine "
        "looks offline (no host name resolves or no route); check the network, a proxy or "
        "upstream_override"
    ), checked.stderr


# -- a new user's first steps (the w8 walk) -------------------------------------------------


def test_a_taken_port_is_said_before_a_site_is_built_or_anything_made(
    world: World, tmp_path: Path
) -> None:
    """`finews serve --site NEW` on a taken port built the whole site (15 s, 226 MB on a
    big store), then said the port was taken: now the port is bound first, and nothing is
    made — no site, no demo folder (given or temporary), no database, no data folder."""
    import socket

    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {"FINEWS_DATA_DIR": str(tmp_path / "data"), "TMPDIR": str(temp)}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        site = tmp_path / "fresh" / "site"
        for args in (
            ["--db", str(world.good_db), "serve", "--port", port, "--site", str(site)],
            ["demo", "--port", port, "--data", str(tmp_path / "demo")],
            ["demo", "--port", port],  # a temporary folder: none is made either
            ["--db", str(tmp_path / "new.db"), "run", "--port", port],
        ):
            result = run_cli(*args, env=env, timeout=60)
            assert result.returncode == EXIT_FATAL, (args, result.stderr)
            assert result.stderr.startswith(f"error: cannot serve on 127.0.0.1:{port}: ")
            assert len(result.stderr.splitlines()) == 1, (args, result.stderr)
    assert sorted(os.listdir(tmp_path)) == ["tmp"] and os.listdir(temp) == []


def _serve(world: World, site: Path, tmp_path: Path) -> subprocess.Popen[str]:
    """`finews serve --port 0 --site SITE` on the good store, standard error piped."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "finews", "--db", str(world.good_db), "serve", "--port", "0",
         "--site", str(site)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "FINEWS_DATA_DIR": str(tmp_path / "data")},
    )  # fmt: skip
    assert proc.stderr is not None
    return proc


def test_serve_builds_a_missing_site_then_serves_it_on_the_socket_it_bound(
    world: World, tmp_path: Path
) -> None:
    """The normal path of the order above: the port is bound, the site built, then served
    on that same socket (no moment where another program could take the port)."""
    import signal

    import httpx

    site = tmp_path / "new" / "site"
    proc = _serve(world, site, tmp_path)
    try:
        first = proc.stderr.readline()
        assert first.startswith(f"no site in {site} yet: building it first"), first
        banner = proc.stderr.readline()
        assert banner.startswith(f"serving {site} on http://127.0.0.1:"), banner
        url = re.findall(r"http://\S+/", banner)[0]
        home = httpx.get(url, timeout=10)
        assert home.status_code == 200 and "金融消息" in home.text
        # its feeds link to where it is served, not to the default base URL's port 8000
        # (wave 8's walk: every link of `serve --port 8765`'s feeds was dead)
        feed = httpx.get(url + "atom.xml", timeout=10).text
        links = re.findall(r'href="(http://[^"]+)"', feed)
        assert links and all(link.startswith(url) for link in links), links[:3]
    finally:
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=30)[1]
    assert proc.returncode == 0 and rest.strip().endswith("stopped"), rest
    assert "note:" not in rest  # it built the site for where it serves
    # a site `finews build` made, served on another port: its feeds name port 8000, and
    # serve says so and what to do (wave 12's walk: the feeds page pointed readers at 8000)
    built = tmp_path / "built" / "site"
    made = run_cli("--db", str(world.good_db), "build", "--out", str(built))
    assert made.returncode == 0, made.stderr
    proc = _serve(world, built, tmp_path)
    try:
        banner = proc.stderr.readline()
        url = re.findall(r"http://\S+/", banner)[0]
        note = proc.stderr.readline()
        assert note.startswith(
            "note: the site's feeds link to http://127.0.0.1:8000/ (site.base_url when it "
            f"was built); for links to this address, set FINEWS_SITE_BASE_URL={url} and run "
            "finews build again"
        ), note
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


def test_ctrl_c_ends_open_event_streams_whole_and_at_once(world: World, tmp_path: Path) -> None:
    """A page left open holds an event stream (/api/stream).  Ctrl-C stopped `finews serve`
    only after its graceful timeout (3 s), cutting the stream off half-sent (the browser:
    net::ERR_INCOMPLETE_CHUNKED_ENCODING).  The streams now end first, whole."""
    import signal
    import threading

    import httpx

    site = tmp_path / "site"
    proc = _serve(world, site, tmp_path)
    ended: list[str] = []
    try:
        while not (line := proc.stderr.readline()).startswith("serving "):
            assert line, "serve ended before serving"
        url = re.findall(r"http://\S+/", line)[0]

        def read() -> None:
            try:
                with httpx.stream("GET", url + "api/stream", timeout=30) as response:
                    for _ in response.iter_lines():
                        pass
                ended.append("whole")
            except httpx.HTTPError as exc:
                ended.append(type(exc).__name__)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        time.sleep(1.0)  # connected
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=30)[1]
        stopped_in = time.monotonic() - started
        reader.join(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0 and rest.strip().endswith("stopped"), rest
    assert ended == ["whole"], ended
    assert stopped_in < 2.5, f"stopped {stopped_in:.1f} s after Ctrl-C"


def test_demo_serves_on_the_socket_bound_before_its_first_build(tmp_path: Path) -> None:
    """`finews demo` binds its port before it makes its folder and starts its stand-ins;
    the web app's own process then serves on that socket (handed over, not bound again)."""
    import signal

    import httpx

    proc = subprocess.Popen(
        [sys.executable, "-m", "finews", "demo", "--port", "0", "--data", str(tmp_path / "d")],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "FINEWS_DATA_DIR": str(tmp_path / "data")},
    )
    assert proc.stderr is not None
    try:
        lines: list[str] = []
        while not any("open http://" in line for line in lines):
            line = proc.stderr.readline()
            assert line, f"demo ended before it served: {lines}"
            lines.append(line)
        url = re.findall(r"open (http://\S+/)", "".join(lines))[0]
        assert httpx.get(url, timeout=10).status_code == 200
        assert "来源状态" in httpx.get(url + "status", timeout=10).text
    finally:
        proc.send_signal(signal.SIGTERM)
        rest = proc.communicate(timeout=60)[1]
    assert proc.returncode == 0 and "Traceback" not in rest, rest


TYPOS = {
    "FINEWS_SITE_TITEL": "FINEWS_SITE_TITLE",
    "FINEWS_HTTP_TIMOUT": "FINEWS_HTTP_TIMEOUT",
    "FINEWS_PORT": "FINEWS_MCP_PORT or FINEWS_SERVE_PORT",  # a key without its section
}
"""Misspelt variables (the warning's examples in docs/configuration.md too)."""


def test_a_misspelt_variable_is_warned_about_and_the_command_still_runs(world: World) -> None:
    good = ["--db", str(world.good_db)]
    normal = invoke([*good, "stats", "--json"], _env(world))
    for typo, meant in TYPOS.items():
        outcome = invoke([*good, "stats", "--json"], _env(world, **{typo: "x"}))
        assert outcome.status == EXIT_OK and outcome.stdout == normal.stdout, outcome
        assert outcome.stderr == (
            f"warning: {typo} is not a finews setting (did you mean {meant}?)\n"
        )
    far = invoke([*good, "stats"], _env(world, FINEWS_NOTHING_LIKE_IT="1"))
    assert far.status == EXIT_OK
    assert far.stderr.startswith("warning: FINEWS_NOTHING_LIKE_IT is not a finews setting (")
    assert "finews config --markdown" in far.stderr
    # in the settings file an unknown key stays an error; it names the file and the key
    unknown = world.root / "unknown.toml"
    said = invoke([*good, "stats"], _env(world, FINEWS_CONFIG=str(unknown)))
    check(said, EXIT_FATAL, "an unknown key in the file")
    assert said.stderr == (
        f"error: config file {unknown}: unknown setting(s) http.timeuot "
        "(did you mean http.timeout?)\n"
    )


def test_no_variable_finews_reads_is_warned_about() -> None:
    """Every FINEWS_* name the repository uses (sources, tests, scripts, deployment files,
    docs, benchmarks, CI) is one finews reads — a setting, an alias, FINEWS_CONFIG or
    FINEWS_CACHE — so none of them is ever warned about; only the typos above are."""
    from finews.config import unknown_variables

    root = Path(__file__).resolve().parents[1]
    files = [root / "Makefile", root / "README.md", root / "pyproject.toml"]
    for folder in ("src", "tests", "scripts", "docs", "deploy", "bench", ".ci"):
        files += [
            p
            for p in (root / folder).rglob("*")
            if p.is_file() and "_work" not in p.parts and p.suffix not in {".gz", ".db", ".png"}
        ]
    found: set[str] = set()
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        found |= set(re.findall(r"\bFINEWS_[A-Z0-9_]*[A-Z0-9]\b", text))
    assert {"FINEWS_DB", "FINEWS_CONFIG", "FINEWS_CACHE", "FINEWS_DATA_DIR"} <= found
    assert len(found) > 60
    used = found - set(TYPOS) - {"FINEWS_NOTHING_LIKE_IT"}
    assert unknown_variables(dict.fromkeys(used, "1")) == []


def test_a_file_where_a_folder_is_wanted_is_said_naming_the_option(
    world: World, tmp_path: Path
) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine\n", encoding="utf-8")
    good = ["--db", str(world.good_db)]
    for args, option in [
        ([*good, "build", "--out", str(a_file)], "--out"),
        (["demo", "--port", "0", "--data", str(a_file)], "--data"),
        ([*good, "export", "jekyll", str(a_file)], "the export folder"),
    ]:
        outcome = invoke(args, _env(world))
        check(outcome, EXIT_USAGE, " ".join(args))
        assert outcome.stderr.startswith(f"error: {option} {a_file} is a file, not a folder (")
        assert "--db" not in outcome.stderr and "File exists" not in outcome.stderr
    inside = a_file / "site"
    outcome = invoke([*good, "build", "--out", str(inside)], _env(world))
    check(outcome, EXIT_USAGE, "build --out inside a file")
    assert f"--out {inside} is inside {a_file}, which is a file" in outcome.stderr
    outcome = invoke([*good, "build"], _env(world, FINEWS_SITE_OUT=str(a_file)))
    check(outcome, EXIT_FATAL, "site.out a file")
    assert outcome.stderr.startswith(f"error: site.out {a_file} is a file, not a folder (")
    outcome = invoke(["demo", "--port", "0", "--data", "/proc/finews-test/demo"], _env(world))
    check(outcome, EXIT_USAGE, "demo --data that cannot be created")
    assert outcome.stderr.startswith("error: cannot create --data /proc/finews-test/demo: ")
    assert "--db" not in outcome.stderr
    assert a_file.read_text(encoding="utf-8") == "mine\n"
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]


def test_help_shows_bracketed_words_as_written() -> None:
    """Typer reads help texts as Rich markup: `([run] settings)` showed as `( settings)`.
    Every bracketed word of every command's and parameter's help is shown."""
    walked = 0
    for path, command in walk_commands():  # fresh commands: their texts as written
        texts = [command.help or "", *(getattr(p, "help", None) or "" for p in command.params)]
        words = {w for text in texts for w in re.findall(r"\[[^\]\s]+\]", text)}
        if not words:
            continue
        shown = invoke([*path, "--help"], {})
        assert shown.status == EXIT_OK, shown
        for word in words:
            assert word in shown.stdout, (path, word, shown.stdout)
            walked += 1
    assert walked >= 2  # ([run] settings) of scheduler, [subscribers.NAME] of its test
