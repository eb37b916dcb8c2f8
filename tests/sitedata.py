"""A fixed set of real articles for the site tests.

The real posts in tests/data/jekyll/real (with the seed) and the first 40 real
7×24 items of tests/data/eastmoney (normalised by the real adapter, list
content only), so the site shows both kinds, stocks and important items.
"""

from __future__ import annotations

import json
from pathlib import Path

from daydata import flash_article
from finews.model import Article
from finews.process.pipeline import Processor
from finews.sources.eastmoney import normalise_fast
from finews.store import Store
from standin import real_fast_items, real_posts

STORY_CASES = Path(__file__).parent / "data" / "flash" / "story_cases.jsonl"

BASE_URL = "https://news.example.org/finews/"


def real_articles(fast: int = 40, posts: int | None = None) -> list[Article]:
    jekyll = real_posts()
    if posts is not None:
        jekyll = jekyll[:posts]
    items = [normalise_fast(i, "https://finance.eastmoney.com") for i in real_fast_items()[:fast]]
    return jekyll + items


def populate(store: Store, **kw: int | None) -> list[Article]:
    """Store the real articles as finews ingests them (stock tagging first)."""
    processor = Processor.default()
    articles = [processor(a) for a in real_articles(**kw)]  # type: ignore[arg-type]
    store.save(articles)
    return articles


def story_case_articles(case: str) -> list[Article]:
    """The real flashes of one case of tests/data/flash/story_cases.jsonl (issue #10), as
    the adapters and the stock tagger make them, oldest first."""
    process = Processor.default()
    records = [json.loads(line) for line in STORY_CASES.read_text(encoding="utf-8").splitlines()]
    found = [process(flash_article(r)) for r in records if r["case"] == case]
    return sorted(found, key=lambda a: (a.published, a.key))
