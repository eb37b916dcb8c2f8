"""When to poll each source next.  Pure: the clock and the randomness come in as values.

Per source, an interval that adapts:
- a poll that brought new items halves the interval (down to ``minimum``): the source is
  active, news comes in bursts;
- a poll that brought nothing stretches it by half (up to ``maximum``): quiet hours cost
  few requests;
- a failed poll waits ``base × 2^(failures-1)``, capped at ``max_backoff``, and tries
  again — a source is never given up on;
- every delay gets ± ``jitter`` (a fraction) so that sources and restarts do not poll in
  lock step.

Politeness per host (a minimum spacing between two requests to one site) is the
fetcher's job (:mod:`finews.fetch.http`), shared by every source on that host.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Policy:
    base: float = 60.0
    minimum: float = 15.0
    maximum: float = 600.0
    max_backoff: float = 900.0
    jitter: float = 0.1


@dataclass
class SourceState:
    interval: float
    due: float
    failures: int = 0
    running: bool = False
    polls: int = 0


@dataclass
class Schedule:
    policy: Policy
    states: dict[str, SourceState] = field(default_factory=dict)

    @classmethod
    def start(cls, sources: list[str], policy: Policy, now: float) -> Schedule:
        """Every source is due at once: a restart catches up immediately."""
        return cls(policy, {s: SourceState(policy.base, now) for s in sources})

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

    def finished(self, source: str, *, now: float, ok: bool, new: int, rand: float) -> float:
        """Record a poll's outcome; return the delay until the next poll.  ``rand`` is a
        uniform number in [0, 1) (the jitter)."""
        p = self.policy
        state = self.states[source]
        state.running = False
        state.polls += 1
        if not ok:
            state.failures += 1
            delay = min(p.max_backoff, p.base * 2.0 ** (state.failures - 1))
        else:
            state.failures = 0
            if new > 0:
                state.interval = max(p.minimum, state.interval / 2)
            else:
                state.interval = min(p.maximum, state.interval * 1.5)
            delay = state.interval
        delay *= 1 + p.jitter * (2 * rand - 1)
        state.due = now + delay
        return delay
