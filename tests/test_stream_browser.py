"""The 7×24 stream a trader keeps open (issue #12), in Debian's Chromium (Playwright).

Real content: the real articles of tests/sitedata.py and the demo's 200 bundled 财联社
flashes (src/finews/data/demo/cls.jsonl.gz), through the real adapter and processor; the
real ``finews serve`` app (tests/webserver.py) for the status and the not-yet-built pages.
The live "N 条新消息" bar is tested in tests/test_web_browser.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import ARTIFACTS, needs_chromium
from daydata import day_articles
from finews.demo.upstreams import bundled
from finews.model import Article
from finews.process.pipeline import Processor
from finews.site import SiteOptions, build_site, paths
from finews.sources import cls
from finews.store import Store
from sitedata import populate
from webserver import serving

pytestmark = needs_chromium

ENGLISH_STATES = re.compile(r"\b(ok|failing|stale|unknown|poll|polls|ever|answers)\b", re.I)


def demo_flashes() -> list[Article]:
    processor = Processor.default()
    return [processor(cls.normalise(item)) for item in bundled("cls")]


@pytest.fixture
def site(tmp_path: Path, store: Store, db_url: str) -> Iterator[tuple[str, list[Article]]]:
    """The built site of real articles, served by the real app."""
    populate(store, fast=40, posts=12)
    flashes = demo_flashes()
    store.save(flashes)
    store.save([reworded()])
    out = tmp_path / "site"
    build_site(store, out, SiteOptions(page_size=30))
    with serving(db_url, out) as base:
        yield base, flashes


def reworded() -> Article:
    """The real 财联社 flash 2400753 whose brief is an earlier wording of its content
    (tests/data/flash/briefing_2026-06-16.jsonl)."""
    return next(a for a in day_articles() if a.upstream_id == "2400753")


def page_at(browser: Any, width: int) -> Any:
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.errors = errors
    return page


def path_of(a: Article) -> str:
    return paths.article_path(a.source, a.upstream_id, int(a.published.timestamp()))


def test_an_untitled_flash_is_read_on_the_home_page_without_a_click(
    site: tuple[str, list[Article]], browser: Any
) -> None:
    base, flashes = site
    page = page_at(browser, 390)
    page.goto(base)
    stream = page.locator("ul.items[data-live='all']")
    untitled = [
        a
        for a, item in zip(flashes, bundled("cls"), strict=True)
        if not item["title"] and item["brief"] == item["content"]
    ]
    shown = 0
    for a in untitled:
        line = stream.locator(f"li:has(a[href='{path_of(a)}'])")
        if line.count() == 0:
            continue  # not among the newest (or told by another report of its story)
        shown += 1
        text = a.digest.split("电，", 1)[-1].strip()
        visible = line.inner_text()
        assert text[:30] in visible, (text, visible)  # the text itself, on screen
        assert line.locator("p.text, details.text").first.is_visible()
    assert shown >= 3
    # nothing wider than the phone
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "stream-phone.png"))
    assert page.errors == []


def test_long_text_unfolds_in_place(site: tuple[str, list[Article]], browser: Any) -> None:
    base, _ = site
    page = page_at(browser, 390)
    page.goto(base)
    folded = page.locator("ul.items details.text").first
    summary = folded.locator("summary")
    height = summary.evaluate("e => e.getBoundingClientRect().height")
    url = page.url
    summary.click()
    assert folded.evaluate("e => e.open") is True
    assert summary.evaluate("e => e.getBoundingClientRect().height") > height
    assert page.url == url  # unfolded where it is, no navigation


def test_展开全文_is_offered_only_where_the_width_hides_text(
    site: tuple[str, list[Article]], browser: Any
) -> None:
    """A text folded at 120 characters takes eight lines on a phone and three on a desktop:
    the desktop showed 展开全文 under texts it showed whole (a new user's walk, wave 8).  The
    marker stays where four lines hide text, at either width."""
    base, _ = site

    def markers(width: int) -> dict[str, tuple[bool, bool]]:
        """href → (the marker is shown, the clamped text overflows), per folded line."""
        page = page_at(browser, width)
        page.goto(base)
        found = page.evaluate(
            """() => Array.from(document.querySelectorAll("ul.items details.text")).map(d => {
                const s = d.firstElementChild;
                const li = d.closest("li");
                return [li.querySelector("a.time").getAttribute("href"),
                        getComputedStyle(d, "::after").display !== "none",
                        s.scrollHeight > s.clientHeight + 2];
            })"""
        )
        assert page.errors == []
        page.close()
        return {href: (shown, hides) for href, shown, hides in found}

    desktop, phone = markers(1280), markers(390)
    assert desktop and desktop.keys() == phone.keys()
    for marks in (desktop, phone):
        assert all(shown == hides for shown, hides in marks.values()), marks
    whole_on_desktop = [h for h, (shown, _) in desktop.items() if not shown]
    assert whole_on_desktop, "some folded texts fit four desktop lines"
    assert any(desktop[h][0] for h in desktop), "a long telegraph stays folded on a desktop"
    assert all(phone[h][0] for h in whole_on_desktop)  # the phone's width hides their end


def test_the_text_appears_once_on_the_article_page(
    site: tuple[str, list[Article]], browser: Any
) -> None:
    base, flashes = site
    page = page_at(browser, 1280)
    bracketed = next(a for a in flashes if a.digest.startswith(f"【{a.title}】"))
    untitled = next(a for a in flashes if not a.digest.startswith("【"))
    for a in (bracketed, untitled):
        page.goto(base + path_of(a))
        article = page.locator("article").inner_text()
        # the whole text once (not a digest above a body saying the same); an untitled
        # flash's heading is its first sentence, cut: a start of the text, not the text
        text = a.digest.split("】", 1)[-1].strip()
        assert len(text) >= 10
        assert article.count(text) == 1, (text, article)
        assert article.count(f"【{a.title}】") == 0  # the heading says it, without brackets
        assert page.locator("article blockquote").count() == 0
    # a brief that is an earlier, shorter wording of the body: the body alone (issue #12)
    page.goto(base + path_of(reworded()))
    article = page.locator("article").inner_text()
    assert page.locator("article blockquote").count() == 0
    assert article.count("沪指跌0.23%") == 1 and "沪深京三市上涨个股近1300只" in article
    assert page.errors == []


def test_the_important_tab_and_a_source_tab_show_only_what_they_promise(
    site: tuple[str, list[Article]], browser: Any, store: Store
) -> None:
    base, _ = site
    page = page_at(browser, 1280)
    page.goto(base)
    page.locator("nav.tabs a", has_text="重要").click()
    assert page.url.endswith("important/index.html")
    page.wait_for_selector("ul.items > li:not(.day)")
    lines = page.locator("ul.items > li:not(.day)")
    assert lines.count() >= 3
    important = {path_of(a) for a in store.iter_articles() if a.important}
    for k in range(lines.count()):
        href = lines.nth(k).locator("a.time").get_attribute("href") or ""
        assert href.removeprefix("../") in important, href
    assert page.locator("nav.tabs a[aria-current]").inner_text() == "重要"
    # the 要闻 page does not paint every line red
    colour = lines.first.locator("time").evaluate("e => getComputedStyle(e).color")
    assert colour != "rgb(200, 16, 46)"

    page.locator("nav.tabs a", has_text="财联社").click()
    assert page.url.endswith("c/cai-lian-she/index.html")
    page.wait_for_selector("ul.items > li:not(.day)")
    lines = page.locator("ul.items > li:not(.day)")
    assert lines.count() >= 10
    hrefs = {lines.nth(k).locator("a.time").get_attribute("href") for k in range(lines.count())}
    assert all("cls.telegraph." in (h or "") for h in hrefs), hrefs
    # 财联社's own page does not say 财联社 on every line (docs/site.md)
    assert page.locator("ul.items .media").count() == 0
    assert page.locator("nav.tabs a[aria-current]").inner_text() == "财联社"
    # and back to everything: other outlets again
    page.locator("nav.tabs a", has_text="全部").click()
    media = set(page.locator("ul.items .media").all_inner_texts())
    assert {"财联社", "东方财富"} <= media
    assert page.errors == []


def test_status_page_is_chinese_and_fits_a_phone(
    site: tuple[str, list[Article]], browser: Any, store: Store
) -> None:
    base, _ = site
    store.record_poll("eastmoney.fast", ok=True, new=0)
    # the fetcher's own message (tests/test_status_words.py makes it against a real server)
    error = "cls.telegraph: GET www.cls.cn/nodeapi/telegraphList: HTTP 503 (after 3 attempts)"
    store.record_poll("cls.telegraph", ok=False, error=error)
    store.record_poll("cls.telegraph", ok=False, error=error)
    page = page_at(browser, 390)
    page.goto(base)
    page.locator("footer a", has_text="来源状态").click()
    assert page.url.endswith("/status")
    main = page.locator("main").inner_text()
    assert not ENGLISH_STATES.search(main), ENGLISH_STATES.search(main)
    assert not re.search(r"\b(after|attempts)\b", main)
    for word in ("失败", "无更新", "未知", "连续失败 2 次"):
        assert word in main
    # the cause in Chinese, the raw message kept on the cell (a pointer shows it)
    cause = page.locator("td.reason[title]")
    assert cause.count() == 1 and cause.get_attribute("title") == error
    assert "请求 www.cls.cn/nodeapi/telegraphList：HTTP 503（服务暂不可用）（共尝试 3 次）" in (
        cause.inner_text()
    )
    assert re.search(r"\d+ 天( \d+ 小时)?", main)  # June's items, by the wall clock
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    # no header or cell squeezed to a character a line
    widths = page.locator("table.status th:visible, table.status td:visible").evaluate_all(
        "cells => cells.map(c => c.getBoundingClientRect().width)"
    )
    assert widths and min(widths) > 60
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "status-phone.png"), full_page=True)
    assert page.errors == []


def test_an_empty_store_says_what_to_do(
    tmp_path: Path, store: Store, db_url: str, browser: Any
) -> None:
    out = tmp_path / "site"
    page = page_at(browser, 390)
    # served before any build: the app answers with the page, not a 404
    with serving(db_url, out) as base:
        page.goto(base)
        text = page.locator("main").inner_text()
        assert "还没有消息" in text and "finews sources" in text and "finews demo" in text
        assert "finews build" in text
    # the built home page of an empty store says the same
    build_site(store, out, SiteOptions())
    with serving(db_url, out) as base:
        page.goto(base)
        text = page.locator("main").inner_text()
        assert "还没有消息" in text and "finews sources" in text and "finews demo" in text
        page.locator("footer a", has_text="来源状态").click()  # added as the app serves it
        assert page.url.endswith("/status")
    assert page.errors == []


def test_the_filter_box_shows_only_the_lines_of_a_stock_or_words(
    site: tuple[str, list[Article]], browser: Any, tmp_path: Path
) -> None:
    """The stream's filter box (issue #12): a stock's name (or code, or words) leaves only the
    lines that have it — on `finews serve` under its CSP, and on the built files opened from
    disk (no server) — with ?q= in the address; without JavaScript the box is not there."""
    base, _ = site
    page = page_at(browser, 1280)
    page.goto(base)
    box = page.locator("form.filter input")
    assert box.is_visible()
    lines = page.locator("ul.items > li:not(.day)")
    total = lines.count()
    chips = page.locator("ul.items a.chip:has(small)")  # named stocks
    assert chips.count() > 0
    # the stock on the fewest lines of the page, by its name as its chip shows it
    counts: dict[str, int] = {}
    for code in chips.evaluate_all("cs => cs.map(c => c.getAttribute('title'))"):
        counts[code] = counts.get(code, 0) + 1
    code = min(counts, key=lambda c: (counts[c], c))
    name = page.locator(f"ul.items a.chip[title='{code}']").first.inner_text().replace(code, "")
    box.fill(name.strip())
    visible = page.locator("ul.items > li:not(.day):visible")
    assert 0 < visible.count() < total
    for k in range(visible.count()):
        assert name.strip() in visible.nth(k).inner_text()
    assert page.locator("form.filter output").inner_text() == f"显示 {visible.count()} / {total} 条"
    # a day with no line left loses its separator too
    for day in page.locator("ul.items > li.day").all():
        if day.is_visible():
            following = day.evaluate(
                "d => { let n = d.nextElementSibling, seen = 0;"
                " while (n && !n.classList.contains('day')) { if (!n.hidden) seen++;"
                " n = n.nextElementSibling; } return seen; }"
            )
            assert following > 0
    assert "?q=" in page.url
    # by its code, and two words that must both be there
    box.fill(code.lower())
    assert counts[code] <= page.locator("ul.items > li:not(.day):visible").count() < total
    box.fill("没有这样的词 xyz")
    assert page.locator("ul.items > li:visible").count() == 0
    assert page.locator("form.filter output").inner_text() == "这一页没有符合的消息"
    archive = page.locator("form.filter a.all")
    assert archive.is_visible() and "search?q=" in (archive.get_attribute("href") or "")
    box.fill("")
    assert page.locator("ul.items > li:not(.day):visible").count() == total
    assert "?q=" not in page.url
    # a filtered address filters on load; the built file from disk filters the same
    page.goto(base + "?q=" + name.strip())
    assert box.input_value() == name.strip()
    assert 0 < page.locator("ul.items > li:not(.day):visible").count() < total
    disk = page_at(browser, 1280)
    disk.goto((tmp_path / "site" / "index.html").as_uri() + "?q=" + name.strip())
    assert disk.locator("form.filter input").input_value() == name.strip()
    assert 0 < disk.locator("ul.items > li:not(.day):visible").count() < total
    disk.locator("form.filter input").fill("没有这样的词 xyz")
    assert disk.locator("form.filter a.all").is_hidden()  # no server, no archive search
    assert page.errors == [] and disk.errors == []
    # without JavaScript: the whole stream, no box that does nothing
    context = browser.new_context(java_script_enabled=False)
    plain = context.new_page()
    plain.goto(base + "?q=" + name.strip())
    assert plain.locator("form.filter").is_hidden()
    assert plain.locator("ul.items > li:not(.day):visible").count() == total
    context.close()
