"""Article pages from a template skeleton: the same bytes as Jinja2, or Jinja2 itself."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from jinja2 import DictLoader, Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from finews.site import SiteOptions, build_site, paths
from finews.site.article import article_parts
from finews.site.escaping import escape_text
from finews.site.skeleton import compile_fill
from finews.store import Store
from finews.store import sitequeries as q
from sitedata import BASE_URL, populate

HOSTILE = {
    "title": "<script>alert('x')</script> & \"引号\"",
    "body": Markup("<p>已清洗的 <b>正文</b></p>"),
    "lead": "",
    "n": 3,
}


def env_of(templates: dict[str, str]) -> Environment:
    return Environment(
        loader=DictLoader(templates),
        autoescape=select_autoescape(["html", "xml"]),
        keep_trailing_newline=True,
    )


def both(env: Environment, values: dict[str, Any], **context: Any) -> tuple[str, str]:
    fill = compile_fill(env, "page.html", "a", context)
    assert fill is not None
    return fill(values), env.get_template("page.html").render(**context, a=values)


def test_packaged_article_template_fills_to_jinja2_bytes(store: Store) -> None:
    """Every real article of the site tests, at two depths: fill == Jinja2 render."""
    populate(store)
    env = Environment(
        loader=PackageLoader("finews.site", "templates"),
        autoescape=select_autoescape(["html", "xml"]),
        keep_trailing_newline=True,
    )
    site = {"title": "金融消息", "search": True}
    chrome = {"header": Markup("<header>h</header>"), "footer": Markup("<footer>f</footer>")}
    fills: dict[str, Any] = {}
    compared = 0
    with store.snapshot() as conn:
        for _, article, _, body in q.iter_all_articles(conn):
            published = int(article.published.timestamp())
            path = paths.article_path(article.source, article.upstream_id, published)
            parts = article_parts(article, path, article.media, "slug", [], body)
            root = paths.root_of(path)
            if root not in fills:
                context = {"site": site, "root": Markup(root), "chrome": chrome}
                fills[root] = (compile_fill(env, "article.html", "a", context), context)
            fill, context = fills[root]
            assert fill is not None, "the packaged template must take the fast path"
            expected = env.get_template("article.html").render(**context, a=parts)
            assert fill(parts) == expected
            compared += 1
    assert compared == store.count() > 40


def test_printed_fields_with_hostile_values_match_jinja2() -> None:
    env = env_of(
        {
            "base.html": "<title>{% block t %}{% endblock %} · {{ site }}</title>"
            "{% block m %}{% endblock %}",
            "page.html": '{% extends "base.html" %}{% block t %}{{ a.title }}{% endblock %}'
            "{% block m %}<h1>{{ a.title }}</h1>{{ a.body }}[{{ a.lead }}]{{ a.n }}"
            "[{{ a.missing }}]{% if site %}{{ a.title }}{% endif %}{% endblock %}",
        }
    )
    filled, rendered = both(env, HOSTILE, site="站")
    assert filled == rendered
    assert "&lt;script&gt;" in filled and "<b>正文</b>" in filled and "[]" in filled


@pytest.mark.parametrize(
    "page",
    [
        "{% if a.lead %}<p>{{ a.lead }}</p>{% endif %}",
        "{{ a.title|upper }}",
        "{{ a.title ~ '!' }}",
        "{{ a['title'] }}",
        "{% set t = a.title %}{{ t }}",
        "{% for k in a %}{{ k }}{% endfor %}",
        "{{ a.title.strip() }}",
        '{% include "part.html" %}',
        "{% autoescape false %}{{ a.title }}{% endautoescape %}",
        "{{ a.items }}",
        '{% extends "other.html" %}',
    ],
)
def test_templates_that_use_the_variable_otherwise_render_with_jinja2(page: str) -> None:
    env = env_of({"page.html": page, "part.html": "{{ a.title }}", "other.html": "{{ a.title|e }}"})
    assert compile_fill(env, "page.html", "a", {}) is None


def test_a_template_using_a_variable_that_varies_renders_with_jinja2() -> None:
    """Variables other than the filled one must be the same on every page: one named as
    varying (a feed's entries) disqualifies a template that uses it, in a loop or not."""
    env = env_of(
        {
            "plain.xml": "<t>{{ feed.title }}</t>{{ feed.entries }}",
            "loop.xml": "<t>{{ feed.title }}</t>{% for e in entries %}{{ e.atom }}{% endfor %}",
            "base.xml": "{% block b %}{{ entries|length }}{% endblock %}",
            "child.xml": '{% extends "base.xml" %}{% block b %}{{ feed.title }}{% endblock %}',
        }
    )
    varying = frozenset({"entries"})
    fill = compile_fill(env, "plain.xml", "feed", {}, varying=varying)
    assert fill is not None
    assert fill({"title": "<a&b>", "entries": Markup("<e/>")}) == "<t>&lt;a&amp;b&gt;</t><e/>"
    assert compile_fill(env, "loop.xml", "feed", {}, varying=varying) is None
    assert compile_fill(env, "child.xml", "feed", {}, varying=varying) is None


def test_a_user_article_template_with_conditions_is_rendered_by_jinja2(
    tmp_path: Path, store: Store
) -> None:
    """A user's override that tests a field: pages follow the condition, page by page."""
    populate(store, fast=40, posts=2)
    custom = tmp_path / "templates"
    custom.mkdir()
    (custom / "article.html").write_text(
        "{% if a.mark %}MARK{% else %}NOMARK{% endif %}|{{ a.title }}\n", encoding="utf-8"
    )
    out = tmp_path / "site"
    options = SiteOptions(base_url=BASE_URL, templates=str(custom))
    build_site(store, out, options)
    pages = [p.read_text(encoding="utf-8") for p in (out / "a").rglob("*.html")]
    assert len(pages) == store.count()
    marks = {p.split("|", 1)[0] for p in pages}
    assert marks == {"MARK", "NOMARK"}  # some of the real flashes are marked important
    # and the same store through the packaged template takes the skeleton
    plain = tmp_path / "plain"
    build_site(store, plain, replace(options, templates=""))
    assert all("<article>" in p.read_text(encoding="utf-8") for p in (plain / "a").rglob("*.html"))


def test_escape_text_gives_markupsafes_bytes() -> None:
    """The fragments built in Python escape as Jinja2's autoescape (markupsafe) does."""

    class Safe:
        def __html__(self) -> str:
            return "<b>safe</b>"

    values: list[object] = [
        "",
        "plain 财联社",
        "<script>alert('x')</script>",
        "a \"quoted\" & <tagged> 'value'",
        "&amp; already escaped",
        "\x00\u2028 controls",
        Markup("<em>markup</em>"),
        Safe(),
        42,
        3.5,
        None,
        True,
    ]
    for value in values:
        assert escape_text(value) == str(escape(value)), value
        assert type(escape_text(value)) is str
