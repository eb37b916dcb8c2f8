"""Briefing time (issue #14): one full day of the shared corpus, target ≤ 1 s.

One command:  .venv/bin/python bench/briefing.py [--day 2026-06-16] [--reuse]

Loads every real flash of DAY and of the afternoon before it (财联社, 东方财富, 同花顺 from
shared/corpus/flash, normalised as bench/corpus.py does) through the real write path (stock
tags, stories, the index) into a fresh SQLite store, then times `finews briefing`'s work —
read the period's stories, rank, group, extract, render Markdown — for the whole day and for
its morning and close sessions: the median and the maximum of 5 runs each, in this process
(the command adds its start-up, measured once as a subprocess).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import SHARED, _flash

from finews.briefing.service import make
from finews.config import load_settings
from finews.process.pipeline import Processor
from finews.store import Store

WORK = Path(__file__).resolve().parent / "_work" / "briefing"
SRC = Path(__file__).resolve().parents[1] / "src"


def load(day: date, db: Path) -> int:
    if db.exists():
        db.unlink()
    process = Processor.default()
    articles = []
    for source in ("cls", "eastmoney", "ths"):
        for d in (day - timedelta(days=1), day):
            path = SHARED / source / f"{d.isoformat()}.jsonl.gz"
            if path.exists():
                with gzip.open(path, "rt", encoding="utf-8") as handle:
                    articles += [process(_flash(json.loads(line))) for line in handle]
    articles.sort(key=lambda a: a.published)
    with Store.open(f"sqlite:///{db}") as store:
        for start in range(0, len(articles), 1000):
            store.save(articles[start : start + 1000])
        return store.count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--day", default="2026-06-16")
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    day = date.fromisoformat(args.day)
    WORK.mkdir(parents=True, exist_ok=True)
    db = WORK / f"day-{day}.db"
    if not (args.reuse and db.exists()):
        started = time.perf_counter()
        n = load(day, db)
        print(
            f"store: {n:,} flashes of {day - timedelta(days=1)} and {day} loaded "
            f"in {time.perf_counter() - started:.0f} s"
        )
    settings = load_settings(env={})
    noon = time.time()
    with Store.open(f"sqlite:///{db}", create=False) as store:
        for session in ("day", "morning", "close"):
            times = []
            for _ in range(5):
                started = time.perf_counter()
                made = make(store, settings, day, session, now=noon)
                made.markdown()
                times.append(time.perf_counter() - started)
            b = made.briefing
            median, most = statistics.median(times) * 1000, max(times) * 1000
            print(
                f"{session:<8} {b.articles:>5} articles, {b.stories:>5} stories: "
                f"median {median:.0f} ms, max {most:.0f} ms"
            )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "finews",
            "--db",
            str(db),
            "briefing",
            "--date",
            str(day),
            "--session",
            "day",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    print(
        f"`finews briefing --session day` (a new process): "
        f"{time.perf_counter() - started:.2f} s, {len(done.stdout):,} characters"
    )


if __name__ == "__main__":
    main()
