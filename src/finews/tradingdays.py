"""The A-share trading calendar: on which days the Shanghai and Shenzhen exchanges trade.

A trading day is a weekday that is not one of the exchanges' holiday closures.  The closures
come from ``data/exchange_holidays.toml`` (the exchanges' yearly notices, one table a year;
it must be refreshed every December).  A year the file does not cover falls back to "every
weekday trades" — a holiday then looks like a quiet weekday, as it did before the file
existed — and a year later than the newest covered one is logged once, so that a forgotten
refresh shows.  Pure apart from reading that packaged file once.

Used by the briefings (issue #14: a morning briefing covers the news since the previous
trading day's close, and a non-trading day has no briefing) and by the polling schedule (#17:
a holiday is a night-time pace all day).
"""

from __future__ import annotations

import functools
import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources

log = logging.getLogger(__name__)

DATA_FILE = "exchange_holidays.toml"
WEEKDAYS = "一二三四五六日"
_LONGEST_CLOSURE = 30
"""Days: no closure is this long (the longest, 春节 with its weekends, is nine or ten), so a
search for the neighbouring trading day that goes further means a broken file."""


@dataclass(frozen=True)
class Calendar:
    """The holiday closures of the years the data file covers."""

    years: frozenset[int]
    closed: Mapping[date, str]
    """weekday closures: the holiday's name"""
    warned: set[int] = field(default_factory=set, compare=False, repr=False)
    """future years not covered, already logged"""

    def is_trading_day(self, day: date) -> bool:
        if day.weekday() >= 5:
            return False
        if day.year not in self.years and day.year not in self.warned:
            self.warned.add(day.year)
            if day.year > max(self.years, default=0):
                log.warning(
                    "the exchange holidays of %d are not known: every weekday counts as a "
                    "trading day (refresh src/finews/data/%s from the exchanges' notice)",
                    day.year,
                    DATA_FILE,
                )
        return day not in self.closed

    def why_closed(self, day: date) -> str:
        """``周六``, ``端午节`` — or empty on a trading day."""
        if day.weekday() >= 5:
            return f"周{WEEKDAYS[day.weekday()]}"
        return self.closed.get(day, "")

    def before(self, day: date) -> date:
        """The last trading day before ``day``."""
        return self._step(day, -1)

    def after(self, day: date) -> date:
        """The first trading day after ``day``."""
        return self._step(day, 1)

    def _step(self, day: date, direction: int) -> date:
        for n in range(1, _LONGEST_CLOSURE + 1):
            candidate = day + timedelta(days=direction * n)
            if self.is_trading_day(candidate):
                return candidate
        raise ValueError(f"no trading day within {_LONGEST_CLOSURE} days of {day}")


def parse(text: str) -> Calendar:
    """The calendar of a data file's text (one table per year; its lists of dates are the
    closures, named by their key).  Raises ValueError on a date outside its year's table."""
    years: set[int] = set()
    closed: dict[date, str] = {}
    for key, table in tomllib.loads(text).items():
        year = int(key)
        years.add(year)
        for name, value in table.items():
            if not isinstance(value, list):
                continue  # the notice and its date
            for day in value:
                if not isinstance(day, date) or day.year != year:
                    raise ValueError(f"[{key}] {name}: {day!r} is not a date of {year}")
                closed[day] = name
    return Calendar(frozenset(years), closed)


@functools.cache
def calendar() -> Calendar:
    """The packaged calendar (read once)."""
    return parse((resources.files("finews") / "data" / DATA_FILE).read_text(encoding="utf-8"))


def is_trading_day(day: date) -> bool:
    return calendar().is_trading_day(day)


def previous_trading_day(day: date) -> date:
    return calendar().before(day)


def next_trading_day(day: date) -> date:
    return calendar().after(day)
