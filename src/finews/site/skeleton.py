"""Templates rendered once per page depth, then filled in page by page.

Most pages of a build are article pages, all from one template whose
per-article values (``a.title``, ``a.body``, …) are only printed, never tested,
filtered or looped over.  Such a template is rendered once, with a placeholder
for each value, and split at the placeholders; a page is then its pieces
joined with its values, each escaped as Jinja2's autoescape would.  The output
is what Jinja2 renders, byte for byte (the site tests compare both), without
evaluating the template for each of 20,000 pages.

Whether a template qualifies is read from its syntax tree, and from those of
the templates it extends: the variable may appear only as ``{{ var.field }}``,
no include passes it on, autoescape is not switched in the template.  A user's
template that does anything else is rendered by Jinja2 page by page, as before.
Everything else a template prints must be the same on every page of one depth
(the site's title, the way back to the root, header and footer): a template
printing something random per page would print one value on all of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import Environment, nodes
from markupsafe import Markup

from finews.site.escaping import escape_text

_MARK = re.compile("\x00([A-Za-z_][A-Za-z0-9_]*)\x00")

Fill = Callable[[Mapping[str, Any]], str]


class NotPlain(Exception):
    """The template uses the variable in a way a skeleton cannot reproduce."""


def _fields(
    env: Environment, name: str, var: str, seen: set[str], varying: frozenset[str]
) -> set[str]:
    """The fields of ``var`` the template ``name`` (and what it extends) prints."""
    if name in seen:
        return set()
    seen.add(name)
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, name)
    tree = env.parse(source)
    fields: set[str] = set()

    def walk(node: nodes.Node, parent: nodes.Node | None, grandparent: nodes.Node | None) -> None:
        if isinstance(node, nodes.Name) and node.name in varying:
            raise NotPlain(f"{name}: uses {node.name}, which differs from page to page")
        if isinstance(node, nodes.Name) and node.name == var:
            if not (
                isinstance(parent, nodes.Getattr)
                and parent.node is node
                and isinstance(grandparent, nodes.Output)
            ):
                raise NotPlain(f"{name}: {var} used other than as {{{{ {var}.field }}}}")
            fields.add(parent.attr)
        if isinstance(node, nodes.Include | nodes.EvalContextModifier):
            raise NotPlain(f"{name}: include or autoescape switch")
        if isinstance(node, nodes.Import | nodes.FromImport) and node.with_context:
            raise NotPlain(f"{name}: import with context")
        if isinstance(node, nodes.Extends):
            if not isinstance(node.template, nodes.Const):
                raise NotPlain(f"{name}: extends a computed name")
            fields.update(_fields(env, node.template.value, var, seen, varying))
        for child in node.iter_child_nodes():
            walk(child, node, parent)

    walk(tree, None, None)
    return fields


def compile_fill(
    env: Environment,
    name: str,
    var: str,
    context: dict[str, Any],
    varying: frozenset[str] = frozenset(),
) -> Fill | None:
    """A function rendering template ``name`` for a mapping of ``var``'s fields, or
    None when the template does not qualify (render it with Jinja2 instead).

    ``context`` holds the other variables, the same for every page filled; ``varying``
    names variables that differ from page to page (passed to Jinja2 renders): a template
    that uses one does not qualify."""
    if not env.autoescape:  # select_autoescape: decided by the name
        return None
    autoescape = env.autoescape(name) if callable(env.autoescape) else env.autoescape
    if not autoescape:
        return None
    try:
        fields = _fields(env, name, var, set(), varying)
    except NotPlain:
        return None
    if any(hasattr(dict, f) for f in fields):
        return None  # a.items, a.keys …: Jinja2 would find the dict's method first
    placeholders = {f: Markup(f"\x00{f}\x00") for f in fields}
    skeleton = env.get_template(name).render(**context, **{var: placeholders})
    pieces = _MARK.split(skeleton)
    if skeleton.count("\x00") != 2 * (len(pieces) // 2):
        return None  # a NUL of the template's own: the split would be ambiguous
    texts = pieces[0::2]
    names = pieces[1::2]

    def fill(values: Mapping[str, Any]) -> str:
        out = [texts[0]]
        for field, text in zip(names, texts[1:], strict=True):
            # a missing field is Jinja2's Undefined: printed as nothing; Markup as it is
            value = values.get(field, "")
            out.append(value if type(value) is Markup else escape_text(value))
            out.append(text)
        return "".join(out)

    return fill
