"""A fixed slice of one real day (tests/data/flash/briefing_2026-06-16.jsonl): the 98 flashes
of 财联社, 东方财富 and 同花顺 published on 2026-06-16 from 07:25 to 08:00 and from 09:30 to
09:45 Beijing time, copied from shared/corpus/flash with their upstream payloads.  Used by the
MCP, briefing and subscriber tests (issue #14), normalised by the real adapters and tagged by
the real stock tagger, as `finews fetch` would store them.  And a second slice
(tests/data/flash/briefing_tradingdays.jsonl) for the trading calendar of the briefings."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from finews.model import Article
from finews.process.pipeline import Processor
from finews.sources import cls, ths
from finews.sources.eastmoney import normalise_fast
from finews.store import Store

DAY_FILE = Path(__file__).parent / "data" / "flash" / "briefing_2026-06-16.jsonl"
TRADING_FILE = Path(__file__).parent / "data" / "flash" / "briefing_tradingdays.jsonl"
"""17 real 财联社 flashes around two weekends and the 端午 closure of 2026 (data/README.md)."""
DAY = "2026-06-16"
NOW = datetime.fromisoformat("2026-06-16T16:00:00+08:00").timestamp()
"""'Now' for the tests: the afternoon of that day, after the close."""


def flash_article(record: dict[str, Any]) -> Article:
    """A corpus record ({"source": cls|eastmoney|ths, "raw": the upstream's payload}) as its
    source's real adapter normalises it."""
    raw = record["raw"]
    if record["source"] == "cls":
        return cls.normalise(raw)
    if record["source"] == "eastmoney":
        return normalise_fast(raw, "https://finance.eastmoney.com")
    return ths.normalise(raw)


def day_articles(path: Path = DAY_FILE) -> list[Article]:
    """The slice's flashes (or another file's of the same records), oldest first."""
    process = Processor.default()
    found = [
        process(flash_article(json.loads(line)))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    return sorted(found, key=lambda a: (a.published, a.key))


def trading_articles() -> list[Article]:
    """The flashes of TRADING_FILE, oldest first."""
    return day_articles(TRADING_FILE)


def day_store(url: str) -> Store:
    """A store on disk holding the slice."""
    store = Store.open(url)
    store.save(day_articles())
    return store
