"""The A-share trading calendar (src/finews/tradingdays.py) and its data file
(src/finews/data/exchange_holidays.toml): the file is consistent with itself and with the
calendar of weekdays, the days around a closure are found, a year the file does not cover
falls back to weekdays (and says so once when it is a future year), and the polling schedule
follows the same calendar."""

from __future__ import annotations

import logging
import tomllib
from datetime import date, datetime, timedelta
from importlib import resources

import pytest

from finews import tradingdays
from finews.model import BEIJING
from finews.run.schedule import market_phase

RAW = tomllib.loads(
    (resources.files("finews") / "data" / tradingdays.DATA_FILE).read_text(encoding="utf-8")
)


def test_the_data_file_names_its_source_and_lists_weekdays_of_its_year() -> None:
    assert {int(y) for y in RAW} >= {2025, 2026}
    for year, table in RAW.items():
        assert "交易所" in table["notice"] and "休市安排" in table["notice"], year
        # the exchanges publish each year's closures in the December before it
        assert table["published"].year == int(year) - 1 and table["published"].month == 12
        holidays = {k: v for k, v in table.items() if isinstance(v, list)}
        assert len(holidays) >= 6, year  # 元旦 春节 清明 劳动节 端午 中秋/国庆
        for name, days in holidays.items():
            assert days == sorted(set(days)), name
            for d in days:
                assert d.year == int(year) and d.weekday() < 5, (name, d)


def test_each_holiday_is_one_closure_of_consecutive_non_trading_days() -> None:
    """A closure runs without a trading day inside it (weekends fill its gaps): a mistyped
    date (2026-02-24 for 02-23) would leave a trading day between two closed ones."""
    cal = tradingdays.calendar()
    for table in RAW.values():
        for name, days in table.items():
            if not isinstance(days, list):
                continue
            d = days[0]
            while d < days[-1]:
                d += timedelta(days=1)
                assert not cal.is_trading_day(d), (name, d)
            assert cal.why_closed(days[0]) == name


@pytest.mark.parametrize(
    ("day", "trading"),
    [
        (date(2026, 6, 18), True),  # Thursday before 端午
        (date(2026, 6, 19), False),  # 端午节, a Friday
        (date(2026, 6, 20), False),  # Saturday
        (date(2026, 6, 22), True),
        (date(2026, 10, 8), True),  # the first day after 国庆
        (date(2026, 9, 20), False),  # a Sunday offices work (调休): the exchanges do not
        (date(2025, 1, 27), True),  # the last day before 春节 2025
        (date(2025, 2, 4), False),
    ],
)
def test_trading_days(day: date, trading: bool) -> None:
    assert tradingdays.is_trading_day(day) is trading


def test_the_trading_days_around_a_closure() -> None:
    assert tradingdays.next_trading_day(date(2026, 6, 18)) == date(2026, 6, 22)
    assert tradingdays.previous_trading_day(date(2026, 6, 22)) == date(2026, 6, 18)
    assert tradingdays.previous_trading_day(date(2026, 2, 24)) == date(2026, 2, 13)
    assert tradingdays.next_trading_day(date(2026, 9, 30)) == date(2026, 10, 8)
    assert tradingdays.previous_trading_day(date(2026, 6, 1)) == date(2026, 5, 29)
    assert tradingdays.calendar().why_closed(date(2026, 5, 30)) == "周六"
    assert tradingdays.calendar().why_closed(date(2026, 5, 29)) == ""


def test_a_year_the_file_does_not_cover_trades_on_weekdays(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """2027's 元旦 is a holiday, but the file does not know it yet: a weekday, so a trading
    day — and the missing year is logged once; a past year (the 2021 posts of the original
    site) quietly counts weekdays."""
    cal = tradingdays.parse(
        (resources.files("finews") / "data" / tradingdays.DATA_FILE).read_text("utf-8")
    )
    with caplog.at_level(logging.WARNING, logger="finews.tradingdays"):
        assert cal.is_trading_day(date(2021, 12, 8))
        assert not [r for r in caplog.records if "2021" in r.getMessage()]
        assert cal.is_trading_day(date(2027, 1, 1))
        assert cal.is_trading_day(date(2027, 1, 4))
        assert not cal.is_trading_day(date(2027, 1, 2))  # a Saturday all the same
    warned = [r.getMessage() for r in caplog.records if "2027" in r.getMessage()]
    assert len(warned) == 1 and "exchange_holidays.toml" in warned[0]


def test_a_date_outside_its_year_is_refused() -> None:
    with pytest.raises(ValueError, match="not a date of 2026"):
        tradingdays.parse('[2026]\n"端午节" = [2025-06-19]\n')


def beijing(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING).timestamp()


def test_the_polling_schedule_keeps_a_holiday_quiet() -> None:
    """端午 2026 is a Friday: no A-share session, no weekday daytime (#17)."""
    assert market_phase(beijing("2026-06-18T10:00:00")) == "busy"
    assert market_phase(beijing("2026-06-19T10:00:00")) == "night"
    assert market_phase(beijing("2026-06-19T20:00:00")) == "night"
    assert market_phase(beijing("2026-06-22T10:00:00")) == "busy"
    # the US session is not an A-share holiday's business
    assert market_phase(beijing("2026-06-19T22:00:00"), global_source=True) == "busy"
