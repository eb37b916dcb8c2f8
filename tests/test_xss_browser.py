"""Hostile content, published and opened in a real browser (issue #8).

54 XSS vectors (tests/data/xss_vectors.txt) go in through every field an upstream
controls — title, digest, body, media name, URL, stock name — are stored, built into the
site, served by the real web app and opened in headless Chromium, with handlers that
catch any script execution (alert/confirm/prompt, a global flag) or navigation.  The live
page receives one more over Server-Sent Events.  Zero is the only acceptable count.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from conftest import ARTIFACTS, DATA, needs_chromium
from finews.model import BEIJING, Article, StockTag
from finews.site import SiteOptions, build_site
from finews.store import Store
from htmlcheck import dangerous
from webserver import serving

pytestmark = needs_chromium

VECTORS = [
    line
    for line in (DATA / "xss_vectors.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]
TRAP = """
window.__xss = 0;
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = function () { window.__xss += 1; };
}
"""


def hostile(i: int, vector: str) -> Article:
    start = datetime(2026, 6, 16, 9, 0, tzinfo=BEIJING)
    return Article(
        source="cls.telegraph",
        upstream_id=f"xss{i}",
        title=f"{vector} 标题{i}",
        published=start + timedelta(minutes=i),
        media=vector if i % 5 == 0 else "财联社",
        url=vector if i % 2 else "javascript:alert(1)",
        digest=vector,
        body_html=f"<p>{vector}</p>{vector}<p>正文{i}</p>",
        stocks=(StockTag("600928.SH", vector[:30], "upstream"),),
        important=i % 3 == 0,
        raw=vector,
    )


@pytest.fixture
def hostile_site(tmp_path: Path, store: Store, db_url: str) -> Iterator[tuple[str, Store, Path]]:
    store.save([hostile(i, v) for i, v in enumerate(VECTORS)])
    out = tmp_path / "site"
    build_site(store, out, SiteOptions(page_size=20))
    with serving(db_url, out) as base:
        yield base, store, out


def test_no_vector_runs_anywhere(hostile_site: tuple[str, Store, Path], browser: Any) -> None:
    base, store, out = hostile_site
    context = browser.new_context()
    context.add_init_script(TRAP)
    page = context.new_page()
    dialogs: list[str] = []
    refused: list[str] = []
    navigations: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Refused to execute" in m.text else None,
    )
    page.on(
        "framenavigated",
        lambda f: navigations.append(f.url) if f == page.main_frame else None,
    )

    pages = [
        "",
        "important/index.html",
        "c/index.html",
        "s/600928.SH/index.html",
        "d/index.html",
        *sorted(str(p.relative_to(out)) for p in out.glob("c/*/index.html")),
        *sorted(str(p.relative_to(out)) for p in out.glob("d/*.html")),
        *sorted(str(p.relative_to(out)) for p in out.glob("a/*/*.html")),
        "search?q=" + quote("标题"),
        "search?q=" + quote(VECTORS[0]),
        "status",
        # the feeds as a browser shows them (XML and JSON documents)
        "atom.xml",
        "rss.xml",
        "feed.json",
        "important/atom.xml",
        "feeds/search.atom?q=" + quote("标题"),
        "api/articles/cls.telegraph/xss1",
    ]
    assert len(pages) > len(VECTORS)
    for path in pages:
        expected = base + path
        navigations.clear()
        page.goto(expected)
        page.mouse.move(200, 200)  # hover handlers (onmouseover vectors)
        page.mouse.move(400, 300)
        assert page.evaluate("window.__xss") == 0, path
        unexpected = [u for u in navigations if u != expected and not u.startswith("about:")]
        assert unexpected == [], (path, unexpected)

    # a new hostile article arrives on the open home page over the event stream
    page.goto(base)
    page.wait_for_function("() => document.documentElement.dataset.live === 'connected'")
    live = replace(
        hostile(999, VECTORS[0]),
        title="直播推送的全新消息，沪深两市今日成交额突破一万亿元" + VECTORS[0],
        digest="沪深两市今日成交额突破一万亿元，北向资金净流入超过五十亿元。",
        body_html="<p>沪深两市今日成交额突破一万亿元，北向资金净流入超过五十亿元。</p>"
        + VECTORS[46],
    )
    store.save([live])
    page.wait_for_selector(".live-bar:not([hidden])", timeout=5000)  # counted, then put in
    page.locator(".live-bar").click()
    page.wait_for_selector("ul.items[data-live='all'] li >> text=直播", timeout=5000)
    assert page.evaluate("window.__xss") == 0
    page.screenshot(path=str(ARTIFACTS / "xss-home.png"))

    assert dialogs == [] and refused == []

    # feeds: the HTML a reader renders (entry content) is the cleaned body; titles and
    # summaries are text, escaped (a reader shows them as typed)
    import feedparser

    for feed in ("atom.xml", "rss.xml", "important/atom.xml"):
        raw = (out / feed).read_bytes()
        assert b"<script" not in raw.lower()
        parsed = feedparser.parse(raw, sanitize_html=False)
        for entry in parsed.entries:
            body = entry.content[0].value if "content" in entry else entry.description
            assert dangerous(body) == [], (feed, body)
    for item in json.loads((out / "feed.json").read_text(encoding="utf-8"))["items"]:
        assert dangerous(item["content_html"]) == [], item["id"]
    api = httpx.get(base + "api/articles/cls.telegraph/xss1", timeout=10).json()
    assert dangerous(api["body_html"]) == []


def raw_status(base: str, request_line: str) -> int | None:
    """Send one raw request (what a client library would refuse to build)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall(f"{request_line}\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        try:
            while chunk := conn.recv(65536):
                answer += chunk
        except OSError:
            pass
    match = re.match(rb"HTTP/1\.1 (\d{3})", answer)
    return int(match.group(1)) if match else None


def test_path_traversal_and_oversized_requests_are_refused(
    hostile_site: tuple[str, Store, Path],
) -> None:
    base = hostile_site[0]
    secret = hostile_site[2].parent / "secret.txt"
    secret.write_text("do not serve", encoding="utf-8")
    with httpx.Client(base_url=base, timeout=10) as client:
        for path in (
            "/../secret.txt",
            "/%2e%2e/secret.txt",
            "/assets/..%2f..%2fsecret.txt",
            "/a/..%2f..%2f..%2fsecret.txt",
            "/..%5csecret.txt",
            "/%252e%252e/secret.txt",
            "/.finews/manifest.sqlite3",
        ):
            response = client.get(path)
            assert response.status_code in {400, 403, 404}, (path, response.status_code)
            assert "do not serve" not in response.text
        long_query = client.get("/api/search", params={"q": "银" * 5_000})
        assert long_query.status_code == 200  # long, but a query: cut at 500 characters
        assert raw_status(base, "GET /api/search?q=" + "x" * 200_000 + " HTTP/1.1") in {
            400,
            414,
            431,
            None,  # or the connection is closed without an answer
        }
        huge_header = client.get("/", headers={"X-Big": "x" * 200_000})
        assert huge_header.status_code in {400, 431}
        posted = client.post("/api/search", content=b"x" * 5_000_000)
        assert posted.status_code in {405, 413}
        assert client.get("/").status_code == 200  # still serving
