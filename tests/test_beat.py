"""``finews scheduler``'s driver of the market schedule (#17), on a fake clock: the polls it
sends through a trading day are the ones ``finews run``'s schedule makes, and polls that
are lost, skipped or reported late do not stall a source.  (A real run with Redis and two
workers: tests/test_distributed.py.)"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from finews.distributed.beat import START_GRACE, Beat, Report
from finews.run.schedule import Pace, Policy, Schedule, SourceState
from test_run import FakeClock, beijing

POLICY = Policy(
    base=60,
    minimum=5,
    maximum=600,
    max_backoff=900,
    jitter=0.0,
    pace=Pace(5, 15, 60),
    paces={"eastmoney.column": Pace(60, 120, 600)},
    global_sources=frozenset({"wscn.live"}),
    burst_items=3,
    burst_window=300,
)
SOURCES = ["cls.telegraph", "eastmoney.column", "wscn.live"]


class Sent:
    """What the scheduler queued: (source, ticket, expires, clock) per poll."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.polls: list[tuple[str, str, float, float]] = []

    def __call__(self, source: str, ticket: str, expires: float) -> None:
        self.polls.append((source, ticket, expires, self.clock.monotonic()))


def run_day(
    seconds: int, news: Callable[[str, str], int], start: str = "2026-06-16T08:30:00"
) -> tuple[list[tuple[str, str, float]], FakeClock, Beat]:
    """The scheduler a second at a time, with workers that take each poll at once and
    report it (started, done with ``news(source, hh:mm:ss)`` new items) within the second.
    Returns (source, clock, interval after the poll) per poll."""
    clock = FakeClock(start)
    sent = Sent(clock)
    done: list[tuple[str, SourceState]] = []
    beat = Beat(
        SOURCES,
        POLICY,
        sent,
        clock=clock,
        rand=lambda: 0.5,
        on_done=lambda key, state: done.append((key, state)),
    )
    polls = []
    answered = 0
    for _ in range(seconds):
        beat.tick()
        for source, ticket, _, _ in sent.polls[answered:]:
            at = clock.at()
            beat.heard(Report(ticket, source, "started"))
            beat.heard(Report(ticket, source, "done", new=news(source, at)))
            polls.append((source, at, beat.schedule.states[source].interval))
        answered = len(sent.polls)
        clock.mono += 1.0
    assert len(done) == len(polls)  # every outcome reached the schedule (and the store)
    return polls, clock, beat


def test_the_scheduler_tightens_at_the_open_relaxes_at_the_close_and_at_night() -> None:
    polls, _, _ = run_day(24 * 3600, lambda key, at: 0)

    def intervals(key: str, start: str, end: str) -> list[float]:
        return [i for k, at, i in polls if k == key and start <= at < end]

    def gaps(key: str, start: str, end: str) -> list[float]:
        times = [beijing(f"2026-06-16T{at}") for k, at, _ in polls if k == key]
        stamps = [at for k, at, _ in polls if k == key]
        return [
            b - a
            for (a, b), s in zip(itertools.pairwise(times), stamps[1:], strict=False)
            if start <= s < end and b > a
        ]

    assert max(intervals("cls.telegraph", "08:45:00", "09:15:00")) == 15
    first = min(at for k, at, _ in polls if k == "cls.telegraph" and at >= "09:15:00")
    assert first <= "09:15:05"  # brought forward at the open
    assert set(intervals("cls.telegraph", "09:15:05", "11:30:00")) == {5}
    assert set(gaps("cls.telegraph", "09:16:00", "11:29:00")) == {5}  # 720 an hour
    assert max(intervals("cls.telegraph", "11:45:00", "12:59:00")) == 15  # lunch
    assert set(intervals("cls.telegraph", "13:00:05", "15:00:00")) == {5}
    after = intervals("cls.telegraph", "15:00:00", "15:05:00")
    assert after[0] < after[1] < after[2] and after[-1] == 15  # relaxed poll by poll
    assert max(intervals("cls.telegraph", "23:30:00", "23:59:59")) == 60
    assert set(intervals("eastmoney.column", "09:20:00", "11:30:00")) == {60}
    assert set(intervals("wscn.live", "21:31:00", "23:59:59")) == {5}  # the US session
    assert max(intervals("cls.telegraph", "21:31:00", "22:59:59")) == 15
    # nothing is polled twice at once, nor more often than its floor
    for key in ("cls.telegraph", "wscn.live"):
        stamps = [beijing(f"2026-06-16T{at}") for k, at, _ in polls if k == key]
        assert min(b - a for a, b in itertools.pairwise(stamps) if b > a) >= 5


