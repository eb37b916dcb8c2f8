"""Feed entries and the JSON Feed document.  Pure functions.

Atom and RSS are Jinja templates (``atom.xml``, ``rss.xml``); JSON Feed is
built here.  Entry ids are ``tag:`` URIs, stable whatever the site's address.
"""

from __future__ import annotations

import json
from typing import Any

from finews.model import Article
from finews.process.clean import clean_body, text_to_html
from finews.site import paths
from finews.site.formats import iso_time, rfc822_time, section_title


def feed_entry(a: Article, base_url: str) -> dict[str, Any]:
    ts = int(a.published.timestamp())
    base = base_url.rstrip("/") + "/"
    body = clean_body(a.body_html, a.url) or text_to_html(a.digest) or text_to_html(a.title)
    return {
        "id": f"tag:finews,2021:{a.source}/{a.upstream_id}",
        "title": a.title,
        "iso": iso_time(ts),
        "rfc822": rfc822_time(ts),
        "url": base + paths.article_path(a.source, a.upstream_id, ts),
        "media": a.media or a.source,
        "section": section_title(a.category or a.media or a.source),
        "digest": a.digest,
        "content": body,
    }


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
            }
            for e in entries
        ],
    }
    # compact: json's C encoder does not indent, and feeds are many
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"
