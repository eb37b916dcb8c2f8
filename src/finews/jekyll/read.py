"""Reading posts: every layout the original site wrote, into :class:`~finews.model.Article`\\ s
(pure: text in, article out; see the package's docstring for the layouts)."""

from __future__ import annotations

import re
from pathlib import PurePath

from finews.errors import JekyllFormatError
from finews.jekyll import DEFAULT_ROLLING_MEDIA, JEKYLL_SOURCE
from finews.jekyll.slug import media_slug
from finews.model import ROLLING_CATEGORY, Article, parse_beijing
from finews.process.text import em_credit

_TAIL = re.compile(
    r"\n\n<(?P<url>[^<>\n]*)>"
    r"(?:\n\n(?P<links>\[返回[^\n]*\]\([^\n]*\)(?:\n\[返回[^\n]*\]\([^\n]*\))?))?"
    r"\n*\Z"
)
_INFOCODE = re.compile(r"[?&]infoCode=([^&#]+)")
_ARTICLE_CODE = re.compile(r"(?:,|/a/)([0-9A-Za-z]+)\.html")
_FILENAME_ID = re.compile(r"^(?:\d{4}-\d{2}-\d{2})?-?(?P<id>[^/]+?)\.(?:md|markdown|html|txt)$")
_TRAILING_MEDIA = re.compile(
    r"[（(](?P<media>[^（）()，。、\s]{1,12}(?:报|社|网|网站|新闻|客户端|数据|财经|电视台|周刊|杂志))[）)]\s*$"
)


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


SIMPLE_LINE = re.compile(
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
        match = SIMPLE_LINE.match(line)
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
    credit = em_credit(body)
    if credit is not None:
        return credit or DEFAULT_ROLLING_MEDIA
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
            credit = em_credit(article_body)
            media = credit if credit is not None else category
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


_FAMILY_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}-(?P<family>[a-z][a-z0-9]*)-")


def origin_family(path: str) -> str:
    """The source family a post exported by finews came from, read off its file name as
    :func:`post_filename` wrote it: ``2026-06-16-cls-2370637.md`` → ``cls``; no prefix →
    ``eastmoney`` (the original's own posts, and Eastmoney's, carry none).  With the id
    of the share link or article URL this is enough to recognise, on import, an article
    the store already holds under its real source (issue #13)."""
    match = _FAMILY_PREFIX.match(PurePath(path).name)
    return match.group("family") if match else "eastmoney"
