"""Per-site request spacing shared by every worker, kept in Redis.

One key per (egress, site) holds the earliest time the site's next request may go.
Reserving a slot is one Lua script, so it is atomic across workers: it reads the key,
takes ``max(now, next free)`` as this request's slot, moves the key on by the spacing,
and returns how long the caller waits.  Time is Redis's own clock (``TIME``), so workers
on machines whose clocks disagree still space their requests.  This is a token bucket
of size one (GCRA): no burst, the same guarantee as the in-process spacing.

Workers behind different outgoing addresses (``worker.egress``) have separate buckets,
since upstreams count requests per address.
"""

from __future__ import annotations

from typing import Any

from finews.errors import FetchError

_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local ready = tonumber(redis.call('GET', KEYS[1]) or '0')
if ready < now then ready = now end
local spacing = tonumber(ARGV[1])
local ttl = math.ceil((ready + spacing - now) * 1000) + 60000
redis.call('SET', KEYS[1], string.format('%.6f', ready + spacing), 'PX', ttl)
return string.format('%.6f %.6f', ready, ready - now)
"""


class RedisSpacing:
    """``Fetcher(turn=RedisSpacing(client))``: reserve a site's next request slot."""

    def __init__(self, client: Any, egress: str = "") -> None:
        self._reserve = client.register_script(_RESERVE)
        self._prefix = f"finews:spacing:{egress or 'default'}:"

    def __call__(self, site: str, spacing: float) -> float:
        """Seconds to wait before this request to ``site`` may go (0: at once)."""
        return self.reserve(site, spacing)[1] if spacing > 0 else 0.0

    def reserve(self, site: str, spacing: float) -> tuple[float, float]:
        """(the slot, on Redis's clock; seconds until it) for the next request to ``site``."""
        try:
            answer = self._reserve(keys=[self._prefix + site], args=[spacing])
        except Exception as exc:  # redis-py's errors: the broker is down or refuses
            raise FetchError(f"cannot reserve a request slot for {site} in Redis: {exc}") from exc
        slot, wait = (float(x) for x in answer.split())
        return slot, wait
