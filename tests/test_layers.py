"""The one direction data flows (docs/design.md, "The map"), held by a test (#16).

Every module of ``src/finews`` belongs to a layer; it may import modules of its own layer
and of the layers below, never above.  So nothing in ``store/``, ``process/``, ``model``,
``sources/`` or ``fetch/`` imports ``site/``, ``web/``, ``run/``, ``cli`` (or anything
else that reads the store to publish it).  On top of that, ``process/`` does no I/O: it
imports no module that talks to the network, a database, other processes or the file
system's writing side, and calls no writing method of a path (it may *read* the data it
works with: the packaged stock list).  Imports inside functions and under
``TYPE_CHECKING`` count too.  The source is read with :mod:`ast`; nothing is imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"

LAYERS: list[tuple[str, set[str]]] = [
    (
        "foundation",
        {
            "finews",
            "finews.errors",
            "finews.config",
            "finews.model",
            "finews.logs",
            "finews.tradingdays",  # the exchanges' calendar: briefings and the poll schedule
        },
    ),
    (
        "work without a store",
        {
            "finews.process",
            "finews.fetch",
            "finews.outputs",
            "finews.search",  # the package itself: its docstring only
            "finews.search.aliases",
            "finews.search.query",
            "finews.search.segment",
            "finews.search.quickseg",
            "finews.search.snippet",
        },
    ),
    ("upstreams", {"finews.sources"}),
    ("store", {"finews.store"}),
    (
        "in and out of the store",
        {
            "finews.ingest",
            "finews.jekyll",
            "finews.site",
            "finews.search.service",
            "finews.search.filters",  # resolves filters the store reads (wave 9)
            "finews.briefing",  # composed from the store's stories, rendered like pages
        },
    ),
    (
        "applications",
        {
            "finews.web",
            "finews.run",
            "finews.agent",  # the MCP server
            "finews.distributed",
            "finews.demo",
            "finews.check",
            "finews.cli",
            "finews.__main__",
        },
    ),
]

PROCESS_MAY_NOT_IMPORT = {
    # the network, databases, other processes, the file system's writing side
    "httpx",
    "requests",
    "urllib.request",
    "http",
    "socket",
    "ssl",
    "sqlalchemy",
    "sqlite3",
    "psycopg",
    "redis",
    "os",
    "shutil",
    "tempfile",
    "subprocess",
    "multiprocessing",
    "concurrent",
    "asyncio",
    # finews's own rooms that do I/O
    "finews.fetch",
    "finews.store",
    "finews.outputs",
    "finews.sources",
}
WRITING_METHODS = {
    "write_text",
    "write_bytes",
    "mkdir",
    "unlink",
    "rmdir",
    "touch",
    "rename",
    "symlink_to",
    "hardlink_to",
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int:
    """The layer of the longest name in LAYERS that ``module`` is or is inside."""
    best, rank = "", -1
    for i, (_, names) in enumerate(LAYERS):
        for name in names:
            inside = module == name or module.startswith(name + ".")
            if inside and len(name) > len(best):
                best, rank = name, i
    if rank < 0:
        raise AssertionError(f"{module} is in no layer: give it one in tests/test_layers.py")
    return rank


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, at any depth."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                inside = path if path.name == "__init__.py" else path.parent
                base = module_name(inside).split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # ``from finews.store import rows`` imports the module finews.store.rows
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
            found.append((node.lineno, target))
    return found


def sources() -> list[Path]:
    return sorted((SRC / "finews").rglob("*.py"))


def owner_module(name: str) -> str:
    """``name`` if it is a module of finews, else the longest finews module it is inside
    (``finews.store.Store`` → ``finews.store``)."""
    parts = name.split(".")
    while parts:
        candidate = SRC.joinpath(*parts)
        if candidate.with_suffix(".py").is_file() or (candidate / "__init__.py").is_file():
            return ".".join(parts)
        parts.pop()
    return name


def upward_imports() -> list[str]:
    problems = []
    for path in sources():
        here = module_name(path)
        mine = layer_of(here)
        for line, name in imports(path):
            if not name.startswith("finews"):
                continue
            target = owner_module(name)
            theirs = layer_of(target)
            if theirs > mine:
                problems.append(
                    f"{path.relative_to(SRC)}:{line}: {here} ({LAYERS[mine][0]}) imports "
                    f"{target} ({LAYERS[theirs][0]})"
                )
    return sorted(set(problems))


def process_io() -> list[str]:
    problems = []
    for path in sorted((SRC / "finews" / "process").rglob("*.py")):
        for line, name in imports(path):
            for banned in PROCESS_MAY_NOT_IMPORT:
                if name == banned or name.startswith(banned + "."):
                    problems.append(f"{path.relative_to(SRC)}:{line}: imports {name}")
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in WRITING_METHODS:
                problems.append(f"{path.relative_to(SRC)}:{node.lineno}: calls .{func.attr}()")
            if isinstance(func, ast.Name) and func.id == "open":
                mode = node.args[1] if len(node.args) > 1 else None
                for keyword in node.keywords:
                    if keyword.arg == "mode":
                        mode = keyword.value
                text = mode.value if isinstance(mode, ast.Constant) else "r"
                if not isinstance(text, str) or set(text) & set("wax+"):
                    problems.append(f"{path.relative_to(SRC)}:{node.lineno}: opens for writing")
    return sorted(set(problems))


def test_every_module_has_a_layer() -> None:
    for path in sources():
        layer_of(module_name(path))


def test_data_flows_one_way() -> None:
    assert upward_imports() == []


def test_process_does_no_io() -> None:
    assert process_io() == []


def test_the_rules_see_a_violation(tmp_path: Path) -> None:
    """The checks themselves: an upward import and an I/O import, in sources written here,
    are found (the real tree's checks would pass vacuously if they never matched)."""
    bad = tmp_path / "rows.py"
    bad.write_text("def f():\n    from finews.site import paths\n    import sqlite3\n")
    found = imports(bad)
    assert (2, "finews.site.paths") in found and (3, "sqlite3") in found
    assert layer_of(owner_module("finews.site.paths")) > layer_of("finews.store.rows")
    assert owner_module("finews.store.Store") == "finews.store"
