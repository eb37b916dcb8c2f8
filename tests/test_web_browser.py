"""``finews serve`` (the real command) in a real browser: search, and live updates
(issue #6).  Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import ARTIFACTS, needs_chromium
from finews.model import BEIJING
from finews.site import SiteOptions, build_site
from finews.store import Store
from sitedata import populate
from test_search import SEED_ID, cls_flashes

pytestmark = needs_chromium


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def finews_serve(tmp_path: Path, store: Store, db_url: str) -> Iterator[str]:
    """`finews serve` as a user starts it, on a free port of 127.0.0.1."""
    populate(store)
    store.save(cls_flashes())
    out = tmp_path / "site"
    build_site(store, out, SiteOptions(page_size=20))
    port = free_port()
    env = {
        **os.environ,
        "FINEWS_DB": db_url,
        "FINEWS_SITE_OUT": str(out),
        "FINEWS_SERVE_POLL_INTERVAL": "0.2",
    }
    log = tmp_path / "serve.log"
    handle = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "finews", "serve", "--port", str(port)],
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(base + "api/sources", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            handle.close()
            raise RuntimeError(f"finews serve did not start:\n{log.read_text()}")
        time.sleep(0.1)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(10)
        handle.close()


# a transparent 1×1 GIF: what an upstream's image host answers in these tests
_PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)


def watch(page: Any) -> list[str]:
    """The page's errors.  Article pages show the upstream's images from its own hosts
    (img-src https:); this machine is offline, and whether Chromium reached a lazy image
    before a test ended made a DNS failure appear or not — so other hosts answer with a
    pixel, and every error left is the page's own."""
    page.route(
        lambda url: not url.startswith(("http://127.0.0.1", "data:")),
        lambda route: route.fulfill(status=200, content_type="image/gif", body=_PIXEL),
    )
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return errors


def test_type_a_query_and_see_results(finews_serve: str, browser: Any) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors = watch(page)
    page.goto(finews_serve)
    page.fill("header form.search input[name=q]", "西安银行 抗疫")
    page.press("header form.search input[name=q]", "Enter")
    page.wait_for_selector("ul.results li")
    first = page.locator("ul.results li").first
    assert "西安银行" in first.inner_text()
    assert page.locator("ul.results li mark").count() >= 2
    page.screenshot(path=str(ARTIFACTS / "search.png"))
    first.locator("a.headline, a.time").first.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"jekyll.{SEED_ID}.html")
    assert errors == []


def test_the_static_search_page_sends_a_reader_on_to_the_real_search(
    finews_serve: str, browser: Any
) -> None:
    """The build's search/index.html (for static hosts: wave 9), reached on `finews serve`
    (an old link, a typed address), goes on to the archive's search with the same words."""
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors = watch(page)
    page.goto(finews_serve + "search/?q=%E8%A5%BF%E5%AE%89%E9%93%B6%E8%A1%8C")
    page.wait_for_selector("ul.results li")
    assert page.url == finews_serve + "search?q=%E8%A5%BF%E5%AE%89%E9%93%B6%E8%A1%8C"
    assert "西安银行" in page.locator("ul.results li").first.inner_text()
    assert errors == []


