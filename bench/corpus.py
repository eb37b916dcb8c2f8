"""Real articles for the benchmarks, replicated to any size.

Reads the 82,457 real 7×24 flashes of shared/corpus/flash (财联社, 东方财富,
同花顺; the archive's normalised fields, raw kept) and the real posts of
tests/data/jekyll; beyond that, replicates them with new ids and times
(bodies unchanged).  Not used by the tests (they must not read shared/).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from finews.model import Article, StockTag
from finews.process.stockcodes import (
    a_share_exchange,
    from_eastmoney,
    from_prefixed,
)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpus" / "flash"
SOURCES = {"cls": "cls.telegraph", "eastmoney": "eastmoney.fast", "ths": "ths.flash"}


THS_MARKETS = {"17": "SH", "33": "SZ", "151": "BJ"}


def upstream_codes(record: dict) -> list[tuple[str, str]]:
    """The A-share stocks an upstream tagged (indexes such as sz399006 and funds left out)."""
    return [(c, n) for c, n in _upstream_codes(record) if a_share_exchange(c[:6]) == c[7:]]


def _upstream_codes(record: dict) -> list[tuple[str, str]]:
    raw = record.get("raw") or {}
    found = []
    if record["source"] == "cls":
        for s in raw.get("stock_list") or []:
            code = from_prefixed(str(s.get("StockID", "")))
            if code and not code.endswith(".HK"):
                found.append((code, str(s.get("name", ""))))
    elif record["source"] == "eastmoney":
        for s in raw.get("stockList") or []:
            code = from_eastmoney(str(s))
            if code and code.split(".")[1] in {"SH", "SZ", "BJ"}:
                found.append((code, ""))
    else:
        for s in raw.get("stock") or []:
            market = THS_MARKETS.get(str(s.get("stockMarket")))
            if market:
                found.append((f"{s.get('stockCode')}.{market}", str(s.get("name", ""))))
    return found


def _flash(record: dict[str, object]) -> Article:
    text = str(record.get("content") or record.get("brief") or "")
    title = str(record.get("title") or "") or text[:60]
    return Article(
        source=SOURCES[str(record["source"])],
        upstream_id=str(record["id"]),
        title=title,
        published=datetime.fromisoformat(str(record["datetime"])),
        media=str(record.get("source_name") or record["source"]),
        url=str(record.get("url") or ""),
        digest=str(record.get("brief") or "")[:200],
        body_html="".join(f"<p>{p}</p>" for p in text.split("\n") if p.strip()),
        stocks=tuple(
            StockTag(code, name, "upstream")
            for code, name in dict(upstream_codes(record)).items()  # type: ignore[arg-type]
        ),
        important=str(record.get("level") or "") in {"A", "B"},
        raw=json.dumps(record.get("raw"), ensure_ascii=False),
    )


def real_flashes(folder: Path = SHARED) -> list[Article]:
    articles = []
    for path in sorted(folder.glob("*/*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                articles.append(_flash(json.loads(line)))
    return articles


def articles(n: int, folder: Path = SHARED) -> Iterator[Article]:
    """n real articles, newest-first order not assumed; replicas shifted back in time."""
    base = real_flashes(folder)
    if not base:
        raise SystemExit(f"no flashes under {folder}")
    for i in range(n):
        a = base[i % len(base)]
        round_ = i // len(base)
        if round_:
            a = replace(
                a,
                upstream_id=f"{a.upstream_id}r{round_}",
                published=a.published - timedelta(days=120 * round_),
            )
        yield a
