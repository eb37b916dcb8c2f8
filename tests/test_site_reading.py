"""The site as a new reader walks it (wave 8): the 订阅 page, 要闻's older pages, pages named
by the dates they cover with 较新 / 较早 pagers, and the days around on every page of a day.

Real test data: the real articles of tests/sitedata.py, the real flashes of one day
(tests/daydata.py, 138 articles on 2026-06-16 with them) and the real story pairs of
tests/data/flash/story_cases.jsonl."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from daydata import day_articles
from finews.model import BEIJING, Article
from finews.site import SiteOptions, build_site, paths
from finews.store import Store
from sitedata import BASE_URL, populate, story_case_articles
from test_site import assert_same_as_full, broken_links

OPTIONS = SiteOptions(base_url=BASE_URL, page_size=10, feed_size=20)


def read(out: Path, name: str) -> str:
    return (out / name).read_text(encoding="utf-8")


def heading(page: str) -> str:
    found = re.search(r"<h1>([^<]*)</h1>", page)
    assert found, "a page without a heading"
    return html.unescape(found.group(1))


def pager(page: str) -> dict[str, tuple[str, str]]:
    """The pager's links: class (newer, older) -> (href, the dates it names)."""
    nav = re.search(r'<nav class="pager" aria-label="翻页">(.*?)</nav>', page, re.S)
    if nav is None:
        return {}
    links = re.findall(
        r'<a href="([^"]+)" class="(newer|older)"><span class="way">([^<]*)</span>'
        r'(?:<span class="when">([^<]*)</span>)?</a>',
        nav.group(1),
    )
    found = {}
    for href, way, label, when in links:
        assert ("较新" if way == "newer" else "较早") in label, label
        found[way] = (href, html.unescape(when))
    return found


def listed_articles(page: str) -> list[str]:
    """The article pages a listing's lines link to (from the site's root), in page order."""
    items = re.search(r'<ul class="items"[^>]*>(.*?)</ul>', page, re.S)
    assert items is not None
    lines = re.findall(r"<li(?! class=\"day\")[^>]*>.*?</li>", items.group(1), re.S)
    found = [re.search(r'href="(?:\.\./)*(a/[^"]+)"', line) for line in lines]
    assert all(found)
    return [f.group(1) for f in found if f]


def day_store(store: Store) -> list[Article]:
    """The real articles, one real day's flashes and two real stories told twice."""
    articles = populate(store)
    day = day_articles()
    store.save(day)
    pairs = story_case_articles("pair")[:4]
    store.save(pairs)
    return articles + day + pairs


def test_the_header_leads_to_a_feeds_page_that_lists_every_feed(
    tmp_path: Path, store: Store
) -> None:
    day_store(store)
    out = tmp_path / "site"
    build_site(store, out, OPTIONS)
    for name in ("index.html", "c/emnews/p2.html", "d/2026-06-16-3.html"):
        header = read(out, name).split("<header", 1)[1].split("</header>", 1)[0]
        assert re.search(r'href="(?:\.\./)*feeds/index\.html">订阅</a>', header), name
        assert "atom.xml" not in header, name
    page = read(out, "feeds/index.html")
    assert "<title>订阅 · " in page and heading(page) == "订阅"
    # every link on the page is a file of the built site; every address shown beside a
    # format's link is that file's absolute address
    hrefs = re.findall(r'href="([^"]+)"', page.split("<main>", 1)[1])
    targets = {(out / "feeds" / h).resolve() for h in hrefs}
    assert all(t.is_file() for t in targets), [t for t in targets if not t.is_file()]
    pairs = re.findall(r'<li><a href="\.\./([^"]+)">([^<]+)</a><code>([^<]+)</code></li>', page)
    assert pairs and all(url == BASE_URL + path for path, _, url in pairs)
    assert {label for _, label, _ in pairs} == {"RSS", "Atom", "JSON Feed"}
    # every feed the site has is on it: the site's, 要闻's, the briefings', each section's
    # (a stock's by its pattern and one real example)
    linked = {path for path, _, _ in pairs}
    feeds = {
        str(p.relative_to(out))
        for p in out.rglob("*")
        if p.name in {"atom.xml", "rss.xml", "feed.json"} and not p.is_relative_to(out / "s")
    }
    assert feeds <= linked, feeds - linked
    sections = {p.parent.name for p in (out / "c").glob("*/atom.xml")}
    assert len(sections) >= 3 and all(f"c/{slug}/rss.xml" in linked for slug in sections)
    stocks = {p.split("/")[1] for p in linked if p.startswith("s/")}
    assert len(stocks) == 1
    with store.engine.connect() as conn:
        top = conn.execute(
            text("SELECT code, count(*) n FROM article_stocks GROUP BY code ORDER BY n DESC, code")
        ).first()
    assert top is not None and stocks == {top[0]}
    assert f"{BASE_URL}s/<var>代码</var>/rss.xml" in page
    # the search feeds of finews serve: named, not linked (a static host has none)
    assert "finews serve" in page and f"{BASE_URL}feeds/search.atom?q=" in page
    assert "feeds/search" not in " ".join(hrefs)
    assert broken_links(out) == []