def test_home_page_shows_a_new_article_without_reloading(
    finews_serve: str, browser: Any, store: Store
) -> None:
    """New articles wait behind an "N 条新消息" bar (issue #12): the page does not move under
    the reader; a click puts them in, and a reader scrolled down keeps their place."""
    page = browser.new_page(viewport={"width": 1100, "height": 700})
    errors = watch(page)
    page.goto(finews_serve)
    page.wait_for_function("document.querySelectorAll('ul.items[data-live]').length > 0")
    page.evaluate("window.__loaded = true")  # gone if the page reloads
    page.wait_for_function("() => document.documentElement.dataset.live === 'connected'")
    rows_before = page.locator("ul.items[data-live='all'] > li").count()
    # the reader has scrolled down to the fifth line of the list
    page.evaluate(
        "document.querySelectorAll(\"ul.items[data-live='all'] > li\")[4].scrollIntoView()"
    )
    page.locator("ul.items[data-live='all'] > li").nth(4).evaluate(
        "e => { e.dataset.reading = '1'; }"
    )
    reading = page.locator("ul.items[data-live='all'] > li[data-reading]")
    top_before = reading.evaluate("e => e.getBoundingClientRect().top")
    # new content (a copy of a stored flash would be a reprint, which home collapses), and
    # three different stories: written by hand, each about something else (three texts that
    # differed by one character are, rightly, one story since the judgement weighs shared
    # rare words, #10 wave 4)
    base = cls_flashes()[2]
    news = [
        "某新能源车企公布十一月交付量，同比增长四成，创年内新高。",
        "央行今日开展逆回购操作，中标利率与上次持平，净投放资金。",
        "国际油价夜盘急跌，布伦特原油期货一度下挫百分之三。",
    ]
    fresh = [
        replace(
            base,
            upstream_id=f"browser-live-{n}",
            published=datetime.now(BEIJING),
            title=f"实时推送测试{n}：{text[:12]}",
            digest=text,
            body_html=f"<p>{text}</p>",
        )
        for n, text in enumerate(news)
    ]
    started = time.monotonic()
    store.save([fresh[0]])
    bar = page.locator(".live-bar").first
    page.wait_for_selector(".live-bar:not([hidden])", timeout=3000)
    assert time.monotonic() - started < 3
    assert bar.inner_text().startswith("1 条新消息")
    # it floats over the foot of the page: no header link (订阅, the search box) behind it
    header = page.locator("header.site").evaluate("e => e.getBoundingClientRect().bottom")
    assert bar.evaluate("e => e.getBoundingClientRect().top") > header
    store.save(fresh[1:])
    page.wait_for_function(
        "() => document.querySelector('.live-bar').dataset.count === '3'", timeout=3000
    )
    assert bar.inner_text().startswith("3 条新消息")
    assert page.title().startswith("(3) ")
    # nothing moved: the same lines, the one being read where it was
    assert page.locator("ul.items[data-live='all'] > li").count() == rows_before
    assert abs(reading.evaluate("e => e.getBoundingClientRect().top") - top_before) < 1
    assert "实时推送测试" not in page.locator("ul.items[data-live='all']").inner_text()
    bar.click()
    assert bar.is_hidden()
    # the three, under a line of their own day (the stored ones are of June and August:
    # wave 12's walk saw flashes after midnight put under the previous day's line)
    assert page.locator("ul.items[data-live='all'] > li").count() == rows_before + 4
    today = datetime.now(BEIJING).date()
    top = page.locator("ul.items[data-live='all'] > li").first
    assert top.get_attribute("class") == "day"
    assert top.get_attribute("data-day") == today.isoformat()
    weekday = "一二三四五六日"[today.weekday()]
    assert top.inner_text() == f"{today.year}年{today.month}月{today.day}日 星期{weekday}"
    assert page.locator("ul.items[data-live='all'] > li.day").count() == 1 + page.evaluate(
        "new Set([...document.querySelectorAll(\"ul.items[data-live='all'] > li:not(.day)\")]"
        ".slice(3).map(li => li.querySelector('time').getAttribute('datetime').slice(0, 10)))"
        ".size"
    )
    # inserted above the reader: the line they were reading has not moved on the screen
    assert abs(reading.evaluate("e => e.getBoundingClientRect().top") - top_before) < 2
    assert page.evaluate("window.__loaded") is True
    first = page.locator("ul.items[data-live='all'] > li:not(.day)").first
    assert "实时推送测试" in first.inner_text()
    href = first.locator("a").first.get_attribute("href")
    assert href and "cls.telegraph.browser-live-" in href
    assert not page.title().startswith("(")
    page.screenshot(path=str(ARTIFACTS / "live-home.png"))
    assert errors == []


