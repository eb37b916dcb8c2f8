"""A stock's name for a reader (issue #12): the name the article was tagged with, else the
A-share list's current name, else the Hong Kong / US securities master's — so that
03750.HK reads 宁德时代, not a bare code.  Loaded once per process."""

from __future__ import annotations

import functools
import html

from finews.process.stocks import load_directory, load_securities


@functools.cache
def known_names() -> dict[str, str]:
    """Code → name of every A-share and every security of the master."""
    names = {s.code: s.name for s in load_securities()}
    names.update(load_directory().display)
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