def important_entries(store: Store) -> list[str]:
    """要闻 as the store says it should be: every story with an important report, once, by its
    newest important report; newest first, as article paths."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT source, upstream_id, published_at, coalesce(cluster_id, id) FROM articles"
                " WHERE important ORDER BY published_at DESC, id DESC"
            )
        ).all()
    seen: set[int] = set()
    entries = []
    for source, upstream_id, published_at, cluster in rows:
        if cluster not in seen:
            seen.add(cluster)
            entries.append(paths.article_path(source, upstream_id, published_at))
    return entries


def walk_older(out: Path, start: str) -> list[str]:
    """The pages from ``start`` on, following each page's 较早 link (site paths)."""
    chain = [start]
    while True:
        older = pager(read(out, chain[-1])).get("older")
        if older is None:
            return chain
        chain.append(str((out / chain[-1]).parent.joinpath(older[0]).resolve().relative_to(out)))


def test_important_news_has_older_pages_one_entry_per_story(tmp_path: Path, store: Store) -> None:
    day_store(store)
    out = tmp_path / "site"
    build_site(store, out, OPTIONS)
    expected = important_entries(store)
    assert len(expected) > 2 * OPTIONS.page_size, "the real data has pages of important news"
    chain = walk_older(out, "important/index.html")
    assert chain[1:] == [f"important/p{k}.html" for k in range(len(chain) - 1, 0, -1)]
    assert len(chain) == len(expected) // OPTIONS.page_size
    shown = [a for name in chain for a in listed_articles(read(out, name))]
    assert shown == expected  # the whole history, newest first, each story once
    assert f"共 {len(expected)} 条" in read(out, "important/index.html")
    sitemap = read(out, "sitemaps/sections.xml")
    assert all(f"{BASE_URL}{name}" in sitemap for name in chain)


def span_of(page: str) -> str:
    """The dates a page covers, from its lines' times (the date separators and HH:MM)."""
    times = re.findall(r'<time datetime="([^"]+)"', page.split('<ul class="items"', 1)[1])
    stamps = sorted(datetime.fromisoformat(t).astimezone(BEIJING) for t in times)
    a, z = stamps[0], stamps[-1]
    day = f"{a.year}年{a.month}月{a.day}日"
    if a.date() == z.date():
        clock = (
            f"{a:%H:%M}" if a.strftime("%H:%M") == z.strftime("%H:%M") else f"{a:%H:%M}–{z:%H:%M}"
        )
        return f"{day} {clock}"
    end = f"{z.year}年{z.month}月{z.day}日" if z.year != a.year else f"{z.month}月{z.day}日"
    return f"{day}–{end}"


def test_older_pages_are_named_by_their_dates_and_say_which_way_is_newer(
    tmp_path: Path, store: Store
) -> None:
    day_store(store)
    out = tmp_path / "site"
    build_site(store, out, OPTIONS)
    chunked = [("c/emnews/", "东财滚动新闻"), ("important/", "重要消息")]
    for prefix, name in chunked:
        index = read(out, prefix + "index.html")
        assert re.search(r"共 \d+ 条，\d+ 页", index)
        for page_name in walk_older(out, prefix + "index.html")[1:]:
            page = read(out, page_name)
            assert "第" not in heading(page) and "页" not in heading(page)
            assert heading(page) == f"{name} · {span_of(page)}", page_name
            assert f"<title>{name} · {span_of(page)} · " in html.unescape(page)
            links = pager(page)
            # each link names the dates of the page it leads to (the index: 最新一页)
            for way, (href, when) in links.items():
                target = str((out / page_name).parent.joinpath(href).resolve().relative_to(out))
                if target.endswith("index.html"):
                    assert way == "newer" and when == "最新一页"
                else:
                    assert when == span_of(read(out, target)), (page_name, way)
            assert "newer" in links
            assert ("older" in links) == (not page_name.endswith("/p1.html"))
    # one day's pages name their times
    assert heading(read(out, "d/2026-06-16-2.html")).startswith("2026-06-16 的消息 · ")


