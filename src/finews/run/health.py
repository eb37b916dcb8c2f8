"""A source's health from what the store remembers of its polls.  Pure.

- ``failing``: its last poll failed (the error is shown);
- ``stale``: it answers, but its newest article is older than ``stale_after`` — the
  silent failure, where a feed stops updating and nobody notices — or no poll has
  succeeded for ``stale_after``;
- ``changed``: it answers (maybe nothing new), but its items' fields differ from what the
  adapter expects
  (a field missing or of another type, or a new one: issue #15);
- ``ok``; ``unknown`` when it was never polled into this store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from finews.site.formats import iso_time


@dataclass(frozen=True)
class Health:
    source: str
    state: str
    reason: str
    articles: int
    newest_at: int | None
    last_attempt_at: int | None
    last_success_at: int | None
    consecutive_failures: int
    last_error: str
    shape: str = ""
    """The request shape the source answers to (issue #15), and since when."""
    shape_since: int | None = None
    previous_shape: str = ""
    switch_reason: str = ""
    fallback_ms: int | None = None
    locked: int = 0
    warnings: list[dict[str, Any]] = field(default_factory=list)
    """Open field changes: a field missing, of another type, or new — first seen when."""

    def as_dict(self) -> dict[str, Any]:
        def iso(ts: int | None) -> str | None:
            return iso_time(ts) if ts else None

        return {
            "shape": self.shape,
            "shape_since": iso(self.shape_since),
            "previous_shape": self.previous_shape,
            "switch_reason": self.switch_reason,
            "fallback_ms": self.fallback_ms,
            "locked": self.locked,
            "warnings": [
                {
                    "field": w["field"],
                    "change": w["change"],
                    "detail": w["detail"],
                    "items": w["items"],
                    "first_seen": iso(w["first_seen"]),
                    "last_seen": iso(w["last_seen"]),
                }
                for w in self.warnings
            ],
            "source": self.source,
            "health": self.state,
            "reason": self.reason,
            "articles": self.articles,
            "newest": iso(self.newest_at),
            "last_attempt": iso(self.last_attempt_at),
            "last_success": iso(self.last_success_at),
            "consecutive_failures": self.consecutive_failures,
            "last_error": self.last_error,
        }


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"  # 4171.0 h said less than 174 days


def assess(
    source: str,
    status: dict[str, Any],
    now: float,
    stale_after: float,
    data_now: float | None = None,
) -> Health:
    """``data_now``: the time the newest item is measured against (default ``now``); a
    replay of old news (``finews demo``) passes its own clock, the newest item it gave."""
    data_now = now if data_now is None else data_now
    attempt = status.get("last_attempt_at")
    success = status.get("last_success_at")
    newest = status.get("newest_at")
    failures = int(status.get("consecutive_failures") or 0)
    if attempt is None:
        state, reason = "unknown", "never polled into this store"
    elif failures:
        state = "failing"
        reason = f"{failures} failed poll(s) in a row: {status.get('last_error') or '?'}"
    elif success is None or now - success > stale_after:
        state, reason = (
            "stale",
            "no successful poll for " + (_age(now - success) if success else "ever"),
        )
    elif newest is None or data_now - newest > stale_after:
        state = "stale"
        reason = "answers, but nothing new for " + (_age(data_now - newest) if newest else "ever")
    else:
        state, reason = "ok", f"newest item {_age(max(0.0, data_now - newest))} old"
    warnings = list(status.get("field_changes") or [])
    if warnings and state in {"ok", "stale"}:
        # a format change explains a stale source better than its age does
        more = f" (+{len(warnings) - 1} more)" if len(warnings) > 1 else ""
        reason = f"its format changed: {_words(warnings[0])}{more}; {reason}"
        state = "changed"
    return Health(
        source=source,
        state=state,
        reason=reason,
        articles=int(status.get("articles") or 0),
        newest_at=newest,
        last_attempt_at=attempt,
        last_success_at=success,
        consecutive_failures=failures,
        last_error=str(status.get("last_error") or ""),
        shape=str(status.get("shape") or ""),
        shape_since=status.get("shape_since"),
        previous_shape=str(status.get("previous_shape") or ""),
        switch_reason=str(status.get("switch_reason") or ""),
        fallback_ms=status.get("fallback_ms"),
        locked=int(status.get("locked") or 0),
        warnings=warnings,
    )


def _words(change: dict[str, Any]) -> str:
    kind = {"missing": "missing", "type": "changed type", "new": "appeared"}
    return f"field {change['field']} {kind.get(change['change'], change['change'])}"


def report(
    statuses: dict[str, dict[str, Any]],
    sources: list[str],
    now: float,
    stale_after: float,
    clock: str = "wall",
) -> list[Health]:
    """Health of the given sources and of every other source the store has seen.
    ``clock`` ``newest``: how new each source's newest item is, is measured against the
    newest item of all sources (a replay's own clock) rather than ``now``."""
    keys = sorted(set(sources) | set(statuses))
    data_now = data_clock(statuses, now, clock)
    return [assess(k, statuses.get(k, {}), now, stale_after, data_now) for k in keys]


def data_clock(statuses: dict[str, dict[str, Any]], now: float, clock: str) -> float:
    """The time new items are measured against: ``now``, or with ``clock`` ``newest`` the
    newest item of any source (a replay's own clock; ``now`` while there is none)."""
    if clock != "newest":
        return now
    stamps = [s["newest_at"] for s in statuses.values() if s.get("newest_at")]
    return float(max(stamps)) if stamps else now
