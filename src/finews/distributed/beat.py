"""``finews scheduler``: the market schedule of ``finews run``, driven across processes (#17).

``finews run`` and the Celery workers poll on one schedule (:mod:`finews.run.schedule`:
the market's hours, bursts, night; a floor per source).  The runner drives it in its
own loop; here the scheduler drives it and the workers poll:

- for each source the schedule says is due, the scheduler sends a poll task with a
  ticket, expiring after the source's current interval (a poll no worker took by then is
  dropped, not piled up: the next one comes);
- the worker that runs it reports on a Redis list (:data:`REPORTS`) when it starts and
  when it is done (ok or not, how many new items) — what the schedule adapts to: news
  halves the interval, a burst holds the busy pace, quiet stretches it, a failure backs
  off;
- a ticket no worker started within its expiry (no worker running, all of them busy),
  or started but not done within ``worker.visibility_timeout`` (its worker died; Celery
  hands the task to another one), is given up: the source is due again after its
  interval, unchanged.  A report of a ticket given up, or of an earlier scheduler's, is
  ignored.

Why not Celery beat: its entries fire at fixed intervals (or crontabs) and cannot hear a
task's outcome, and the outcome is what the schedule adapts to.  Celery still carries the
tasks (acknowledged late, two queues, redelivery); only the clock is ours.  Per-host
spacing stays the fetcher's, kept in Redis across workers
(:mod:`finews.distributed.spacing`).

:class:`Beat` does no I/O (a clock, a ``send`` and the reports come in), so tests drive
it through a trading day on a fake clock; :func:`run` connects it to Redis and Celery.
"""

from __future__ import annotations

import itertools
import json
import logging
import random
import secrets
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from finews.config import Settings
from finews.run.schedule import (
    Clock,
    Policy,
    Schedule,
    SourceState,
    SystemClock,
    schedule_policy,
)
from finews.store import Store, freshness

log = logging.getLogger(__name__)

REPORTS = "finews:polled"
"""The Redis list the workers report on and the scheduler reads."""
REPORTS_KEEP = 3600
"""Seconds the list is kept after its last report (no scheduler reading it: it goes)."""
START_GRACE = 2.0
"""Seconds after a ticket's expiry before an unstarted poll is given up (the worker may
have taken it at the last moment)."""
MAX_WAIT = 1.0
"""The scheduler looks at the clock at least this often (the market's hours change)."""


