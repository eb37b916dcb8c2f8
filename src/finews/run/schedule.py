"""When to poll each source next.  Pure: the clock and the randomness come in as values.

News is not spread evenly over the day, so neither are the polls (#17):

- **The market's hours** set how often a source may be polled at most: its ``busy``
  interval in the A-share sessions (09:15–11:30 and 13:00–15:00 Beijing time, Monday to
  Friday; call auction included) and, for the global sources (华尔街见闻, 金十), in the
  US session (09:30–16:00 New York time, Monday to Friday — the clocks' summer time
  included); its ``day`` interval on trading days 07:00–23:00 Beijing time outside them; its
  ``night`` interval at night, at weekends and on the exchanges' holidays (the A-share
  trading calendar, :mod:`finews.tradingdays`; a year it does not cover counts every
  weekday as a trading day).
- **Within those bounds it adapts**: a poll that brought new items halves the interval
  (down to ``busy``); one that brought a burst (``burst_items`` or more; not the first
  poll, whose items are the backlog since the last run) drops it to ``busy`` at once and
  keeps it there for ``burst_window`` seconds, whatever the hour;
  a poll with nothing new stretches it by half, up to the hour's bound.
- When the hour's bound tightens (09:15, 13:00, the US open) a source waiting longer is
  brought forward at once; when it relaxes (11:30, 15:00, 23:00) the interval grows
  poll by poll as nothing new comes.
- A failed poll waits ``base × 2^(failures-1)``, capped at ``max_backoff``, and tries
  again — a source is never given up on.
- Every delay gets up to ``jitter`` (a fraction) *added*, so that sources and restarts do
  not poll in lock step — never subtracted: ``busy`` is a floor (the upstream's own
  page refresh, docs/run.md), not an average.

Two drivers run this one schedule: ``finews run`` in its own loop
(:mod:`finews.run.runner`), and ``finews scheduler`` for Celery workers
(:mod:`finews.distributed.beat`), which hears each poll's outcome back from the worker
that ran it.

Politeness per host (a minimum spacing between two requests to one site) is the
fetcher's job (:mod:`finews.fetch.http`), shared by every source on that host: a source
whose interval is shorter than its host allows waits its turn there.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from finews.config import Settings, parse_source_interval
from finews.tradingdays import is_trading_day

BEIJING = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
PHASES = ("busy", "day", "night")
A_SHARE_SESSIONS = ((9 * 60 + 15, 11 * 60 + 30), (13 * 60, 15 * 60))
"""Minutes after midnight, Beijing time: the call auction and both trading sessions."""
US_SESSION = (9 * 60 + 30, 16 * 60)
"""Minutes after midnight, New York time."""
DAYTIME = (7 * 60, 23 * 60)
"""Beijing time: outside it (and on days the exchanges do not trade) is night."""


class Clock(Protocol):
    """Where the runner reads the time: a fake one drives tests through a trading day."""

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps (intervals, due times)."""
        ...

    def time(self) -> float:
        """Epoch seconds (the market's hours)."""
        ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()


def _within(minute: int, span: tuple[int, int]) -> bool:
    return span[0] <= minute < span[1]


def market_phase(epoch: float, *, global_source: bool = False) -> str:
    """``busy``, ``day`` or ``night`` at this moment, for a source."""
    beijing = datetime.fromtimestamp(epoch, BEIJING)
    minute = beijing.hour * 60 + beijing.minute
    trading = is_trading_day(beijing.date())
    if trading and any(_within(minute, s) for s in A_SHARE_SESSIONS):
        return "busy"
    if global_source:
        new_york = datetime.fromtimestamp(epoch, NEW_YORK)
        if new_york.weekday() < 5 and _within(new_york.hour * 60 + new_york.minute, US_SESSION):
            return "busy"
    if trading and _within(minute, DAYTIME):
        return "day"
    return "night"


@dataclass(frozen=True)
class Pace:
    """A source's intervals (seconds): the floor and the bound in its busy hours, the
    bound on trading days outside them, the bound at night, at weekends and on holidays."""

    busy: float = 5.0
    day: float = 15.0
    night: float = 60.0

    def bound(self, phase: str) -> float:
        return max(self.busy, {"busy": self.busy, "day": self.day, "night": self.night}[phase])


def parse_pace(spec: str, default: Pace) -> tuple[str, Pace]:
    """``"eastmoney.column=60/120/600"`` → (key, Pace); missing parts: the larger of the
    part before and ``default``'s.  Raises ValueError on a malformed one."""
    key, numbers = parse_source_interval(spec)
    busy = numbers[0]
    day = numbers[1] if len(numbers) > 1 else max(busy, default.day)
    night = numbers[2] if len(numbers) > 2 else max(day, default.night)
    return key, Pace(busy, day, night)