def test_a_listed_story_gains_its_heat_when_another_outlet_reports_it(
    finews_serve: str, browser: Any, store: Store
) -> None:
    """The home page tells each story once: a second outlet's report of a listed flash is
    not a new line, but the listed line shows the story's heat at once (#10, #12)."""
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors = watch(page)
    page.goto(finews_serve)
    page.wait_for_function("() => document.documentElement.dataset.live === 'connected'")
    # a new flash (hand-written text), put in through the bar: a story told once
    text = (
        "某光伏龙头宣布在内蒙古鄂尔多斯建设钙钛矿叠层电池工厂，"
        "总投资约三百二十亿元，预计二〇二八年投产。"
    )
    first = replace(
        cls_flashes()[2],
        upstream_id="browser-heat-first",
        published=datetime.now(BEIJING),
        title="钙钛矿叠层电池工厂落地鄂尔多斯",
        digest=text,
        body_html=f"<p>{text}</p>",
    )
    store.save([first])
    page.wait_for_selector(".live-bar:not([hidden])", timeout=5000)
    page.locator(".live-bar").first.click()
    line = page.locator("ul.items[data-live='all'] > li", has_text="钙钛矿叠层电池工厂落地")
    assert line.count() == 1 and line.locator("a.heat").count() == 0
    store.save(
        [
            replace(
                first,
                source="eastmoney.fast",
                upstream_id="browser-heat",
                media="东方财富",
                url="https://finance.eastmoney.com/a/browser-heat.html",
            )
        ]
    )
    stored = store.find("cls.telegraph", "browser-heat-first")
    again = store.find("eastmoney.fast", "browser-heat")
    assert stored and again and stored[2] == again[2]  # one story
    line.locator("a.heat").wait_for(timeout=5000)
    chip = line.locator("a.heat")
    assert chip.inner_text() in {"财联社、东方财富报道", "东方财富、财联社报道"}
    assert (chip.get_attribute("href") or "").endswith(f"story/{stored[2]}/index.html")
    lines = page.locator("ul.items[data-live='all'] > li", has_text="钙钛矿叠层电池工厂落地")
    assert lines.count() == 1, lines.all_inner_texts()
    assert page.locator(".live-bar:not([hidden])").count() == 0  # no new line waits
    assert errors == []


def test_an_article_shown_before_its_full_text_is_completed_in_place(
    finews_serve: str, browser: Any, store: Store, tmp_path: Path
) -> None:
    """Show first, complete later (#17): the list's text is on the page; when the full
    text is stored, the open article page shows it without reloading, and the home
    page's line is marked complete."""
    from finews.site import paths

    now = datetime.now(BEIJING)
    listed = replace(
        cls_flashes()[3],
        source="eastmoney.fast",
        upstream_id="shown-first",
        media="东方财富",
        published=now,
        title="先显示的快讯：全文随后",
        digest="列表给出的摘要，全文还在路上。",
        body_html="",
        body_complete=False,
    )
    store.save([listed])
    build_site(store, tmp_path / "site", SiteOptions(page_size=20))
    path = paths.article_path(listed.source, listed.upstream_id, int(now.timestamp()))
    home = browser.new_page(viewport={"width": 1100, "height": 900})
    article = browser.new_page(viewport={"width": 1100, "height": 900})
    home_errors, article_errors = watch(home), watch(article)
    home.goto(finews_serve)
    article.goto(finews_serve + path)
    for page in (home, article):
        page.wait_for_function("() => document.documentElement.dataset.live === 'connected'")
        page.evaluate("window.__loaded = true")
    assert "全文还在路上" in article.inner_text("article .body")
    store.save([replace(listed, body_html="<p>全文段落：这是完整的正文。</p>", body_complete=True)])
    article.wait_for_function(
        "() => document.querySelector('article .body').textContent.includes('全文段落')",
        timeout=5000,
    )
    home.wait_for_selector("ul.items[data-live='all'] li[data-complete='true']", timeout=5000)
    assert article.evaluate("window.__loaded") is True and home.evaluate("window.__loaded")
    ARTIFACTS.mkdir(exist_ok=True)
    article.screenshot(path=str(ARTIFACTS / "live-completed.png"))
    assert home_errors == [] and article_errors == []