def test_every_page_of_a_day_links_to_the_days_around_it(tmp_path: Path, store: Store) -> None:
    day_store(store)
    out = tmp_path / "site"
    build_site(store, out, OPTIONS)
    days = sorted(p.stem for p in (out / "d").glob("????-??-??.html"))
    i = days.index("2026-06-16")
    before, after = days[i - 1], (days[i + 1] if i + 1 < len(days) else None)
    pages = sorted((out / "d").glob("2026-06-16*.html"))
    assert len(pages) >= 10  # 138 articles, 10 a page
    for page in pages:
        content = page.read_text(encoding="utf-8")
        navs = re.findall(r'<nav class="pager daynav" aria-label="按日期">(.*?)</nav>', content)
        assert len(navs) == 2, page.name  # above the list and below it
        for nav in navs:
            older = f'<a href="../d/{before}.html">前一天 <span class="when">{before}</span> →</a>'
            assert older in nav
            if after:
                assert f'<a href="../d/{after}.html">← 后一天' in nav
            assert 'href="../d/index.html">归档</a>' in nav
    # between the day's own pages, 较新 / 较早 with their times
    middle = pager(read(out, "d/2026-06-16-2.html"))
    assert middle["newer"][0] == "../d/2026-06-16.html"
    assert middle["older"][0] == "../d/2026-06-16-3.html"
    assert re.fullmatch(r"\d\d:\d\d(–\d\d:\d\d)?", middle["newer"][1])


def reprint(a: Article, n: int, later: timedelta, important: bool) -> Article:
    """A hand-made later report of the real article ``a`` by another outlet (its real text)."""
    return replace(
        a,
        source="wscn.live",
        upstream_id=f"9{n:06d}",
        media="华尔街见闻",
        category="",
        important=important,
        published=a.published + later,
    )


def test_incremental_builds_equal_full_ones_as_pages_open_and_stories_move(
    tmp_path: Path, store: Store
) -> None:
    """New chunk pages (a section's and 要闻's), a story whose newer important report moves
    its 要闻 entry, an important article deleted: an incremental build equals a
    full one each time (their neighbours' pagers name the pages' dates)."""
    articles = day_store(store)
    inc = tmp_path / "inc"
    build_site(store, inc, OPTIONS)
    important = [a for a in articles if a.important]
    emnews = [a for a in articles if a.category == "emnews"]
    # one at a time across a section's and 要闻's next chunk boundary: a new chunk page
    # changes its older neighbour's 较新 link
    newest = max(a.published for a in articles)
    for n in range(OPTIONS.page_size + 1):
        source = important[n % len(important)] if n % 2 else emnews[n]
        store.save(
            [
                replace(
                    source,
                    upstream_id=f"{source.upstream_id}-w8-{n}",
                    category="emnews",
                    important=bool(n % 2),
                    published=newest + timedelta(minutes=n + 1),
                )
            ]
        )
        report = build_site(store, inc, OPTIONS)
        assert not report.full
        if n in (4, OPTIONS.page_size):
            assert_same_as_full(store, inc, tmp_path / f"full-{n}")
    # an old important story told again, importantly, 20 hours later: its entry moves to the
    # story's later place, every 要闻 page from its old place on shifts
    oldest = min((a for a in important if a.source == "eastmoney.fast"), key=lambda a: a.published)
    told_again = reprint(oldest, 1, timedelta(hours=20), important=True)
    store.save([told_again])
    with store.engine.connect() as conn:
        clusters = conn.execute(
            text("SELECT DISTINCT cluster_id FROM articles WHERE upstream_id IN (:a, :b)"),
            {"a": oldest.upstream_id, "b": told_again.upstream_id},
        ).all()
    assert len(clusters) == 1, "the reprint joins the story"
    build_site(store, inc, OPTIONS)
    assert_same_as_full(store, inc, tmp_path / "full-moved")
    entries = important_entries(store)
    moved = paths.article_path(
        told_again.source, told_again.upstream_id, int(told_again.published.timestamp())
    )
    assert moved in entries and entries[-1] != paths.article_path(
        oldest.source, oldest.upstream_id, int(oldest.published.timestamp())
    )
    # an important article deleted: its story's entry goes, every later 要闻 page shifts
    gone = important[3]
    gone_path = paths.article_path(gone.source, gone.upstream_id, int(gone.published.timestamp()))
    assert gone_path in entries
    store.delete([gone.key])
    build_site(store, inc, OPTIONS)
    assert gone_path not in important_entries(store)
    assert_same_as_full(store, inc, tmp_path / "full-deleted")