@dataclass(frozen=True)
class Policy:
    base: float = 60.0
    """First wait after a failed poll (doubled per failure)."""
    minimum: float = 5.0
    """No source is polled more often than this, whatever its pace."""
    maximum: float = 600.0
    max_backoff: float = 900.0
    jitter: float = 0.1
    pace: Pace = field(default_factory=Pace)
    paces: Mapping[str, Pace] = field(default_factory=dict)
    """Per source key; ``feed.*`` covers every user feed."""
    global_sources: frozenset[str] = frozenset({"wscn.live", "jin10.flash"})
    burst_items: int = 3
    burst_window: float = 300.0
    pinned: str = ""
    """``busy``, ``day`` or ``night``: that phase always (benchmarks, or a choice);
    empty: the market's hours decide."""

    def pace_of(self, source: str) -> Pace:
        if source in self.paces:
            chosen = self.paces[source]
        elif source.startswith("feed.") and "feed.*" in self.paces:
            chosen = self.paces["feed.*"]
        else:
            chosen = self.pace
        return chosen

    def phase(self, source: str, epoch: float) -> str:
        if self.pinned:
            return self.pinned
        return market_phase(epoch, global_source=source in self.global_sources)

    def floor(self, source: str) -> float:
        return min(self.maximum, max(self.minimum, self.pace_of(source).busy))

    def bound(self, source: str, epoch: float) -> float:
        """The longest interval for this source at this moment (before any burst)."""
        limit = self.pace_of(source).bound(self.phase(source, epoch))
        return min(self.maximum, max(self.floor(source), limit))


def schedule_policy(settings: Settings) -> Policy:
    """The schedule's policy from the ``[run]`` settings (both drivers read the same)."""
    r = settings.run
    default = Pace(r.busy_interval, r.day_interval, r.night_interval)
    paces = dict(parse_pace(spec, default) for spec in r.source_intervals)
    return Policy(
        base=r.interval,
        minimum=r.min_interval,
        maximum=r.max_interval,
        max_backoff=r.max_backoff,
        jitter=r.jitter,
        pace=default,
        paces=paces,
        global_sources=frozenset(r.global_sources),
        burst_items=r.burst_items,
        burst_window=r.burst_window,
        pinned="" if r.pace == "market" else r.pace,
    )


@dataclass
class SourceState:
    interval: float
    due: float
    failures: int = 0
    running: bool = False
    polls: int = 0
    last_done: float | None = None
    burst_until: float = float("-inf")
    phase: str = ""


@dataclass
class Schedule:
    policy: Policy
    states: dict[str, SourceState] = field(default_factory=dict)

    @classmethod
    def start(
        cls, sources: list[str], policy: Policy, now: float, epoch: float | None = None
    ) -> Schedule:
        """Every source is due at once: a restart catches up immediately."""
        wall = time.time() if epoch is None else epoch
        return cls(
            policy,
            {
                s: SourceState(policy.bound(s, wall), now, phase=policy.phase(s, wall))
                for s in sources
            },
        )

    def due(self, now: float) -> list[str]:
        """Sources due now and not already being polled, most overdue first."""
        ready = [k for k, s in self.states.items() if not s.running and s.due <= now]
        return sorted(ready, key=lambda k: (self.states[k].due, k))

    def next_due(self) -> float | None:
        """When the next idle source is due (None while every source is being polled)."""
        times = [s.due for s in self.states.values() if not s.running]
        return min(times) if times else None

    def started(self, source: str) -> None:
        self.states[source].running = True

    def bound(self, source: str, now: float, epoch: float) -> float:
        """The source's longest interval now: the hour's, or ``busy`` within a burst."""
        state = self.states[source]
        if now < state.burst_until:
            return self.policy.floor(source)
        return self.policy.bound(source, epoch)

    def retune(self, now: float, epoch: float) -> list[str]:
        """Follow the clock: a source whose bound just tightened (09:15, a burst) and that
        waits longer than it now may is brought forward.  Returns the sources moved."""
        moved = []
        for key, state in self.states.items():
            state.phase = self.policy.phase(key, epoch)
            if state.running or state.failures or state.last_done is None:
                continue
            limit = self.bound(key, now, epoch)
            if state.interval > limit:
                state.interval = limit
                earliest = state.last_done + limit
                if state.due > earliest:
                    state.due = max(now, earliest)
                    moved.append(key)
        return moved

    def finished(
        self,
        source: str,
        *,
        now: float,
        ok: bool,
        new: int,
        rand: float,
        epoch: float | None = None,
    ) -> float:
        """Record a poll's outcome; return the delay until the next poll.  ``rand`` is a
        uniform number in [0, 1) (the jitter), ``epoch`` the wall-clock time (the market's
        hours; default: now)."""
        p = self.policy
        wall = time.time() if epoch is None else epoch
        state = self.states[source]
        state.running = False
        state.polls += 1
        state.last_done = now
        state.phase = p.phase(source, wall)
        floor = p.floor(source)
        if not ok:
            state.failures += 1
            delay = min(p.max_backoff, max(floor, p.base * 2.0 ** (state.failures - 1)))
        else:
            state.failures = 0
            # the first poll's items are the backlog of the time finews was not running,
            # not news density: no burst
            if new >= p.burst_items and state.polls > 1:
                state.burst_until = now + p.burst_window
                state.interval = floor
            elif new > 0:
                state.interval = state.interval / 2
            else:
                state.interval = state.interval * 1.5
            state.interval = min(self.bound(source, now, wall), max(floor, state.interval))
            delay = state.interval
        delay *= 1 + p.jitter * rand
        state.due = now + delay
        return delay

    def abandoned(self, source: str, *, now: float, rand: float) -> float:
        """A poll that never ran or never reported (dropped unrun, its worker lost, or
        another poll of the source was running): due again after the current interval,
        which it leaves as it was — no news, no quiet, no failure was seen.  Returns the
        delay."""
        state = self.states[source]
        state.running = False
        delay = state.interval * (1 + self.policy.jitter * rand)
        state.due = now + delay
        return delay
