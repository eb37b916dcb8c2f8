"""Any RSS, Atom or JSON Feed a user adds, through feedparser (JSON Feed read directly:
feedparser does not know it), and OPML lists of feeds in and out.

A feed is one page (feeds do not page back).  An entry's id is its ``id``/``guid``, else
its link, else a hash of its title and date; its time is the published (else updated)
time, else the time it was first seen; its body is the full content when the feed has
it, else the summary — cleaned at publish time like every body.
"""

from __future__ import annotations

import calendar
import hashlib
import ipaddress
import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

import feedparser
import lxml.etree

from finews.errors import FetchError, InputError, UpstreamFormatError
from finews.fetch import Fetcher
from finews.fetch.decode import decode_text
from finews.model import Article, from_epoch
from finews.process.clean import text_to_html
from finews.sources.base import Page
from finews.sources.common import plain, raw_json, title_from_text


def _entry_id(*parts: object) -> str:
    return hashlib.sha1("\x00".join(str(p) for p in parts).encode()).hexdigest()[:20]


def _epoch(struct: Any) -> int | None:
    return calendar.timegm(struct) if struct else None


def parse_xml_feed(data: bytes, key: str, media: str, now: int) -> tuple[str, Page]:
    parsed = feedparser.parse(data)
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        why = parsed.get("bozo_exception") or "no RSS or Atom document"
        raise UpstreamFormatError(f"not a feed: {why}", key)
    title = str(parsed.feed.get("title") or "")
    articles = []
    skipped = []
    for position, entry in enumerate(parsed.entries):
        link = str(entry.get("link") or "")
        ident = str(
            entry.get("id") or link or _entry_id(entry.get("title"), entry.get("published"))
        )
        content = entry.get("content") or []
        body = str(content[0].get("value") or "") if content else ""
        summary = str(entry.get("summary") or "")
        entry_title = plain(str(entry.get("title") or "")) or title_from_text(summary)
        if not entry_title and not body and not summary:
            skipped.append((ident or f"#{position}", "empty entry"))
            continue
        ts = _epoch(entry.get("published_parsed")) or _epoch(entry.get("updated_parsed")) or now
        articles.append(
            Article(
                source=key,
                upstream_id=ident[:200],
                title=entry_title,
                published=from_epoch(ts),
                media=media or title or key,
                url=link,
                digest=plain(summary)[:500],
                body_html=body or summary,
                body_complete=True,
                raw=raw_json({k: entry.get(k) for k in ("id", "link", "title", "published")}),
            )
        )
    return title, Page(tuple(articles), tuple(skipped))


def parse_json_feed(payload: Any, key: str, media: str, now: int) -> tuple[str, Page]:
    if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
        raise UpstreamFormatError("JSON Feed without items", key)
    title = str(payload.get("title") or "")
    articles = []
    skipped = []
    for position, item in enumerate(payload["items"]):
        if not isinstance(item, dict):
            skipped.append((f"#{position}", "item is not an object"))
            continue
        url = str(item.get("url") or "")
        ident = str(item.get("id") or url or _entry_id(item.get("title"), position))
        body = str(item.get("content_html") or "") or text_to_html(
            str(item.get("content_text") or "")
        )
        when = item.get("date_published") or item.get("date_modified")
        try:
            ts = int(datetime.fromisoformat(str(when)).timestamp()) if when else now
        except ValueError:
            ts = now
        text = plain(body) or str(item.get("summary") or "")
        articles.append(
            Article(
                source=key,
                upstream_id=ident[:200],
                title=str(item.get("title") or "").strip() or title_from_text(text),
                published=from_epoch(ts),
                media=media or title or key,
                url=url,
                digest=str(item.get("summary") or "")[:500],
                body_html=body,
                body_complete=True,
                raw=raw_json(item),
            )
        )
    return title, Page(tuple(articles), tuple(skipped))


ACCEPT = "application/feed+json, application/atom+xml, application/rss+xml, */*;q=0.5"


def private_address(url: str) -> str | None:
    """The private, loopback, link-local or otherwise internal address a URL's host
    resolves to, if any (a feed URL must not reach into the machine's own network)."""
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return None  # unresolvable: the fetch will fail and say so
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global or address.is_multicast:
            return str(address)
    return None


@dataclass
class FeedSource:
    url: str
    key: str
    media: str = ""
    allow_private: bool = False

    def _check(self, url: str) -> None:
        if self.allow_private:
            return
        internal = private_address(url)
        if internal:
            raise FetchError(
                f"refused: {urlsplit(url).hostname} is an internal address ({internal}); "
                "set sources.feeds_private to allow it",
                self.key,
            )

    def pages(self, fetcher: Fetcher) -> Iterator[Page]:
        self._check(self.url)
        response = fetcher.get(self.url, headers={"Accept": ACCEPT})
        self._check(response.url)  # where redirects led
        now = int(time.time())
        body = response.content.lstrip()
        if "json" in response.content_type or body.startswith(b"{"):
            try:
                payload = json.loads(decode_text(body))
            except ValueError as exc:
                raise UpstreamFormatError(f"JSON Feed: {exc}", self.key) from None
            _, page = parse_json_feed(payload, self.key, self.media, now)
        else:
            _, page = parse_xml_feed(response.content, self.key, self.media, now)
        yield page

    def complete(self, fetcher: Fetcher, article: Article) -> Article:
        return article


# -- OPML ------------------------------------------------------------------------------


def read_opml(data: bytes, where: str = "OPML") -> list[tuple[str, str]]:
    """(feed URL, title) of every outline with a usable ``xmlUrl``, nested folders included."""
    return read_opml_report(data, where)[0]


def read_opml_report(
    data: bytes, where: str = "OPML"
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(feed URL, title) of every outline with an ``xmlUrl``, and (URL, reason) of those
    whose ``xmlUrl`` is not an http(s) URL with a host: reported, never dropped silently."""
    from finews.config import check_url
    from finews.errors import ConfigError

    try:
        root = lxml.etree.fromstring(
            data, parser=lxml.etree.XMLParser(resolve_entities=False, no_network=True)
        )
    except lxml.etree.XMLSyntaxError as exc:
        raise InputError(f"not OPML: {exc}", where) from None
    tag = lxml.etree.QName(root).localname if isinstance(root.tag, str) else ""
    if tag != "opml":
        # an RSS or Atom file itself said "0 feeds" and succeeded
        hint = " (a feed itself: finews feeds add URL)" if tag in {"rss", "feed", "RDF"} else ""
        raise InputError(f"not OPML: the document is <{tag}>{hint}", where)
    found: list[tuple[str, str]] = []
    skipped: list[tuple[str, str]] = []
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or "").strip()
        if outline.get("xmlUrl") is None:
            continue  # a folder
        try:
            check_url(url, "feed URL")
        except ConfigError as exc:
            skipped.append((url, str(exc)))
            continue
        found.append((url, (outline.get("title") or outline.get("text") or "").strip()))
    return found, skipped


def write_opml(feeds: list[tuple[str, str]], title: str = "finews feeds") -> str:
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<opml version="2.0">',
        f"<head><title>{title}</title></head>",
        "<body>",
    ]
    for url, name in feeds:
        label = quoteattr(name or url)
        lines.append(f'<outline type="rss" text={label} title={label} xmlUrl={quoteattr(url)}/>')
    lines += ["</body>", "</opml>", ""]
    return "\n".join(lines)