@dataclass(frozen=True)
class Report:
    """A worker's word on one poll: ``started``, or ``done`` with its outcome."""

    ticket: str
    source: str
    event: str
    ok: bool = True
    new: int = 0
    skipped: bool = False
    """Another poll of the source was running: this one did nothing."""

    def dumps(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def loads(cls, raw: bytes | str) -> Report | None:
        """A report, or None for something that is not one (logged and skipped)."""
        try:
            data = json.loads(raw)
            report = cls(
                ticket=str(data["ticket"]),
                source=str(data["source"]),
                event=str(data["event"]),
                ok=bool(data.get("ok", True)),
                new=int(data.get("new", 0)),
                skipped=bool(data.get("skipped", False)),
            )
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("scheduler: an unreadable report skipped (%s): %r", exc, raw[:200])
            return None
        return report if report.event in {"started", "done"} else None


@dataclass
class _Flight:
    ticket: str
    sent: float
    expires: float
    started: float | None = None


class Beat:
    """The schedule, the polls in flight, and what to send when."""

    def __init__(
        self,
        sources: list[str],
        policy: Policy,
        send: Callable[[str, str, float], None],
        *,
        clock: Clock | None = None,
        lost_after: float = 600.0,
        rand: Callable[[], float] | None = None,
        on_done: Callable[[str, SourceState], None] | None = None,
    ) -> None:
        """``send(source, ticket, expires)`` queues a poll; ``lost_after``: seconds a
        started poll may take before it is given up; ``on_done`` hears each source's
        state after a poll (``finews sources`` shows it)."""
        self.clock = clock or SystemClock()
        self.schedule = Schedule.start(sources, policy, self.clock.monotonic(), self.clock.time())
        self.send = send
        self.lost_after = lost_after
        self.rand = rand or random.Random().random
        self.on_done = on_done
        self.flights: dict[str, _Flight] = {}
        self._life = secrets.token_hex(4)
        self._numbers = itertools.count(1)

    def heard(self, report: Report) -> None:
        """A worker's report: a poll started, or done (its outcome moves the schedule)."""
        flight = self.flights.get(report.source)
        if flight is None or flight.ticket != report.ticket:
            return  # given up already, or an earlier scheduler's
        now = self.clock.monotonic()
        if report.event == "started":
            flight.started = now
            return
        del self.flights[report.source]
        if report.skipped:
            self.schedule.abandoned(report.source, now=now, rand=self.rand())
            return
        recovering = self.schedule.states[report.source].failures > 0
        delay = self.schedule.finished(
            report.source,
            now=now,
            ok=report.ok,
            new=report.new,
            rand=self.rand(),
            epoch=self.clock.time(),
        )
        if report.ok:  # nothing new: a debug line, as in `finews run`
            log.log(
                logging.INFO if report.new or recovering else logging.DEBUG,
                "%s: %d new; next poll in %.1f s",
                report.source,
                report.new,
                delay,
            )
        else:
            log.warning("%s: the poll failed; next in %.0f s", report.source, delay)
        if self.on_done is not None:
            self.on_done(report.source, self.schedule.states[report.source])

    def _deadline(self, flight: _Flight) -> float:
        if flight.started is None:
            return flight.sent + flight.expires + START_GRACE
        return flight.started + self.lost_after

    def tick(self) -> float:
        """Give up lost polls, follow the clock, send the due polls.  Returns how long
        to wait for reports before the next tick."""
        now = self.clock.monotonic()
        for key, flight in list(self.flights.items()):
            if now >= self._deadline(flight):
                del self.flights[key]
                delay = self.schedule.abandoned(key, now=now, rand=self.rand())
                what = "not taken by a worker" if flight.started is None else "not finished"
                log.warning("%s: poll %s; next in %.0f s", key, what, delay)
        self.schedule.retune(now, self.clock.time())
        for key in self.schedule.due(now):
            self.schedule.started(key)
            ticket = f"{self._life}-{next(self._numbers)}"
            expires = self.schedule.states[key].interval
            self.flights[key] = _Flight(ticket, now, expires)
            self.send(key, ticket, expires)
            log.debug("%s: poll %s sent", key, ticket)
        upcoming = [self._deadline(f) for f in self.flights.values()]
        due = self.schedule.next_due()
        if due is not None:
            upcoming.append(due)
        soonest = min(upcoming, default=now + MAX_WAIT)
        return max(0.01, min(MAX_WAIT, soonest - now))


def report(client: Any, item: Report) -> None:
    """A worker's side: append a report for the scheduler."""
    with client.pipeline() as pipe:
        pipe.rpush(REPORTS, item.dumps())
        pipe.expire(REPORTS, REPORTS_KEEP)
        pipe.execute()


def serve(beat: Beat, client: Any, stop: threading.Event, *, retry_after: float = 2.0) -> None:
    """The scheduler's loop: tick, then wait for reports until the next tick is due."""
    import redis
    from kombu.exceptions import OperationalError

    fresh = False
    while not stop.is_set():
        try:
            if not fresh:  # an earlier scheduler's reports: its tickets are not ours
                client.delete(REPORTS)
                fresh = True
            wait = beat.tick()
            got = client.blpop([REPORTS], timeout=wait)
            if got is None:
                continue
            raws = [got[1], *(client.lpop(REPORTS, 500) or [])]
        except (redis.RedisError, OperationalError) as exc:
            log.warning("scheduler: Redis unavailable (%s); retrying", exc)
            stop.wait(retry_after)
            continue
        for raw in raws:
            heard = Report.loads(raw)
            if heard is not None:
                beat.heard(heard)


def run(settings: Settings, sources: list[str], store: Store, stop: threading.Event) -> None:
    """``finews scheduler``: the Celery app configured, the beat served until ``stop``."""
    import redis

    from finews.distributed.tasks import POLL_QUEUE, make_app, poll_task

    make_app(settings)

    def send(key: str, ticket: str, expires: float) -> None:
        poll_task.apply_async((key, ticket), queue=POLL_QUEUE, expires=expires)

    def remember(key: str, state: SourceState) -> None:
        try:  # shown by `finews sources`; never fatal
            freshness.record_schedule(store, key, interval=state.interval, phase=state.phase)
        except Exception as exc:  # a store hiccup must not stop the polls
            log.debug("%s: schedule not recorded: %s", key, exc)

    beat = Beat(
        sources,
        schedule_policy(settings),
        send,
        lost_after=settings.worker.visibility_timeout,
        on_done=remember,
    )
    client = redis.Redis.from_url(settings.worker.redis)
    try:
        serve(beat, client, stop)
    finally:
        client.close()
