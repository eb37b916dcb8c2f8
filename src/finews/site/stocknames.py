"""A stock's name for a reader (issue #12): the name the article was tagged with, else the
A-share list's current name, else the Hong Kong / US securities master's — so that
03750.HK reads 宁德时代, not a bare code.  Loaded once per process."""

from __future__ import annotations

import csv
import functools
import html
import unicodedata
from importlib import resources


def _rows(name: str) -> list[dict[str, str]]:
    text = (resources.files("finews") / "data" / name).read_text(encoding="utf-8")
    return list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))


@functools.cache
def known_names() -> dict[str, str]:
    """Code → name of every A-share (its current name, else a former one) and of every
    security of the master.  Read from the packaged CSVs directly: the stock tagger's
    directory (:func:`finews.process.stocks.load_directory`) costs a build's every worker
    a third of a second to import and build, for the name lookups alone."""

    def clean(name: str) -> str:
        return unicodedata.normalize("NFKC", name).replace(" ", "").replace("\u3000", "")

    names = {r["code"]: clean(r["name"]) for r in _rows("securities.csv") if r.get("name")}
    for r in _rows("stock_aliases.csv"):
        if r.get("name"):
            names.setdefault(r["ts_code"], clean(r["name"]))
    names.update((r["ts_code"], clean(r["name"])) for r in _rows("a_shares.csv") if r.get("name"))
    return names


def stock_name(code: str, given: str = "") -> str:
    """The name to show for ``code`` (``given``: the name its tag carries)."""
    return given or known_names().get(code, "")


def stock_chip(root: str, code: str, given: str = "") -> str:
    """A stock's chip: its name (the code when no name is known) linking to its page,
    the code in small type beside it.  Escaped."""
    e = html.escape
    name = stock_name(code, given)
    label = f"{e(name)}<small>{e(code)}</small>" if name else e(code)
    return f'<a class="chip" href="{root}s/{e(code)}/index.html" title="{e(code)}">{label}</a>'
