"""Polite, robust HTTP: the only place finews talks to upstream servers.

The :class:`Fetcher` wraps one ``httpx.Client`` (injectable, so tests and
users can give it their own transport) and adds what the sources need:

* host overrides: a request for ``np-listapi.eastmoney.com`` goes to the
  configured base URL instead, path and query kept (mirrors, proxies, tests);
* timeouts on by default and a cap on the body size, counted after
  decompression (a gzip bomb stops at the cap);
* spacing between two requests to one site (every ``*.eastmoney.com`` host
  shares one clock) and a cap on requests in flight;
* retries with exponential backoff and jitter on timeouts, connection errors,
  5xx and 429, honouring ``Retry-After``;
* conditional requests (``ETag`` / ``Last-Modified``) for repeated URLs.

Failures after the retries raise :class:`~finews.errors.FetchError`.
"""

from __future__ import annotations

import contextlib
import email.utils
import errno
import logging
import random
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from finews.config import DESKTOP_UA
from finews.errors import FetchError

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
VALIDATOR_CACHE = 256
"""URLs whose validators (and bodies) are kept for conditional requests."""


@dataclass(frozen=True)
class FetchPolicy:
    """How politely and how persistently to fetch (from the ``[http]`` settings)."""

    timeout: float = 10.0
    max_bytes: int = 8 * 1024 * 1024
    retries: int = 3
    backoff: float = 1.0
    max_backoff: float = 60.0
    host_spacing: float = 1.0
    concurrency: int = 2
    user_agent: str = DESKTOP_UA
    overrides: Mapping[str, str] = field(default_factory=dict)
    impersonate: str = ""
    """A browser whose TLS fingerprint curl_cffi presents (``chrome``); empty: plain httpx."""
    impersonate_hosts: frozenset[str] = frozenset()
    """The upstream hosts that get the fingerprint (empty: all); the sources' hosts."""


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes
    not_modified: bool = False

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


def site_of(host: str) -> str:
    """The registrable part of a host, roughly: ``np-listapi.eastmoney.com`` → ``eastmoney.com``.

    Spacing is per site, not per host name, because an upstream's rate limit
    usually covers all of its API hosts.  IP addresses are their own site.
    """
    parts = host.lower().rstrip(".").split(".")
    if len(parts) <= 2 or all(p.isdigit() for p in parts):
        return host.lower()
    return ".".join(parts[-2:])


def apply_override(url: str, overrides: Mapping[str, str]) -> str:
    """Send ``url`` to the override base URL of its host, path and query kept."""
    parts = urlsplit(url)
    base = overrides.get((parts.hostname or "").lower())
    if not base:
        return url
    b = urlsplit(base)
    path = b.path.rstrip("/") + parts.path
    return urlunsplit((b.scheme, b.netloc, path, parts.query, parts.fragment))


def _cache_key(url: str, volatile: frozenset[str]) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in volatile]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def short_url(url: str) -> str:
    """The URL without its query, for messages a person reads."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def offline(exc: BaseException) -> bool:
    """Whether a transport error means this machine reaches nothing: a name that does
    not resolve, no route to the network (rather than one server refusing or timing out)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return True
        if isinstance(seen, OSError) and seen.errno in {errno.ENETUNREACH, errno.EHOSTUNREACH}:
            return True
        seen = seen.__cause__ or seen.__context__
    text = str(exc).lower()
    return "name or service not known" in text or "temporary failure in name resolution" in text


TOTAL_TIMEOUTS = 3
"""A response body must be complete within this many ``timeout``s."""


