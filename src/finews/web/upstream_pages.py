"""The web app's pages for what upstreams give beyond articles (issue #15): topic pages
and feeds (财联社 subjects, 华尔街见闻 channels) and the calendar of 金十's data releases.

They live in the web app rather than the static site while the site builder is being
refactored (#16) and the listing templates redone (#12); see docs/design.md.  The pages
sit at the root (``topics?id=…``, ``calendar?date=…``) so that the site's chrome, whose
links are relative, works on them unchanged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from finews.model import BEIJING, Article
from finews.process.headline import headline_of, shown_text
from finews.site import paths
from finews.site.feeds import feed_entry, json_feed, with_entries
from finews.site.formats import iso_time, rfc822_time
from finews.site.stream import FOLD_AT
from finews.store import Store, calendar, topics
from finews.web.pages import Templates

TOPIC_PAGE = 100


def _article(a: Article) -> dict[str, Any]:
    ts = int(a.published.timestamp())
    title = headline_of(a.title, a.digest)
    headline, text = shown_text(title, a.digest)
    return {
        "path": paths.article_path(a.source, a.upstream_id, ts),
        "title": title,
        "headline": headline,  # printed in bold; an untitled flash's text says it
        "bracketed": title.startswith("【"),
        "text": text,
        "fold": len(text) > FOLD_AT,
        "date": a.published_beijing.strftime("%m-%d"),
        "clock": a.published_beijing.strftime("%H:%M"),
        "time": a.published_beijing.strftime("%Y-%m-%d %H:%M"),
        "iso": a.published_beijing.isoformat(),
        "media": a.media or a.source,
        "important": a.important,
        "stocks": [s.as_dict() | {"move": s.move} for s in a.stocks],
        "audio_url": a.audio_url if a.audio_url.startswith(("https://", "http://")) else "",
    }


def topics_page(
    store: Store, templates: Templates, topic_id: str, page: int = 1
) -> tuple[str, int]:
    """Every topic, or one page of a topic's articles, newest first, as stream lines (404
    for a topic nobody filed under).  The total is the topic's, not the page's: the list of
    topics said 111 where the topic's page said 共 100 条 and offered no way to the rest
    (wave 12's walk)."""
    if topic_id:
        total = topics.topic_count(store, topic_id)
        pages = max(1, -(-total // TOPIC_PAGE))
        page = min(max(1, page), pages)
        name, articles = topics.topic_articles(
            store, topic_id, TOPIC_PAGE, offset=(page - 1) * TOPIC_PAGE
        )
        if not articles:
            html = templates.render("topics.html", topic=None, topics=[], articles=[])
            return html, 404
        here = "topics?id=" + quote(topic_id, safe="")
        return (
            templates.render(
                "topics.html",
                topic={"id": topic_id, "name": name},
                articles=[_article(a) for a in articles],
                topics=[],
                total=total,
                page=page,
                pages=pages,
                newer=(here if page == 2 else f"{here}&page={page - 1}") if page > 1 else "",
                older=f"{here}&page={page + 1}" if page < pages else "",
            ),
            200,
        )
    rows = [
        {
            "id": t.id,
            "name": t.name,
            "articles": t.articles,
            "newest": datetime.fromtimestamp(t.newest_at, BEIJING).strftime("%Y-%m-%d %H:%M"),
        }
        for t in topics.topics(store)
    ]
    return templates.render("topics.html", topic=None, topics=rows, articles=[]), 200


def topic_feed(
    store: Store, templates: Templates, topic_id: str, kind: str, base_url: str
) -> str | None:
    """A topic as an Atom, RSS or JSON feed, with spoken versions as enclosures; None for
    an unknown topic."""
    name, articles = topics.topic_articles(store, topic_id, 50)
    if not articles:
        return None
    entries = [feed_entry(a, base_url, enclosures=True) for a in articles]
    updated = int(articles[0].published.timestamp())

    query = "id=" + quote(topic_id, safe="")
    feed = {
        "title": f"{templates.site['title']} · 话题：{name}",
        "id": f"{base_url}feeds/topic.atom?{query}",
        "self_url": f"{base_url}feeds/topic.{kind}?{query}",
        "home_url": f"{base_url}topics?{query}",
        "updated": iso_time(updated),
        "updated_rfc822": rfc822_time(updated),
    }
    if kind == "json":
        return json_feed(feed, base_url, entries, feed_url=feed["self_url"])
    return templates.env.get_template("atom.xml" if kind == "atom" else "rss.xml").render(
        site=templates.site, feed=with_entries(feed, entries, kind), entries=entries
    )


def calendar_page(store: Store, templates: Templates, day: str) -> tuple[str, int]:
    """One Beijing day of data releases (default: the latest day that has some)."""
    error = ""
    try:
        events = calendar.events_on(store, day or None)
    except ValueError:
        error, events = f"日期 {day!r} 无效，请使用 YYYY-MM-DD 格式", []
    shown = day or (events[0].released.astimezone(BEIJING).date().isoformat() if events else "")
    html = templates.render(
        "calendar.html",
        day=shown,
        error=error,
        days=calendar.days(store),
        events=[
            {
                **e.as_dict(),
                "time": e.released.astimezone(BEIJING).strftime("%H:%M"),
                "iso": e.released.astimezone(BEIJING).isoformat(),
            }
            for e in events
        ],
    )
    return html, 400 if error else 200
