"""Writing posts in the original site's latest layout, and its category pages (pure:
article in, text out)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache

from finews.jekyll import JEKYLL_SOURCE, ROLLING_TAG
from finews.jekyll.read import SIMPLE_LINE
from finews.jekyll.slug import media_slug
from finews.model import BEIJING, ROLLING_CATEGORY, Article


@dataclass(frozen=True)
class JekyllOptions:
    """What the renderer needs from the settings."""

    site_url: str = "//finews.withounder.com"
    share_link: str = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode={id}"
    ascii_slugs: bool = False
    clean_body: bool = False
    """Write the sanitised body instead of the upstream HTML as the original did."""


def is_rolling(article: Article) -> bool:
    return article.category == ROLLING_CATEGORY


def category_of(article: Article, options: JekyllOptions) -> str:
    """The ``categories`` value: emnews, the declared section, or the media slug."""
    if is_rolling(article):
        return ROLLING_CATEGORY
    if article.category and not options.ascii_slugs:
        return article.category
    return media_slug(article.media or "finews", ascii_only=options.ascii_slugs)


def tag_of(article: Article) -> str:
    return ROLLING_TAG if is_rolling(article) else f"{article.media or 'finews'}新闻"


_YAML_UNPRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029]")
"""What YAML forbids even in quotes (DEL, C1 controls) or reads as a line break inside them
(NEL, the line and paragraph separators): written as ``\\uXXXX`` escapes."""
_YAML_PLAIN_SAFE = re.compile(
    r"^[A-Za-z\u3400-\u9fff][^:#\x00-\x1f\x7f-\x9f\u2028\u2029\"'\\]*(?<! )$"
)
_YAML_RESERVED = re.compile(r"^(?:y|n|yes|no|true|false|on|off|null)$", re.IGNORECASE)


def _yaml_quoted(value: str) -> str:
    """A YAML double-quoted scalar, written as the original wrote titles when it can.

    ``json.dumps`` leaves a title without ``"``, ``\\`` or control characters
    exactly as ``"title"``, the original's form; otherwise it escapes them,
    which the original did not (its YAML broke).  Characters YAML forbids
    even inside quotes (DEL, C1 controls) or folds (NEL, U+2028, U+2029) are escaped as
    ``\\uXXXX``.
    See docs/jekyll-format.md.
    """
    text = json.dumps(value, ensure_ascii=False)
    return _YAML_UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _yaml_scalar(value: str) -> str:
    """A ``categories``/``tags`` value bare, as the original always wrote it, unless YAML
    would read the bare form as something else: only then quoted.

    The fast pattern accepts most values (a letter or a Chinese character first, nothing
    YAML treats specially).  Anything else is bare exactly when :func:`_bare_reads_back`
    says so: ``21shijijingjibaodao`` and ``21世纪经济报道新闻`` stay bare (YAML reads them
    as those strings, and the original wrote them so), ``*ST国华新闻`` (an alias), ``2026``
    (a number) or ``no`` (a boolean) are quoted."""
    if _YAML_PLAIN_SAFE.match(value) and not _YAML_RESERVED.match(value):
        return value
    if _bare_reads_back(value):
        return value
    return _yaml_quoted(value)


_PSYCH_NUMBER = re.compile(r"^[-+]?[0-9][0-9_,]*(?:\.[0-9_]*)?$")
"""Ruby's YAML (Psych, what Jekyll reads front matter with) also takes ``1,000`` as a
number, which PyYAML reads as a string: such a value is quoted as well."""


@lru_cache(maxsize=4096)
def _bare_reads_back(value: str) -> bool:
    """Whether ``key: <value>`` reads back, in YAML 1.1 (Jekyll's and PyYAML's), as exactly
    this string, and in our own front-matter reader too."""
    if not value or value != value.strip() or _YAML_UNPRINTABLE.search(value):
        return False
    if any(c in value for c in "\n\r\t\x00") or _PSYCH_NUMBER.match(value):
        return False
    import yaml  # only for the rare values the fast pattern does not settle

    line = f"k: {value}\n"
    try:
        loaded = yaml.safe_load(line)
    except yaml.YAMLError:
        return False
    if loaded != {"k": value}:
        return False
    match = SIMPLE_LINE.match(line.rstrip("\n"))
    return match is not None and match.group("plain") == value


def format_date(value: datetime) -> str:
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S +0800")


def render_post(article: Article, options: JekyllOptions) -> str:
    """The post in the original system's latest layout."""
    category = category_of(article, options)
    tag = tag_of(article)
    front = (
        "---\n"
        "layout: post\n"
        f"title: {_yaml_quoted(article.title)}\n"
        f"date: {format_date(article.published)}\n"
        f"categories: {_yaml_scalar(category)}\n"
        f"tags: {_yaml_scalar(tag)}\n"
        "---\n"
    )
    site = options.site_url.rstrip("/")
    if options.clean_body:
        from finews.process.clean import clean_body

        article = replace(article, body_html=clean_body(article.body_html, article.url))
    if is_rolling(article):
        quote = "\n".join(f"> {line}" if line else ">" for line in article.digest.split("\n"))
        middle = f"{quote}\n\n{article.body_html}" if article.body_html else quote
        links = f"[返回{ROLLING_TAG}]({site}/{ROLLING_CATEGORY}/)｜[返回首页]({site}/)"
        return f"{front}{middle}\n\n<{article.url}>\n\n{links}"
    share = options.share_link.replace("{id}", article.upstream_id)
    if (
        article.source.split(".")[0] not in {"eastmoney", JEKYLL_SOURCE}
        and article.url
        and _safe_id(article.upstream_id) == article.upstream_id
    ):
        # the share page is Eastmoney's: another outlet's id there opens nothing (or
        # another article); its own address is the link that works, and re-import finds
        # the id in the file name — which holds it only when it needs no escaping (a
        # feed's id is often a URL: such a post keeps the id in the share link)
        share = article.url
    links = f"[返回{tag}]({site}/category/{category}.html)｜[返回首页]({site}/)"
    return f"{front}{article.body_html}\n\n<{share}>\n\n{links}"


