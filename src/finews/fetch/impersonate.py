"""An optional transport that presents a browser's TLS fingerprint (``curl_cffi``; #15).

Some upstreams refuse a plain client by its TLS handshake (akshare moved its Eastmoney
search to ``curl_cffi`` in December 2025).  :class:`CurlTransport` is an
``httpx.BaseTransport``: the :class:`~finews.fetch.Fetcher` keeps its one code path —
spacing, concurrency cap, retries, body cap, conditional requests — and only the bytes on
the wire change.  curl's errors become the httpx errors the Fetcher already understands
(a timeout is a timeout, a dropped connection a disconnect, a name that does not resolve
an offline machine).

``curl_cffi`` is an extra (``pip install 'finews[impersonate]'``): without it, asking for
``http.impersonate`` is a configuration error naming the extra.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx

from finews.errors import ConfigError

_DROPPED_REQUEST = frozenset({"host", "connection", "accept-encoding", "content-length"})
_DROPPED_RESPONSE = frozenset({"content-encoding", "transfer-encoding", "content-length"})


def available() -> bool:
    try:
        import curl_cffi  # noqa: F401
    except ImportError:
        return False
    return True


def _module() -> Any:
    try:
        from curl_cffi import requests as curl_requests
    except ImportError as exc:
        raise ConfigError(
            "http.impersonate needs curl_cffi: pip install 'finews[impersonate]' "
            f"(or set http.impersonate to empty) ({exc})"
        ) from None
    return curl_requests


def check_browser(name: str) -> None:
    """Refuse a browser name curl_cffi does not know, where it is configured."""
    curl_requests = _module()
    known = {b.value for b in curl_requests.BrowserType}
    aliases = {"chrome", "safari", "safari_ios", "firefox", "edge", "chrome_android", "tor"}
    if name not in known and name not in aliases:
        raise ConfigError(
            f"http.impersonate {name!r} is not a browser curl_cffi imitates "
            "(e.g. chrome, safari, firefox, chrome131)"
        )


def _error(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """curl's failure as the httpx error of the same meaning."""
    code = getattr(exc, "code", None)
    code = int(code) if code is not None else None
    text = str(exc)
    if code == 28:
        return httpx.ReadTimeout(f"timed out (curl: {text})", request=request)
    if code == 6:
        return httpx.ConnectError(
            f"[Errno -2] Name or service not known (curl: {text})", request=request
        )
    if code in {7, 35, 60}:
        return httpx.ConnectError(f"connection failed (curl: {text})", request=request)
    if code in {52, 55, 56, 18, 92}:
        return httpx.RemoteProtocolError(
            f"Server disconnected without sending a complete response (curl: {text})",
            request=request,
        )
    return httpx.ProtocolError(f"curl: {text}", request=request)


class _Body(httpx.SyncByteStream):
    def __init__(
        self, response: Any, request: httpx.Request, errors: tuple[type[BaseException], ...]
    ) -> None:
        self.response = response
        self.request = request
        self.errors = errors

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self.response.iter_content():
                if chunk:
                    yield bytes(chunk)
        except self.errors as exc:
            raise _error(exc, self.request) from None

    def close(self) -> None:
        self.response.close()


class CurlTransport(httpx.BaseTransport):
    """httpx requests sent by curl impersonating ``browser``; one curl session a thread
    (a session is not thread-safe; the Fetcher is)."""

    def __init__(self, browser: str, timeout: float, total: float) -> None:
        self.curl = _module()
        check_browser(browser)
        self.browser = browser
        self.timeout = (timeout, total)
        self._local = threading.local()
        self._sessions: list[Any] = []
        self._lock = threading.Lock()
        self._errors: tuple[type[BaseException], ...] = (self.curl.exceptions.RequestException,)

    def _session(self) -> Any:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self.curl.Session(impersonate=self.browser)
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _DROPPED_REQUEST}
        try:
            response = self._session().request(
                request.method,
                str(request.url),
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,  # httpx follows them, as with its own transport
                stream=True,
            )
        except self._errors as exc:
            raise _error(exc, request) from None
        encoded = "content-encoding" in {k.lower() for k in response.headers}
        kept = [
            (k, v)
            for k, v in response.headers.multi_items()
            if k.lower() not in _DROPPED_RESPONSE or (k.lower() == "content-length" and not encoded)
        ]
        return httpx.Response(
            status_code=response.status_code,
            headers=kept,
            stream=_Body(response, request, self._errors),
            request=request,
        )

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()