class Fetcher:
    """GET with the politeness and robustness above; thread-safe."""

    def __init__(
        self,
        policy: FetchPolicy,
        client: httpx.Client | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        turn: Callable[[str, float], float] | None = None,
    ) -> None:
        """``turn(site, spacing)``, when given, reserves the site's next request slot
        somewhere shared (Redis, for workers on several machines: issue #9) and returns
        the seconds to wait for it; by default the spacing is kept in this process."""
        self.policy = policy
        self._turn = turn
        self.client = client or httpx.Client(
            timeout=httpx.Timeout(policy.timeout),
            follow_redirects=True,
            headers={"User-Agent": policy.user_agent, "Accept-Encoding": "gzip, deflate"},
        )
        self.impersonating: httpx.Client | None = None
        if policy.impersonate:
            # the same Fetcher, another transport: politeness and caps are unchanged
            from finews.fetch.impersonate import CurlTransport

            self.impersonating = httpx.Client(
                transport=CurlTransport(
                    policy.impersonate, policy.timeout, TOTAL_TIMEOUTS * policy.timeout
                ),
                timeout=httpx.Timeout(policy.timeout),
                follow_redirects=True,
                headers={"User-Agent": policy.user_agent},
            )
        self._sleep = sleep
        self._clock = clock
        self._wall = wall_clock
        self._slots = threading.BoundedSemaphore(policy.concurrency)
        self._site_locks: dict[str, threading.Lock] = {}
        self._site_next: dict[str, float] = {}
        self._locks_guard = threading.Lock()
        # ETag / Last-Modified and the body they validate, for the most recent URLs only:
        # a long-running process must not keep every article it ever fetched
        self._validators: OrderedDict[str, tuple[str | None, str | None, Response]] = OrderedDict()
        self.requests_sent = 0
        self.network_down = False
        """Set when a request exhausted its retries because no route or name resolution
        worked; cleared by any success.  While set, such a failure is not retried: offline,
        ``finews fetch`` fails within one request's timeout × retries, not once per source."""

    def close(self) -> None:
        self.client.close()
        if self.impersonating is not None:
            self.impersonating.close()

    def client_for(self, host: str) -> httpx.Client:
        """The impersonating client for the hosts it is configured for, else the plain one."""
        wanted = self.policy.impersonate_hosts
        if self.impersonating is not None and (not wanted or host.lower() in wanted):
            return self.impersonating
        return self.client

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- politeness ----------------------------------------------------------
    @contextlib.contextmanager
    def _turn_and_slot(self, site: str) -> Iterator[None]:
        """The site's turn, then a slot among the requests in flight.  In this process the
        next turn counts from the moment the request goes (the slot taken), not from when
        its turn came: a request that waited for a slot does not shorten the spacing of
        the next one to its site (#17: a tighter schedule waits for slots more often)."""
        if self._turn is not None:
            wait = self._turn(site, self.policy.host_spacing)
            if wait > 0:
                self._sleep(wait)
            with self._slots:
                yield
            return
        with self._locks_guard:
            lock = self._site_locks.setdefault(site, threading.Lock())
        with lock:
            now = self._clock()
            ready = self._site_next.get(site, 0.0)
            if ready > now:
                self._sleep(ready - now)
            self._slots.acquire()
            self._site_next[site] = self._clock() + self.policy.host_spacing
        try:
            yield
        finally:
            self._slots.release()

    def _delay(self, attempt: int) -> float:
        base = min(self.policy.max_backoff, self.policy.backoff * (2**attempt))
        return float(base * random.uniform(0.5, 1.0))

    # -- requests ------------------------------------------------------------
    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        volatile: frozenset[str] = frozenset(),
        conditional: bool = True,
    ) -> Response:
        """GET ``url`` (before any override); raise FetchError after the retries.

        ``volatile`` names query parameters (cache-busters) that do not make a
        different resource, for the conditional-request cache.
        """
        if params:
            sep = "&" if urlsplit(url).query else "?"
            url = url + sep + urlencode({k: str(v) for k, v in params.items()})
        host = urlsplit(url).hostname or ""
        target = apply_override(url, self.policy.overrides)
        key = _cache_key(url, volatile)
        shown = short_url(url)
        last_error = ""
        for attempt in range(self.policy.retries + 1):
            request_headers = dict(headers or {})
            cached = self._validators.get(key) if conditional else None
            if cached:
                etag, modified, _ = cached
                if etag:
                    request_headers["If-None-Match"] = etag
                if modified:
                    request_headers["If-Modified-Since"] = modified
            wait: float | None = None
            try:
                with self._turn_and_slot(site_of(host)):
                    response = self._send(target, request_headers, self.client_for(host))
            except httpx.TimeoutException:
                last_error = f"timed out after {self.policy.timeout:g} s"
            except httpx.TransportError as exc:
                last_error = f"connection failed: {type(exc).__name__}: {exc}"
                if offline(exc):
                    if self.network_down:
                        raise FetchError(
                            f"GET {shown}: {last_error} (the network looks down: an earlier "
                            "request failed the same way after its retries; not retried)"
                        ) from None
                    if attempt == self.policy.retries:
                        self.network_down = True
            else:
                self.network_down = False
                if response.status == 304 and cached:
                    return Response(url, 200, cached[2].headers, cached[2].content, True)
                if response.status not in RETRY_STATUSES:
                    if response.status >= 400:
                        raise FetchError(
                            f"GET {shown}: HTTP {response.status}", status=response.status
                        )
                    if conditional and (
                        "etag" in response.headers or "last-modified" in response.headers
                    ):
                        self._validators[key] = (
                            response.headers.get("etag"),
                            response.headers.get("last-modified"),
                            response,
                        )
                        self._validators.move_to_end(key)
                        while len(self._validators) > VALIDATOR_CACHE:
                            self._validators.popitem(last=False)
                    return Response(url, response.status, response.headers, response.content)
                last_error = f"HTTP {response.status}"
                wait = retry_after_seconds(response.headers.get("retry-after"), self._wall())
                if wait is not None and wait > self.policy.max_backoff:
                    raise FetchError(
                        f"GET {shown}: HTTP {response.status}, Retry-After {wait:.0f} s "
                        f"is longer than http.max_backoff ({self.policy.max_backoff:g} s)"
                    )
            if attempt < self.policy.retries:
                delay = wait if wait is not None else self._delay(attempt)
                log.info("GET %s: %s; retry %d in %.1f s", shown, last_error, attempt + 1, delay)
                self._sleep(delay)
        raise FetchError(f"GET {shown}: {last_error} (after {self.policy.retries + 1} attempts)")

    def _send(
        self, url: str, headers: Mapping[str, str], client: httpx.Client | None = None
    ) -> Response:
        self.requests_sent += 1
        with (client or self.client).stream("GET", url, headers=headers) as response:
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > self.policy.max_bytes:
                raise FetchError(
                    f"GET {short_url(url)}: body of {int(declared):,} bytes is over the "
                    f"{self.policy.max_bytes:,}-byte limit"
                )
            chunks: list[bytes] = []
            size = 0
            # httpx's timeout is per read: a server that trickles a byte at a time never
            # trips it.  The whole body must arrive within a few timeouts.
            deadline = self._clock() + TOTAL_TIMEOUTS * self.policy.timeout
            for chunk in response.iter_bytes():
                if self._clock() > deadline:
                    raise FetchError(
                        f"GET {short_url(url)}: body too slow, not complete after "
                        f"{TOTAL_TIMEOUTS * self.policy.timeout:.0f} s (timed out)"
                    )
                size += len(chunk)
                if size > self.policy.max_bytes:
                    raise FetchError(
                        f"GET {short_url(url)}: body over the {self.policy.max_bytes:,}-byte limit"
                    )
                chunks.append(chunk)
            return Response(
                url, response.status_code, dict(response.headers.items()), b"".join(chunks)
            )