_UNSAFE_ID = re.compile(r"[^0-9A-Za-z_.-]+")


def _safe_id(upstream_id: str) -> str:
    """An upstream id as a file name may hold it."""
    return _UNSAFE_ID.sub("_", upstream_id).strip("._")


def post_filename(article: Article) -> str:
    """``YYYY-MM-DD-<id>.md``, dated in Beijing time, as the original named posts.

    Ids from sources other than Eastmoney and imported posts are prefixed with
    the source's first word (``cls-2370637``), so that two sources' numeric ids
    cannot collide in one folder.
    """
    day = article.published_beijing.strftime("%Y-%m-%d")
    ident = _safe_id(article.upstream_id) or "post"
    family = article.source.split(".")[0]
    if family not in {"eastmoney", JEKYLL_SOURCE}:
        ident = f"{family}-{ident}"
    return f"{day}-{ident}.md"


def render_category_page(category: str, title: str) -> str:
    """A Jekyll page listing one category's posts (Liquid does the listing)."""
    permalink = f"/{category}/" if category == ROLLING_CATEGORY else f"/category/{category}.html"
    return (
        "---\n"
        "layout: page\n"
        f"title: {_yaml_scalar(title)}\n"
        f"category: {category}\n"
        f"permalink: {permalink}\n"
        "---\n"
        '<ul class="post-list">\n'
        f"{{% for post in site.categories.{category} %}}"
        '<li><span class="post-meta">{{ post.date | date: "%Y-%m-%d %H:%M" }}</span> '
        '<a href="{{ post.url | relative_url }}">{{ post.title | escape }}</a></li>\n'
        "{% endfor %}\n"
        "</ul>\n"
    )