def test_the_scheduler_makes_the_polls_the_runners_schedule_makes() -> None:
    """One schedule, two drivers: on the same clock and news, the same polls."""

    def news(key: str, at: str) -> int:
        if "20:10:00" <= at < "20:10:20":
            return 4  # a burst
        return 1 if at.endswith("7") else 0

    polls, _, _ = run_day(1800, news, start="2026-06-16T20:00:00")
    clock = FakeClock("2026-06-16T20:00:00")
    schedule = Schedule.start(SOURCES, POLICY, clock.monotonic(), clock.time())
    direct = []
    for _ in range(1800):  # as the runner: retune, start the due sources, hear them finish
        now = clock.monotonic()
        schedule.retune(now, clock.time())
        due = schedule.due(now)
        for key in due:
            schedule.started(key)
        for key in due:
            new = news(key, clock.at())
            schedule.finished(key, now=now, ok=True, new=new, rand=0.5, epoch=clock.time())
            direct.append((key, clock.at(), schedule.states[key].interval))
        clock.mono += 1.0
    assert polls == direct
    burst = [i for k, at, i in polls if k == "cls.telegraph" and "20:10:20" <= at < "20:14:00"]
    assert burst and set(burst) == {5}  # the burst holds the busy pace


def test_a_poll_nobody_takes_is_given_up_and_sent_again_after_its_interval() -> None:
    clock = FakeClock("2026-06-16T10:00:00")  # in session: 5 s
    sent = Sent(clock)
    beat = Beat(["cls.telegraph"], POLICY, sent, clock=clock, rand=lambda: 0.0)
    beat.tick()
    (_, ticket, expires, _) = sent.polls[0]
    assert expires == 5  # a poll waiting longer than the interval is dropped by Celery
    clock.mono += expires + START_GRACE - 0.1
    beat.tick()
    assert len(sent.polls) == 1  # still in flight
    clock.mono += 0.1
    wait = beat.tick()
    assert len(sent.polls) == 1 and "cls.telegraph" not in beat.flights  # given up
    assert wait == pytest.approx(1.0)  # looks again within a second
    # a late report of the given-up ticket changes nothing
    beat.heard(Report(ticket, "cls.telegraph", "done", new=9))
    assert beat.schedule.states["cls.telegraph"].interval == 5
    assert beat.schedule.states["cls.telegraph"].polls == 0
    clock.mono += 5
    beat.tick()
    assert len(sent.polls) == 2 and sent.polls[1][1] != ticket


def test_a_started_poll_waits_for_its_worker_then_is_given_up() -> None:
    clock = FakeClock("2026-06-16T10:00:00")
    sent = Sent(clock)
    beat = Beat(["cls.telegraph"], POLICY, sent, clock=clock, rand=lambda: 0.0, lost_after=60)
    beat.tick()
    ticket = sent.polls[0][1]
    clock.mono += 1
    beat.heard(Report(ticket, "cls.telegraph", "started"))
    clock.mono += 30  # a long poll (a backfill): not given up at its expiry
    beat.tick()
    assert "cls.telegraph" in beat.flights and len(sent.polls) == 1
    clock.mono += 31  # its worker died: given up, sent again after the interval
    beat.tick()
    assert "cls.telegraph" not in beat.flights
    clock.mono += 5
    beat.tick()
    assert len(sent.polls) == 2


def test_skipped_failed_and_foreign_reports() -> None:
    clock = FakeClock("2026-06-16T02:00:00")  # night: 60 s
    sent = Sent(clock)
    beat = Beat(["cls.telegraph"], POLICY, sent, clock=clock, rand=lambda: 0.0)
    beat.tick()
    ticket = sent.polls[-1][1]
    # another poll of the source was running: due again after the interval, unchanged
    beat.heard(Report(ticket, "cls.telegraph", "done", skipped=True))
    state = beat.schedule.states["cls.telegraph"]
    assert state.interval == 60 and state.due == clock.mono + 60 and state.polls == 0
    clock.mono += 60
    beat.tick()
    # a failed poll backs off as finews run's does (base 60 s, doubled)
    beat.heard(Report(sent.polls[-1][1], "cls.telegraph", "done", ok=False))
    assert state.failures == 1 and state.due == clock.mono + 60
    clock.mono += 60
    beat.tick()
    beat.heard(Report(sent.polls[-1][1], "cls.telegraph", "done", ok=False))
    assert state.due == clock.mono + 120
    # an earlier scheduler's ticket, an unknown source: ignored
    beat.heard(Report("old-1", "cls.telegraph", "done", new=50))
    beat.heard(Report("x", "nobody", "done"))
    assert state.failures == 2


def test_reports_that_are_not_reports_are_skipped() -> None:
    good = Report("a-1", "cls.telegraph", "done", ok=False, new=3)
    assert Report.loads(good.dumps()) == good
    for bad in (b"", b"[]", b"{}", b'{"ticket": "a", "source": "b", "event": "exploded"}'):
        assert Report.loads(bad) is None
    assert Report.loads(b'{"ticket": "a", "source": "b", "event": "done", "new": "x"}') is None
