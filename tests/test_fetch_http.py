"""The fetch layer on a real local HTTP server: override, spacing, retries, caps, caching."""

from __future__ import annotations

import gzip
import itertools
import time
from typing import Any

import pytest
from werkzeug import Request
from werkzeug import Response as WResponse

from finews.errors import FetchError, UpstreamFormatError
from finews.fetch import Fetcher, FetchPolicy, decode_json
from finews.fetch.decode import decode_text, unwrap_jsonp
from finews.fetch.http import Response, apply_override, retry_after_seconds, site_of
from finews.fetch.impersonate import available as curl_available


@pytest.fixture(
    params=[
        "",
        pytest.param(
            "chrome",
            marks=pytest.mark.skipif(not curl_available(), reason="curl_cffi is not installed"),
        ),
    ],
    ids=["httpx", "curl_cffi"],
)
def impersonate(request: pytest.FixtureRequest) -> str:
    """The same fetch tests through plain httpx and the browser-fingerprint transport
    (issue #15): only the bytes on the wire may differ."""
    return str(request.param)


def policy(server: Any, **kw: Any) -> FetchPolicy:
    base = server.url_for("").rstrip("/")
    defaults: dict[str, Any] = {
        "host_spacing": 0,
        "backoff": 0.01,
        "timeout": 2,
        "overrides": {"api.example.com": base, "other.example.com": base + "/prefix"},
    }
    return FetchPolicy(**{**defaults, **kw})


def test_override_keeps_path_and_query(httpserver: Any, impersonate: str) -> None:
    seen: list[str] = []

    def handler(request: Request) -> WResponse:
        seen.append(request.full_path)
        return WResponse('{"ok": 1}', content_type="application/json")

    httpserver.expect_request("/prefix/x").respond_with_handler(handler)
    httpserver.expect_request("/a/b").respond_with_handler(handler)
    with Fetcher(policy(httpserver, impersonate=impersonate)) as f:
        assert decode_json(f.get("https://api.example.com/a/b?q=1", params={"z": "中"})) == {
            "ok": 1
        }
        f.get("https://other.example.com/x")
    assert seen == ["/a/b?q=1&z=%E4%B8%AD", "/prefix/x?"]
    assert apply_override("https://h.com/p?q", {"x.com": "http://y"}) == "https://h.com/p?q"


def test_spacing_holds_per_site(httpserver: Any) -> None:
    times: list[float] = []

    def handler(request: Request) -> WResponse:
        times.append(time.monotonic())
        return WResponse("{}")

    httpserver.expect_request("/t").respond_with_handler(handler)
    with Fetcher(policy(httpserver, host_spacing=0.3)) as f:
        for _ in range(4):
            f.get("https://api.example.com/t")
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.28
    assert site_of("np-listapi.eastmoney.com") == site_of("newsinfo.eastmoney.com")
    assert site_of("127.0.0.1") == "127.0.0.1"


def test_status_errors_and_retry_after_limits(httpserver: Any, impersonate: str) -> None:
    httpserver.expect_request("/404").respond_with_data("no", status=404)
    httpserver.expect_request("/long").respond_with_data(
        "wait", status=429, headers={"Retry-After": "3600"}
    )
    httpserver.expect_request("/down").respond_with_data("down", status=503)
    with Fetcher(policy(httpserver, impersonate=impersonate, retries=2)) as f:
        with pytest.raises(FetchError, match="HTTP 404"):
            f.get("https://api.example.com/404")
        with pytest.raises(FetchError, match="Retry-After 3600"):
            f.get("https://api.example.com/long")
        sent = f.requests_sent
        with pytest.raises(FetchError, match=r"HTTP 503 \(after 3 attempts\)"):
            f.get("https://api.example.com/down")
        assert f.requests_sent - sent == 3
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470.0) == 10.0
    assert retry_after_seconds("soon", 0) is None


def test_body_cap_counts_decompressed_bytes(httpserver: Any, impersonate: str) -> None:
    bomb = gzip.compress(b"0" * (5 * 1024 * 1024))  # 5 KB on the wire, 5 MB unpacked
    httpserver.expect_request("/bomb").respond_with_data(
        bomb, headers={"Content-Encoding": "gzip"}, content_type="application/json"
    )
    httpserver.expect_request("/big").respond_with_data(b"x" * 3000)
    with (
        Fetcher(policy(httpserver, impersonate=impersonate, max_bytes=1024 * 1024)) as f,
        pytest.raises(FetchError, match="limit"),
    ):
        f.get("https://api.example.com/bomb")
    with (
        Fetcher(policy(httpserver, impersonate=impersonate, max_bytes=2048)) as f,
        pytest.raises(FetchError, match="3,000"),
    ):
        f.get("https://api.example.com/big")


def test_conditional_requests(httpserver: Any, impersonate: str) -> None:
    def handler(request: Request) -> WResponse:
        if request.headers.get("If-None-Match") == '"v1"':
            return WResponse(status=304)
        return WResponse('{"v": 1}', headers={"ETag": '"v1"'}, content_type="application/json")

    httpserver.expect_request("/doc").respond_with_handler(handler)
    with Fetcher(policy(httpserver, impersonate=impersonate)) as f:
        first = f.get("https://api.example.com/doc", params={"t": 1}, volatile=frozenset({"t"}))
        second = f.get("https://api.example.com/doc", params={"t": 2}, volatile=frozenset({"t"}))
    assert not first.not_modified and second.not_modified
    assert decode_json(second) == {"v": 1}


def test_connection_refused_is_a_fetch_error(impersonate: str) -> None:
    p = FetchPolicy(
        retries=1,
        backoff=0.01,
        host_spacing=0,
        overrides={"x.com": "http://127.0.0.1:9"},
        impersonate=impersonate,
    )
    with Fetcher(p) as f, pytest.raises(FetchError, match="connection failed"):
        f.get("https://x.com/")


def _resp(body: bytes, ctype: str = "application/json") -> Response:
    return Response("https://h/p?secret=1", 200, {"content-type": ctype}, body)


def test_decoding_shapes() -> None:
    assert decode_json(_resp(b'cb123({"a": 1})')) == {"a": 1}
    assert decode_json(_resp(b'try{cb({"a": [1]});}catch(e){};')) == {"a": [1]}
    assert unwrap_jsonp('{"a": "(x)"}') == '{"a": "(x)"}'
    assert decode_json(_resp('{"t": "中文"}'.encode("gbk"))) == {"t": "中文"}
    assert decode_text("中文".encode()[:-1]) == "中\ufffd"
    for body, message in [(b"", "empty"), (b"<html>", "HTML"), (b'{"a": ', "malformed")]:
        with pytest.raises(UpstreamFormatError, match=message) as info:
            decode_json(_resp(body))
        assert "secret" not in str(info.value)
