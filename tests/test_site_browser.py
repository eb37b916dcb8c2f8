"""The built site in a real browser: Debian's Chromium driven by Playwright."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import ARTIFACTS, needs_chromium
from finews.site import SiteOptions, build_site
from finews.store import Store
from sitedata import populate
from webserver import static_site

pytestmark = needs_chromium


@pytest.fixture
def served_site(tmp_path: Path, store: Store) -> Iterator[str]:
    populate(store)
    out = tmp_path / "site"
    build_site(store, out, SiteOptions(page_size=20))
    with static_site(out) as base:
        yield base


def test_home_category_and_article_render_cleanly(served_site: str, browser: Any) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors: list[str] = []
    failed: list[str] = []
    external: list[tuple[str, str | None]] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    # a request the next navigation cancels (ERR_ABORTED: a favicon still loading when a
    # link is clicked) is not a missing resource; a missing one answers 404, caught below
    page.on(
        "requestfailed",
        lambda r: (
            failed.append(f"{r.failure} {r.url}") if r.failure != "net::ERR_ABORTED" else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            failed.append(f"{r.status} {r.url}")
            if r.url.startswith(served_site) and r.status >= 400
            else None
        ),
    )

    def outside(route: Any) -> None:
        # No network here: answer upstream images with nothing, and note who asked.
        external.append((route.request.url, route.request.headers.get("referer")))
        route.fulfill(status=204, body="")

    page.route(lambda url: not url.startswith(served_site), outside)

    page.goto(served_site + "index.html")
    assert page.locator("h1").first.inner_text() == "最新消息"
    assert page.locator("ul.items li").count() >= 30
    page.screenshot(path=str(ARTIFACTS / "home.png"), full_page=False)

    page.locator("header nav a", has_text="来源").click()
    page.locator("a", has_text="财联社").first.click()
    assert page.url.endswith("c/cai-lian-she/index.html")
    page.screenshot(path=str(ARTIFACTS / "category.png"))

    page.locator("ul.items a.headline", has_text="西安银行").click()
    assert "西安银行" in page.locator("article h1").inner_text()
    body = page.locator("article .body")
    assert body.locator("img").count() >= 1
    assert body.locator("img").first.get_attribute("referrerpolicy") == "no-referrer"
    page.screenshot(path=str(ARTIFACTS / "article.png"), full_page=False)

    page.locator("a", has_text="返回首页").click()
    assert page.url.endswith("index.html")

    page.set_viewport_size({"width": 390, "height": 800})  # a phone
    page.goto(served_site + "d/index.html")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(ARTIFACTS / "archive-phone.png"))

    assert errors == []
    assert failed == []
    assert all(referer is None for _, referer in external), external


@pytest.mark.parametrize("width", [390, 1280])
def test_a_reader_finds_the_feeds_and_reads_older_pages_by_date(
    served_site: str, browser: Any, width: int
) -> None:
    """The new reader's walk of wave 8: the header's 订阅 opens a page about the feeds (not
    a feed's raw XML), whose addresses one click selects; an older page says which dates it
    covers, as its 较早 link said; every page of a day leads to the day before."""
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    def fits() -> bool:
        return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))

    page.goto(served_site + "index.html")
    page.locator("header nav a", has_text="订阅").click()
    # a click waits for the navigation to commit, not for the stylesheet: measured before
    # it applied, the unstyled page was wider than 390 px (once in a fresh-clone CI run)
    page.wait_for_load_state("load")
    assert page.url.endswith("feeds/index.html")
    assert page.locator("h1").inner_text() == "订阅"
    assert page.locator("section.feed h2").first.inner_text() == "全站"
    assert fits()
    address = page.locator("ul.formats code").first
    assert address.inner_text().startswith("http://127.0.0.1:8000/")  # site.base_url
    address.click()
    assert page.evaluate("String(window.getSelection())") == address.inner_text()
    page.screenshot(path=str(ARTIFACTS / f"feeds-{width}.png"))

    page.goto(served_site + "c/emnews/index.html")
    older = page.locator("nav.pager a.older")
    when = older.locator(".when").inner_text()
    assert older.locator(".way").inner_text() == "较早 →" and re.match(r"\d{4}年", when)
    older.click()
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text() == f"东财滚动新闻 · {when}"
    assert "第" not in page.title() and when in page.title()
    newer = page.locator("nav.pager a.newer")
    assert newer.locator(".way").inner_text() == "← 较新"
    for link in page.locator("nav.pager a").all():
        box = link.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    assert fits()
    page.locator("nav.pager").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"older-page-{width}.png"))

    page.goto(served_site + "d/2026-06-16-2.html")
    day_links = page.locator("nav.daynav").first
    assert day_links.is_visible()
    day_links.locator("a", has_text="前一天").click()
    assert re.search(r"d/\d{4}-\d\d-\d\d\.html$", page.url) and "2026-06-16" not in page.url
    assert errors == []


@pytest.mark.parametrize("width", [390, 1280])
def test_the_header_search_on_a_static_host_leads_somewhere_useful(
    served_site: str, browser: Any, width: int
) -> None:
    """Wave 9: a static host has no /search, and the header's search box answered 404 there.
    It now leads to the build's search page, which says why there is no full-text search,
    keeps the words typed, and offers the two searches the files can do: the newest
    messages' filter and the stock index's, which has a filter box of its own."""
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    page.goto(served_site + "d/index.html")
    page.fill("header form.search input[name=q]", "欧菲光")
    page.press("header form.search input[name=q]", "Enter")
    page.wait_for_load_state()
    assert "/search/" in page.url
    assert page.locator("h1").inner_text() == "搜索"
    boxes = page.locator("form.static-search input[name=q]")
    assert boxes.count() == 2
    assert [boxes.nth(i).input_value() for i in range(2)] == ["欧菲光", "欧菲光"]
    assert page.locator("header form.search input[name=q]").input_value() == "欧菲光"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(ARTIFACTS / f"static-search-{width}.png"))

    page.locator("form.static-search button", has_text="查找").click()
    page.wait_for_load_state()
    assert page.url.endswith("s/index.html?q=%E6%AC%A7%E8%8F%B2%E5%85%89")
    shown = page.locator("ul.items > li:visible")
    assert shown.count() == 1
    assert "002456.SZ" in shown.first.inner_text()
    total = page.locator("ul.items > li").count()
    assert page.locator("form.filter output").inner_text() == f"显示 1 / {total} 条"
    page.fill("form.filter input", "不存在的公司")
    assert page.locator("form.filter output").inner_text() == "没有符合的股票"
    assert page.locator("ul.items > li:visible").count() == 0
    page.screenshot(path=str(ARTIFACTS / f"stock-index-filter-{width}.png"))

    # the other box: the newest messages' filter on the home page
    page.goto(served_site + "search/?q=%E6%AC%A7%E8%8F%B2%E5%85%89")
    page.locator("form.static-search button", has_text="筛选").click()
    page.wait_for_load_state()
    assert page.url.endswith("index.html?q=%E6%AC%A7%E8%8F%B2%E5%85%89")
    assert page.locator("form.filter input").input_value() == "欧菲光"
    assert errors == []


PAGE_KINDS = {
    "home": r"index\.html$",
    "section": r"/c/[^/]+/index\.html$",
    "important": r"/important/",
    "article": r"/a/\d{4}-\d\d-\d\d/eastmoney\.",
    "story": r"/story/",
    "day": r"/d/\d{4}-\d\d-\d\d",
    "archive": r"/d/index\.html$",
    "stocks": r"/s/index\.html$",
    "stock": r"/s/[^/]+/index\.html$",
    "feeds": r"/feeds/",
    "briefings": r"/briefing/",
}
"""A page of each kind the build writes, by its address (an 东方财富 article: the longest
原文 addresses, which did not wrap: wave 12's walk)."""


def test_no_page_kind_is_wider_than_a_phone(served_site: str, browser: Any) -> None:
    """Every kind of page fits 390 px: no sideways scrolling, whatever the text or the
    upstream's address (wave 12: every 东方财富 and 同花顺 article page was 421–447 px wide,
    its 原文 link one unbreakable line)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 390, "height": 844})
    found: dict[str, str] = {}
    queue = [served_site + "index.html"]
    seen: set[str] = set()
    while queue and len(found) < len(PAGE_KINDS):
        url = queue.pop(0)
        if url in seen or len(seen) >= 60:
            continue
        seen.add(url)
        page.goto(url)
        page.wait_for_load_state("load")
        for kind, pattern in PAGE_KINDS.items():
            if kind not in found and re.search(pattern, url):
                found[kind] = url
                wide = page.evaluate("document.documentElement.scrollWidth")
                assert wide <= 390, f"{kind} page {url} is {wide} px wide at 390"
                page.screenshot(path=str(ARTIFACTS / f"phone-{kind}.png"))
        hrefs = page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)")
        queue += [
            h.split("#")[0]
            for h in hrefs
            if h.startswith(served_site) and h.split("#")[0] not in seen
        ]
    assert set(found) == set(PAGE_KINDS), f"not reached: {set(PAGE_KINDS) - set(found)}"
