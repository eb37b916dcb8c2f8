"""Posts of the original "金融消息" Jekyll site: parse every layout, render the latest.

Two kinds of post exist.  *Media news* (categories = pinyin slug of the media):

    <front matter><body HTML>⏎⏎<share link>⏎⏎
    [返回X新闻](site/category/slug.html)｜[返回首页](site/)

*Rolling news* (categories = ``emnews``), latest layout:

    <front matter>> digest⏎⏎<body HTML>⏎⏎<article URL>⏎⏎
    [返回东财滚动新闻](site/emnews/)｜[返回首页](site/)

(⏎ is a newline; the last line has none; the back-links are one line.)

Older rolling layouts put the digest as a plain paragraph, had no body, put
the back-links on two lines or left them out, and used other site domains.
All of them parse; :func:`render_post` always writes the latest layout, and a
post already in it round-trips byte for byte.  Both functions are pure.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from pathlib import PurePath

from finews.errors import JekyllFormatError
from finews.formats.slug import media_slug
from finews.model import BEIJING, ROLLING_CATEGORY, Article, parse_beijing
from finews.process.text import strip_tags

JEKYLL_SOURCE = "jekyll"
ROLLING_TAG = "东财滚动新闻"
DEFAULT_ROLLING_MEDIA = "东方财富"

_TAIL = re.compile(
    r"\n\n<(?P<url>[^<>\n]*)>"
    r"(?:\n\n(?P<links>\[返回[^\n]*\]\([^\n]*\)(?:\n\[返回[^\n]*\]\([^\n]*\))?))?"
    r"\n*\Z"
)
_INFOCODE = re.compile(r"[?&]infoCode=([^&#]+)")
_ARTICLE_CODE = re.compile(r"(?:,|/a/)([0-9A-Za-z]+)\.html")
_FILENAME_ID = re.compile(r"^(?:\d{4}-\d{2}-\d{2})?-?(?P<id>[^/]+?)\.(?:md|markdown|html|txt)$")
_EM_MEDIA = re.compile(r'<p class="em_media">（文章来源：(?P<media>.*?)）</p>', re.S)
_TRAILING_MEDIA = re.compile(
    r"[（(](?P<media>[^（）()，。、\s]{1,12}(?:报|社|网|网站|新闻|客户端|数据|财经|电视台|周刊|杂志))[）)]\s*$"
)


@dataclass(frozen=True)
class JekyllOptions:
    """What the renderer needs from the settings."""

    site_url: str = "//finews.withounder.com"
    share_link: str = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode={id}"
    ascii_slugs: bool = False
    clean_body: bool = False
    """Write the sanitised body instead of the upstream HTML as the original did."""


# -- parsing ---------------------------------------------------------------


def decode_post(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JekyllFormatError(
            f"not UTF-8 (byte {exc.start}: {data[exc.start : exc.start + 1]!r})", where
        ) from None


def split_front_matter(text: str, where: str) -> tuple[dict[str, str], str]:
    """Front matter as a string mapping, and the body after it."""
    if not text.startswith("---\n"):
        raise JekyllFormatError("no front matter (the file does not start with ---)", where)
    end = text.find("\n---\n", 3)
    if end < 0:
        if text.endswith("\n---"):
            end = len(text) - 4
        else:
            raise JekyllFormatError("front matter is not closed by ---", where)
    header = text[4 : end + 1]
    body = text[end + 5 :]
    return _parse_header(header, where), body


_SIMPLE_LINE = re.compile(
    r"^(?P<key>[A-Za-z_][A-Za-z0-9_-]*):"
    r'(?: (?:"(?P<q>[^"\\]*)"|(?P<plain>[^\s\[{&*!|>\'"%@`#][^#]*?)))?\s*$'
)


def _parse_header(header: str, where: str) -> dict[str, str]:
    """Front matter as strings.

    The original wrote one ``key: value`` per line; that form is read
    directly (fast, and most posts are in it).  Anything else goes through
    YAML.  The original also wrote titles with raw quotes, which YAML
    rejects; for those the line form it actually produced is read leniently.
    """
    fields: dict[str, str] = {}
    for line in header.splitlines():
        match = _SIMPLE_LINE.match(line)
        if match is None or ": " in (match.group("plain") or ""):
            break
        fields[match.group("key")] = match.group("q") or match.group("plain") or ""
    else:
        if fields:
            return fields
    import yaml  # here: most headers take the fast path, and start-up time counts

    try:
        loaded = yaml.load(header, Loader=yaml.BaseLoader)
    except yaml.YAMLError:
        loaded = None
    if isinstance(loaded, dict):
        return {str(k): _first(v) for k, v in loaded.items()}
    return _lenient_header(header, where)


def _lenient_header(header: str, where: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in header.splitlines():
        if not line.strip() or line.startswith((" ", "#")):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise JekyllFormatError(f"broken front matter line {line!r}", where)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        fields[key.strip()] = value
    if not fields:
        raise JekyllFormatError("empty front matter", where)
    return fields


def _first(value: object) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    if value is None:
        return ""
    return str(value)


def _id_from_path(path: str) -> str:
    match = _FILENAME_ID.match(PurePath(path).name)
    return match.group("id") if match else ""


def _media_of_rolling(digest: str, body: str) -> str:
    match = _EM_MEDIA.search(body)
    if match:
        return strip_tags(match.group("media")).strip() or DEFAULT_ROLLING_MEDIA
    match = _TRAILING_MEDIA.search(digest)
    if match:
        return match.group("media")
    return DEFAULT_ROLLING_MEDIA


def parse_post(text: str, where: str = "") -> Article:
    """One post (its text; ``where`` is its path, for ids and messages) → an article."""
    meta, body = split_front_matter(text, where)
    title = meta.get("title", "").strip()
    if not title:
        raise JekyllFormatError("empty or missing title", where)
    date_text = meta.get("date", "").strip()
    if not date_text or date_text.startswith("+"):
        raise JekyllFormatError("empty or missing date", where)
    try:
        published = parse_beijing(date_text)
    except ValueError as exc:
        raise JekyllFormatError(f"bad date: {exc}", where) from None
    category = meta.get("categories", meta.get("category", "")).strip()
    tags = meta.get("tags", "").strip()
    if not category:
        raise JekyllFormatError("no categories in front matter", where)

    tail = _TAIL.search(body)
    if tail is None:
        raise JekyllFormatError("unknown layout: no <link> line near the end", where)
    link = tail.group("url").strip()
    head = body[: tail.start()]

    if category == ROLLING_CATEGORY:
        if head.startswith(">"):
            quote, _, article_body = head.partition("\n\n")
            digest = "\n".join(_unquote(line) for line in quote.split("\n"))
        else:
            digest, article_body = head.strip("\n"), ""
        match = _ARTICLE_CODE.search(link)
        upstream_id = match.group(1) if match else _id_from_path(where)
        media = _media_of_rolling(digest, article_body)
        url = link
    else:
        article_body, digest = head, ""
        match = _INFOCODE.search(link)
        upstream_id = match.group(1) if match else _id_from_path(where)
        media = tags.removesuffix("新闻") if tags else ""
        if not media:
            em = _EM_MEDIA.search(article_body)
            media = strip_tags(em.group("media")).strip() if em else category
        url = link
        if category == media_slug(media).strip():  # the front matter value is stripped
            category = ""  # derivable from the media: the article is listed under its media
    if not upstream_id:
        raise JekyllFormatError("cannot tell the article id (no link, no dated filename)", where)
    return Article(
        source=JEKYLL_SOURCE,
        upstream_id=upstream_id,
        title=title,
        published=published,
        media=media,
        url=url,
        digest=digest,
        body_html=article_body,
        category=category,
        raw=text,
    )


def post_identity(text: str, where: str) -> str:
    """The upstream id of a post as :func:`parse_post` would take it, read off its link
    line or file name only: enough to recognise finews's own export of an article whose
    front matter the original format cannot carry (a flash without a title)."""
    tail = _TAIL.search(text)
    link = tail.group("url").strip() if tail else ""
    match = _INFOCODE.search(link) or _ARTICLE_CODE.search(link)
    return match.group(1) if match else _id_from_path(where)


def _unquote(line: str) -> str:
    if line.startswith("> "):
        return line[2:]
    return line[1:] if line.startswith(">") else line


# -- rendering -------------------------------------------------------------


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
    match = _SIMPLE_LINE.match(line.rstrip("\n"))
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
    links = f"[返回{tag}]({site}/category/{category}.html)｜[返回首页]({site}/)"
    return f"{front}{article.body_html}\n\n<{share}>\n\n{links}"


_UNSAFE_ID = re.compile(r"[^0-9A-Za-z_.-]+")


def post_filename(article: Article) -> str:
    """``YYYY-MM-DD-<id>.md``, dated in Beijing time, as the original named posts.

    Ids from sources other than Eastmoney and imported posts are prefixed with
    the source's first word (``cls-2370637``), so that two sources' numeric ids
    cannot collide in one folder.
    """
    day = article.published_beijing.strftime("%Y-%m-%d")
    ident = _UNSAFE_ID.sub("_", article.upstream_id).strip("._") or "post"
    family = article.source.split(".")[0]
    if family not in {"eastmoney", JEKYLL_SOURCE}:
        ident = f"{family}-{ident}"
    return f"{day}-{ident}.md"


_FAMILY_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}-(?P<family>[a-z][a-z0-9]*)-")


def origin_family(path: str) -> str:
    """The source family a post exported by finews came from, read off its file name as
    :func:`post_filename` wrote it: ``2026-06-16-cls-2370637.md`` → ``cls``; no prefix →
    ``eastmoney`` (the original's own posts, and Eastmoney's, carry none).  With the id
    of the share link or article URL this is enough to recognise, on import, an article
    the store already holds under its real source (issue #13)."""
    match = _FAMILY_PREFIX.match(PurePath(path).name)
    return match.group("family") if match else "eastmoney"


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
