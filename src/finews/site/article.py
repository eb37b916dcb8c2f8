"""The parts of an article page, and an article's line in a listing.  Pure: an
article in, escaped HTML fragments out.

The fragments are escaped here with ``html.escape`` (C) rather than by one Jinja
expression each: article pages are most of a build's pages.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from finews.model import Article
from finews.process.clean import clean_body, text_to_html
from finews.process.text import adds_to, says_the_same, strip_tags
from finews.site import paths
from finews.site.formats import iso_time, item_path, section_title, short_time
from finews.site.stocknames import stock_chip
from finews.site.stories import Heat, story_path
from finews.store.sitequeries import Item


def article_parts(
    a: Article,
    path: str,
    section: str,
    slug: str,
    peers: Sequence[Item],
    body: str | None = None,
    story: tuple[int, Heat] | None = None,
) -> dict[str, Any]:
    """What ``article.html`` shows; ``peers`` are other reports of the same story (at most
    :data:`~finews.site.stories.MAX_PEERS`), ``story`` its id and heat (linked to its page),
    ``body`` the sanitised body as stored (None: sanitised here)."""
    e = html.escape
    root = paths.root_of(path)
    published_at = int(a.published.timestamp())
    if body is None:
        body = clean_body(a.body_html, a.url)
    day = paths.day_of(published_at)
    title = section_title(section)
    stocks = "".join(stock_chip(root, s.code, s.name) for s in a.stocks)
    meta = (
        f'<span><time datetime="{iso_time(published_at)}">'
        f"{a.published_beijing.replace(tzinfo=None).isoformat(' ', 'seconds')} (UTC+8)</time>"
        "</span>"
        + (f"<span>{e(a.media)}</span>" if a.media != title else "")
        + f'<span><a href="{root}c/{e(slug)}/index.html">{e(title)}</a></span>'
        + (f'<span class="chips">{stocks}</span>' if stocks else "")
    )
    url = a.url if a.url.startswith(("http://", "https://")) else ""
    link = (
        f'<p class="meta">原文：<a href="{e(url)}" rel="noopener noreferrer nofollow" '
        f'target="_blank">{e(url)}</a></p>\n'
        if url
        else ""
    )
    also = ""
    if peers:
        links = "".join(
            f'<li><a href="{root}{item_path(p)}">{e(p.media)}：{e(p.title)}</a> '
            f"<time>{short_time(p.published_at)}</time></li>"
            for p in peers
        )
        more = ""
        if story is not None:
            cluster, heat = story
            more = (
                f'<p class="story-link"><a href="{root}{story_path(cluster)}">'
                f"此事共 {heat.reports} 篇报道（{heat.outlets} 家媒体），按时间看全部 →</a></p>"
            )
        also = f'<section class="also"><h2>也报道了此事</h2><ul>{links}</ul>{more}</section>\n'
    back = (
        f'<a href="{root}c/{e(slug)}/index.html">返回{e(title)}</a> ｜ '
        f'<a href="{root}d/{day}.html">{day} 全部消息</a> ｜ '
        f'<a href="{root}index.html">返回首页</a>'
    )
    return {
        "title": a.title,
        "mark": Markup('<span class="important-mark">【重要】</span>') if a.important else "",
        "meta": Markup(meta),
        "lead": (
            Markup(f"<blockquote>{e(a.digest)}</blockquote>\n")
            if a.digest and body and not repeats(a.digest, body)
            else ""
        ),
        "body": Markup(
            without_headline(body or text_to_html(a.digest) or text_to_html(a.title), a.title)
        ),
        "source_link": Markup(link + also),
        "backlinks": Markup(back),
    }


def repeats(digest: str, body_html: str) -> bool:
    """Whether the body already says what the digest says: a flash's digest is its text
    (or its start, or an earlier wording of it), and printing both showed the same text
    twice (issue #12)."""
    # only the body's start can say it: a long article's body is not read to the end
    start = html.unescape(strip_tags(body_html[: len(digest) * 3 + 200]))
    digest = html.unescape(digest)
    # the same text, or its start, or another version of it (a reworded, shortened brief)
    return says_the_same(digest, start) or not adds_to(digest, start)


def without_headline(body_html: str, title: str) -> str:
    """The body without a leading 【title】 when that is the page's heading already."""
    if not title or not body_html.startswith("<p>【"):
        return body_html
    lead = f"<p>【{html.escape(title, quote=False)}】"
    if body_html.startswith(lead) and not body_html.startswith(f"{lead}</p>"):
        return "<p>" + body_html[len(lead) :]
    return body_html
