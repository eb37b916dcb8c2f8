"""Feed entries and the JSON Feed document.  Pure functions.

Atom and RSS are Jinja templates (``atom.xml``, ``rss.xml``); each entry's
``<entry>`` and ``<item>`` are built here (``atom``, ``rss``: most of a feed is
its entries, and ten Jinja2 expressions an entry were most of its cost), with
the entry's fields beside them for templates that want their own markup.
JSON Feed is built here.  Entry ids are ``tag:`` URIs, stable whatever the
site's address.
"""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup

from finews.model import Article
from finews.process.clean import clean_body, text_to_html
from finews.site import paths
from finews.site.escaping import escape_text, joined_lines
from finews.site.formats import iso_time, rfc822_time, section_title


def feed_entry(
    a: Article, base_url: str, body: str | None = None, *, enclosures: bool = False
) -> dict[str, Any]:
    """An article's entry in a feed; ``body`` is its sanitised body as stored (None:
    sanitised here).  With ``enclosures``, an article's spoken version (财联社
    ``audio_url``) is the entry's enclosure (issue #15; off by default so that the
    static site's feeds stay as they are until its builder asks for them)."""
    ts = int(a.published.timestamp())
    base = base_url.rstrip("/") + "/"
    if body is None:
        body = clean_body(a.body_html, a.url)
    body = body or text_to_html(a.digest) or text_to_html(a.title)
    entry = {
        "id": f"tag:finews,2021:{a.source}/{a.upstream_id}",
        "title": a.title,
        "iso": iso_time(ts),
        "rfc822": rfc822_time(ts),
        "url": base + paths.article_path(a.source, a.upstream_id, ts),
        "media": a.media or a.source,
        "section": section_title(a.category or a.media or a.source),
        "digest": a.digest,
        "content": body,
        "audio": a.audio_url if enclosures and _safe_audio(a.audio_url) else "",
    }
    entry["atom"] = atom_entry(entry)
    entry["rss"] = rss_item(entry)
    return entry


def _safe_audio(url: str) -> bool:
    return url.startswith(("https://", "http://")) and not any(c in url for c in " <>\"'")


def _audio_type(url: str) -> str:
    lowered = url.lower().split("?")[0]
    for ext, kind in ((".m4a", "audio/mp4"), (".aac", "audio/aac"), (".ogg", "audio/ogg")):
        if lowered.endswith(ext):
            return kind
    return "audio/mpeg"


def atom_entry(e: dict[str, Any]) -> Markup:
    """An Atom ``<entry>``, escaped as the template's expressions were (markupsafe's bytes)."""
    x = {k: escape_text(e[k]) for k in ("id", "title", "iso", "url", "media", "section", "content")}
    summary = f"\n<summary>{escape_text(e['digest'])}</summary>" if e["digest"] else ""
    return Markup(
        f"<entry>\n<id>{x['id']}</id>\n<title>{x['title']}</title>\n"
        f"<updated>{x['iso']}</updated>\n<published>{x['iso']}</published>\n"
        f'<link rel="alternate" type="text/html" href="{x["url"]}"/>\n'
        f"<author><name>{x['media']}</name></author>\n"
        f'<category term="{x["section"]}"/>{summary}\n'
        f'<content type="html">{x["content"]}</content>\n{_atom_enclosure(e)}</entry>'
    )


def _atom_enclosure(e: dict[str, Any]) -> str:
    audio = e.get("audio") or ""
    if not audio:
        return ""
    kind = _audio_type(audio)
    return f'<link rel="enclosure" type="{kind}" href="{escape_text(audio)}"/>\n'


def _rss_enclosure(e: dict[str, Any]) -> str:
    audio = e.get("audio") or ""
    if not audio:
        return ""
    kind = _audio_type(audio)
    return f'<enclosure url="{escape_text(audio)}" length="0" type="{kind}"/>\n'


def rss_item(e: dict[str, Any]) -> Markup:
    """An RSS ``<item>``, escaped as the template's expressions were (markupsafe's bytes)."""
    x = {k: escape_text(e[k]) for k in ("id", "title", "rfc822", "url", "section", "content")}
    return Markup(
        f"<item>\n<title>{x['title']}</title>\n<link>{x['url']}</link>\n"
        f'<guid isPermaLink="false">{x["id"]}</guid>\n<pubDate>{x["rfc822"]}</pubDate>\n'
        f"<category>{x['section']}</category>\n<description>{x['content']}</description>\n"
        f"{_rss_enclosure(e)}</item>"
    )


def with_entries(feed: dict[str, Any], entries: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    """``feed`` with ``entries``: its entries' ``<entry>`` (``kind`` "atom") or ``<item>``
    ("rss") elements in one piece, as ``atom.xml`` and ``rss.xml`` print them."""
    return {**feed, "entries": joined_lines(str(e[kind]) for e in entries)}


def json_feed(
    feed: dict[str, Any],
    prefix_url: str,
    entries: list[dict[str, Any]],
    feed_url: str | None = None,
) -> str:
    """A JSON Feed 1.1 document (at ``<prefix_url>feed.json`` unless ``feed_url`` says)."""
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed["title"],
        "home_page_url": feed["home_url"],
        "feed_url": feed_url or prefix_url + "feed.json",
        "language": "zh-CN",
        "items": [
            {
                "id": e["id"],
                "url": e["url"],
                "title": e["title"],
                "content_html": e["content"],
                **({"summary": e["digest"]} if e["digest"] else {}),
                "date_published": e["iso"],
                "authors": [{"name": e["media"]}],
                "tags": [e["section"]],
                **(
                    {"attachments": [{"url": e["audio"], "mime_type": _audio_type(e["audio"])}]}
                    if e.get("audio")
                    else {}
                ),
            }
            for e in entries
        ],
    }
    # compact: json's C encoder does not indent, and feeds are many
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"
