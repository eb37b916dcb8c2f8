"""Rendering a page: Jinja2 templates, the header and footer rendered once per page
depth, and skeletons filled in where a template qualifies (:mod:`finews.site.skeleton`).

One :class:`Renderer` per build (workers inherit it): its caches — templates, chrome,
skeletons — are the reason it is an object and not a function.  The templates' compiled code
outlives a build (:class:`_CompiledTemplates`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from jinja2 import (
    BytecodeCache,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    Template,
    select_autoescape,
)
from jinja2.bccache import Bucket
from markupsafe import Markup

from finews import __version__
from finews.process.clean import CLEAN_REVISION
from finews.site import paths
from finews.site.options import SiteOptions
from finews.site.skeleton import Fill, compile_fill

STATIC = Path(__file__).parent / "static"
TEMPLATES = Path(__file__).parent / "templates"


def digest(*parts: object) -> str:
    """A page's input hash (what the manifest keeps)."""
    return hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=16).hexdigest()


def config_hash(options: SiteOptions) -> str:
    """The hash of everything besides the store that every page depends on: the code's
    version, the cleaner's revision, the options, the templates and static files.  A
    change rebuilds every page."""
    sources = []
    for folder in [TEMPLATES, STATIC, *([Path(options.templates)] if options.templates else [])]:
        for path in sorted(folder.glob("*")):
            if path.is_file():
                sources.append((path.name, path.read_bytes()))
    settings = sorted((k, v) for k, v in vars(options).items() if k != "workers")
    # a new cleaner revision changes every body: every page is rebuilt
    return digest(__version__, CLEAN_REVISION, settings, sources)


class _CompiledTemplates(BytecodeCache):
    """Templates compiled once a process, not once a build.

    Each build has its own :class:`Renderer` and Jinja2 environment, which compiled every
    template it rendered again: up to ~0.2 s of CPU a build (the profile of the suite's site
    tests), paid again by every incremental build of ``finews run`` and ``serve``.  Jinja2
    checks each entry against its template's source (a checksum) before using it, so an
    edited template — a user's ``templates`` folder — is compiled again."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


class Renderer:
    def __init__(self, options: SiteOptions) -> None:
        loaders: list[Any] = []
        if options.templates:
            loaders.append(FileSystemLoader(options.templates))
        loaders.append(PackageLoader("finews.site", "templates"))
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(["html", "xml"]),
            keep_trailing_newline=True,
            auto_reload=False,
            bytecode_cache=_COMPILED,
        )
        self._templates: dict[str, Template] = {}
        self._chrome: dict[str, dict[str, Markup]] = {}
        self.site = {"title": options.title, "search": options.search_form}
        # skeletons by (template, page depth); None: the template renders with Jinja2
        self._fills: dict[tuple[str, str], Fill | None] = {}

    def render(self, template: str, path: str, **context: Any) -> str:
        return self.render_at(template, paths.root_of(path), **context)

    def render_at(self, template: str, root: str, **context: Any) -> str:
        compiled = self._templates.get(template)
        if compiled is None:
            compiled = self._templates[template] = self.env.get_template(template)
        return compiled.render(
            site=self.site, root=Markup(root), chrome=self.chrome(root), **context
        )

    def chrome(self, root: str) -> dict[str, Markup]:
        """The header and footer of a page at this depth, rendered once per depth:
        they are the same on every page, and most of a small page's render time."""
        if root not in self._chrome:
            template = self.env.get_template("chrome.html")
            module = template.make_module({"site": self.site, "root": Markup(root)})
            self._chrome[root] = {
                "header": Markup(str(module.header()).strip()),  # type: ignore[attr-defined]
                "footer": Markup(str(module.footer()).strip()),  # type: ignore[attr-defined]
            }
        return self._chrome[root]

    def filled(
        self, template: str, root: str, var: str, values: dict[str, Any], **varying: Any
    ) -> str:
        """``template`` at page depth ``root`` for ``var`` = ``values``: its skeleton
        filled in when the template qualifies (see :mod:`finews.site.skeleton`), else a
        Jinja2 render.  ``varying`` are the other variables that differ from page to
        page: a template that uses one is rendered by Jinja2."""
        key = (template, root)
        if key not in self._fills:
            context = {"site": self.site, "root": Markup(root), "chrome": self.chrome(root)}
            self._fills[key] = compile_fill(
                self.env, template, var, context, varying=frozenset(varying)
            )
        fill = self._fills[key]
        if fill is None:
            return self.render_at(template, root, **{var: values}, **varying)
        return fill(values)
