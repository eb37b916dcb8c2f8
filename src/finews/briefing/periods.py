"""A briefing's period (issue #14), in Beijing time.  Pure: the clock comes in as a value.

- ``morning`` of trading day D: overnight and pre-market, from the previous *trading* day's
  close time (``briefing.close``, 15:30) to D's ``briefing.morning`` (08:00) — so Monday's
  morning briefing holds Friday afternoon's and the weekend's news, and the day after a
  holiday holds the holiday's;
- ``close`` of trading day D: the trading day, from D's morning time to D's close time.

A day the exchanges do not trade (a weekend, a holiday closure: :mod:`finews.tradingdays`)
has neither: asking for one is a :class:`NotTradingDay` error that names the briefing that
holds its news.  The two sessions tile time: every article is in exactly one briefing.
``day`` (D 00:00 to D+1 00:00, any day) is there for a whole day's overview and the
benchmark.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from finews import tradingdays
from finews.config import check_clock
from finews.errors import RequestError
from finews.model import BEIJING

SESSIONS = ("morning", "close", "day")
TITLES = {"morning": "早报", "close": "收盘", "day": "日报"}
TRADING_SESSIONS = ("morning", "close")
"""The sessions a trading day has (and a non-trading day has not)."""
WEEKDAYS = "一二三四五六日"


class NotTradingDay(RequestError):
    """A morning or close briefing of a day the exchanges do not trade."""


@dataclass(frozen=True)
class Period:
    day: date
    session: str
    since: int
    until: int

    @property
    def title(self) -> str:
        """``2026-06-16（周二）早报``"""
        return f"{self.day.isoformat()}（周{WEEKDAYS[self.day.weekday()]}）{TITLES[self.session]}"


def _at(day: date, clock: str) -> int:
    hour, minute = check_clock(clock, "briefing time")
    return int(datetime.combine(day, time(hour, minute), BEIJING).timestamp())


@functools.lru_cache(maxsize=1024)
def period(day: date, session: str, morning: str = "08:00", close: str = "15:30") -> Period:
    """The period of ``day``'s ``session``; a morning or close of a non-trading day raises
    :class:`NotTradingDay`."""
    if session not in SESSIONS:
        raise RequestError(f"session {session!r} is not one of {', '.join(SESSIONS)}")
    if session in TRADING_SESSIONS and not tradingdays.is_trading_day(day):
        why = tradingdays.calendar().why_closed(day)
        after = tradingdays.next_trading_day(day).isoformat()
        raise NotTradingDay(
            f"{day.isoformat()} ({why}) is not a trading day: no {session} briefing; its news "
            f"is in the morning briefing of {after} (session day gives the whole day)"
        )
    if session == "morning":
        since = _at(tradingdays.previous_trading_day(day), close)
        return Period(day, session, since, _at(day, morning))
    if session == "close":
        return Period(day, session, _at(day, morning), _at(day, close))
    return Period(day, session, _at(day, "00:00"), _at(day + timedelta(days=1), "00:00"))


FIRST_YEAR, LAST_YEAR = 1900, 9998
"""The days a briefing can be asked for (a period spans into the days either side)."""


def parse_day(text: str) -> date:
    value = text.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise RequestError(f"not a date: {text!r} (use 2026-06-16)")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise RequestError(f"not a date: {text!r} (use 2026-06-16)") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        # a period reaches a day either side (the previous trading day, the next midnight):
        # 0001-01-01 and 9999-12-31 overflowed Python's dates with a traceback
        raise RequestError(f"no briefing for {text!r}: a year from {FIRST_YEAR} to {LAST_YEAR}")
    return day


def latest(now: float, morning: str = "08:00", close: str = "15:30") -> Period:
    """The most recent period that has ended at ``now``: on a trading day, its close after
    the close time and its morning after the morning time; else the previous trading day's
    close (before 08:00, at weekends, on holidays)."""
    today = datetime.fromtimestamp(now, BEIJING).date()
    if tradingdays.is_trading_day(today):
        for candidate in (
            period(today, "close", morning, close),
            period(today, "morning", morning, close),
        ):
            if candidate.until <= now:
                return candidate
    return period(tradingdays.previous_trading_day(today), "close", morning, close)
