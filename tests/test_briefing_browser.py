"""The briefing pages of the site (issue #14) in a real browser (Debian's Chromium through
Playwright), built from the real slice of 2026-06-16 (tests/daydata.py): the day's page shows
both sessions grouped, its links lead to the article and story pages, nothing is loaded from
outside, the index lists the day and the feed parses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest

from conftest import ARTIFACTS, needs_chromium
from daydata import DAY, day_articles, trading_articles
from finews.briefing.service import make
from finews.config import load_settings
from finews.site import SiteOptions, build_site
from finews.store import Store
from webserver import static_site

pytestmark = needs_chromium


@pytest.fixture
def served(tmp_path: Path, store: Store) -> Iterator[tuple[str, Store]]:
    store.save(day_articles())
    out = tmp_path / "site"
    build_site(store, out, SiteOptions(page_size=20, base_url="https://news.example.org/"))
    with static_site(out) as base:
        yield base, store


def test_the_briefing_page_in_chromium(served: tuple[str, Store], browser: Any) -> None:
    site, store = served
    from datetime import date

    expected = {
        s: make(store, load_settings(env={}), date.fromisoformat(DAY), s, now=0).briefing
        for s in ("morning", "close")
    }
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1000, "height": 1000})
    errors: list[str] = []
    failed: list[str] = []
    external: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "response",
        lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )

    def outside(route: Any) -> None:
        external.append(route.request.url)
        route.fulfill(status=204, body="")

    page.route(lambda url: not url.startswith(site), outside)

    page.goto(site + "briefing/index.html")
    assert page.locator("h1").inner_text() == "每日简报"
    page.locator("ul.briefings a", has_text=DAY).click()
    page.wait_for_load_state()
    assert page.url.endswith(f"briefing/{DAY}/index.html")
    articles = page.locator("article.briefing")
    assert articles.count() == 2
    assert page.locator("article#morning h1").inner_text() == f"{DAY}（周二）早报"
    assert page.locator("article#close h1").inner_text() == f"{DAY}（周二）收盘"
    for session, b in expected.items():
        shown = page.locator(f"article#{session} section.top h3").all_inner_texts()
        assert shown == [g for g, _ in b.groups]
        headlines = page.locator(f"article#{session} section.top p.headline").all_inner_texts()
        assert headlines == [s.headline for s in b.top]
        flagged = page.locator(f"article#{session} section.flagged li").count()
        assert flagged == len(b.important)
        rows = page.locator(f"article#{session} section.hot-stocks tbody tr").count()
        assert rows == len(b.stocks)
    # the layout holds: the page is no wider than the window, the extract wraps
    assert page.evaluate("document.documentElement.scrollWidth") <= 1000
    page.screenshot(path=str(ARTIFACTS / "briefing.png"), full_page=True)

    # a headline leads to its article page, a heat chip to the story's page
    first = expected["morning"].top[0]
    page.locator("article#morning p.headline a").first.click()
    page.wait_for_load_state()
    assert first.first.upstream_id in page.url and page.locator("h1").count() == 1
    page.go_back()
    told = next(s for s in expected["morning"].top if len(s.reports) > 1)
    page.locator(f"article#morning a.heat[href$='story/{told.id}/index.html']").first.click()
    page.wait_for_load_state()
    assert f"story/{told.id}/" in page.url
    assert page.locator("ul.items.story li:not(.day)").count() == len(told.reports)
    assert not errors and not failed and not external, (errors, failed, external)

    feed = feedparser.parse(httpx.get(site + "briefing/atom.xml").text)
    assert not feed.bozo
    titles = [e.title for e in feed.entries]
    assert titles[:2] == [f"{DAY}（周二）收盘", f"{DAY}（周二）早报"]
    assert feed.entries[0].link == f"https://news.example.org/briefing/{DAY}/index.html#close"
    assert expected["close"].top[0].headline in feed.entries[0].content[0].value


@pytest.fixture
def served_days(tmp_path: Path, store: Store) -> Iterator[str]:
    """Both real slices (2026-06-16, and two weekends and 端午 around it): briefing pages
    with a trading day on either side."""
    store.save(day_articles() + trading_articles())
    out = tmp_path / "site"
    build_site(store, out, SiteOptions(page_size=20))
    with static_site(out) as base:
        yield base


LINES = """el => {
  const range = document.createRange();
  range.selectNodeContents(el);
  const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
  const style = getComputedStyle(el);
  const inner = el.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
  return {text: el.innerText, lines: lines.size, inner: inner,
          line: parseFloat(style.lineHeight), top: Math.round(el.getBoundingClientRect().top)};
}"""
"""A pager button's text lines (the distinct tops of its text's boxes) and its height
inside the padding, against one line's height."""


@pytest.mark.parametrize("width", [390, 1280])
def test_the_pager_labels_never_break(served_days: str, browser: Any, width: int) -> None:
    """The new-user walk: at 390 px the three buttons broke inside their words (全部简/报,
    ← 2026-08-/16).  Every button is one line high at a phone's width and a desktop's, and at
    the desktop's all three stand on one row; the labels name the neighbouring trading days
    (端午 2026-06-19 and the weekend are skipped)."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(served_days + "briefing/2026-06-18/index.html")
    links = page.locator("nav.pager a")
    assert links.all_inner_texts() == ["全部简报", "← 6月16日", "6月22日 →"]
    assert page.locator("nav.pager a[rel=next]").get_attribute("href") == (
        "../../briefing/2026-06-22/index.html"
    )
    boxes = [links.nth(i).evaluate(LINES) for i in range(links.count())]
    for box in boxes:
        assert box["lines"] == 1, box
        assert box["inner"] < 1.5 * box["line"], box
    if width >= 1000:
        assert len({b["top"] for b in boxes}) == 1, boxes
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"briefing-pager-{width}.png"))
    page.close()
