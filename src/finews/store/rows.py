"""An article's row and back: the one place that knows how an :class:`Article` is laid
out in the ``articles`` table (its stocks as JSON, its section, its body as published)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping

from finews.model import Article, StockTag, Topic, from_epoch
from finews.process.clean import CLEAN_REVISION


def stocks_json(stocks: Sequence[StockTag]) -> str:
    return json.dumps([s.as_dict() for s in stocks], ensure_ascii=False)


def _stocks_from_json(text: str) -> tuple[StockTag, ...]:
    if not text or text == "[]":  # most articles: no JSON to parse
        return ()
    return tuple(StockTag(**item) for item in json.loads(text))


def topics_json(topics: Sequence[Topic]) -> str:
    return json.dumps([t.as_dict() for t in topics], ensure_ascii=False) if topics else "[]"


def _topics_from_json(text: str) -> tuple[Topic, ...]:
    if not text or text == "[]":
        return ()
    return tuple(Topic(**item) for item in json.loads(text))


def row_values(article: Article) -> dict[str, Any]:
    return {
        "source": article.source,
        "upstream_id": article.upstream_id,
        "title": article.title,
        "published_at": int(article.published.timestamp()),
        "media": article.media,
        "category": article.category,
        "url": article.url,
        "digest": article.digest,
        "body_html": article.body_html,
        "stocks": stocks_json(article.stocks),
        "important": article.important,
        "body_complete": article.body_complete,
        "raw": article.raw,
        "content_hash": article.content_hash(),
        "section": section_of(article),
        # the upstream's topic pages and spoken version (#15)
        "topics": topics_json(article.topics),
        "audio_url": article.audio_url,
    }


def published_values(article: Article, body_clean: str) -> dict[str, Any]:
    """The row of an article as written: its values and the body as published."""
    return {**row_values(article), "body_clean": body_clean, "clean_revision": CLEAN_REVISION}


def section_of(article: Article) -> str:
    """Where the site lists the article: its declared category, else its media."""
    return article.category or article.media or article.source


def row_to_article(row: RowMapping) -> Article:
    return Article(
        source=row["source"],
        upstream_id=row["upstream_id"],
        title=row["title"],
        published=from_epoch(row["published_at"]),
        media=row["media"],
        url=row["url"],
        digest=row["digest"],
        body_html=row["body_html"],
        stocks=_stocks_from_json(row["stocks"]),
        important=bool(row["important"]),
        category=row["category"],
        body_complete=bool(row.get("body_complete", True)),
        raw=row.get("raw", ""),
        topics=_topics_from_json(row.get("topics") or ""),
        audio_url=row.get("audio_url") or "",
    )
