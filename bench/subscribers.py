"""Subscribers' pushes over one real day (issue #14), with and without the cap.

One command:  .venv/bin/python bench/subscribers.py [--day 2026-06-16] [--cap 6]

Replays the day of bench/briefing.py's store (every real flash of DAY and the afternoon
before, loaded by `bench/briefing.py` first) through `finews subscribers test`'s replay
(finews.run.subscribers.simulate: the live rules — once per story, quiet hours, the cap with
its digest, the 08:00 and 15:30 briefings — with each flash arriving at its publication
time) for three example subscribers, each with no cap and with CAP pushes an hour, and prints
the stories each is given and the pushes that carry them, and the time the replay took.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from finews.config import SubscriberSettings
from finews.model import BEIJING
from finews.run.subscribers import Subscriber, simulate
from finews.search.service import Filters
from finews.store import Store

WORK = Path(__file__).resolve().parent / "_work" / "briefing"
HOOK = ("generic:http://127.0.0.1:9/hook",)


def examples(top_stocks: list[str]) -> dict[str, SubscriberSettings]:
    return {
        "macro (keywords + important, quiet 23:00-07:00)": SubscriberSettings(
            keywords=("央行", "国务院", "统计局", "降准", "美联储", "财政部"),
            important=True,
            quiet_hours="23:00-07:00",
            webhooks=HOOK,
        ),
        "chips (sector keywords)": SubscriberSettings(
            keywords=("芯片", "半导体", "算力", "光模块", "存储"), webhooks=HOOK
        ),
        "watchlist (the day's 10 most tagged stocks)": SubscriberSettings(
            stocks=tuple(top_stocks), webhooks=HOOK
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--day", default="2026-06-16")
    parser.add_argument("--cap", type=int, default=6)
    args = parser.parse_args()
    day = date.fromisoformat(args.day)
    db = WORK / f"day-{day}.db"
    if not db.exists():
        raise SystemExit(f"no {db}: run bench/briefing.py --day {day} first")
    start = datetime.combine(day, datetime.min.time(), BEIJING).timestamp()
    end = (datetime.combine(day, datetime.min.time(), BEIJING) + timedelta(days=1)).timestamp()
    with Store.open(f"sqlite:///{db}", create=False) as store:
        rows = store.list_articles(Filters(since=int(start), until=int(end)), limit=1_000_000)
    arrivals = [(a, cluster) for _, a, cluster in rows]
    tags = Counter(s.code for a, _ in arrivals for s in a.stocks if s.code[:1] in "036")
    top = [c for c, _ in tags.most_common(10)]
    print(f"{day}: {len(arrivals):,} articles, {len({c for _, c in arrivals}):,} stories\n")
    print(
        f"{'subscriber':<46} {'stories':>7} {'no cap':>7} {'cap ' + str(args.cap):>7}"
        f" {'(alone':>7} {'digests':>7} {'brief.)':>7} {'ms':>5}"
    )
    for name, s in examples(top).items():
        counts = []
        started = time.perf_counter()
        for cap in (0, args.cap):
            sub = Subscriber.from_settings("x", replace(s, max_per_hour=cap))
            counts.append(simulate(sub, arrivals, start, end))
        ms = (time.perf_counter() - started) * 1000 / 2
        free, capped = counts
        stories = sum(len(p.items) for p in free)
        kinds = Counter(p.kind for p in capped)
        assert sum(len(p.items) for p in capped) == stories  # the cap drops nothing
        print(
            f"{name:<46} {stories:>7} {len(free):>7} {len(capped):>7} {kinds['item']:>7} "
            f"{kinds['digest']:>7} {kinds['briefing']:>7} {ms:>5.0f}"
        )


if __name__ == "__main__":
    main()
