"""``finews serve`` on a real uvicorn server: API contract, search page, search feeds,
live updates over SSE, headers (issue #6)."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest

from conftest import BACKENDS, backend_url, postgres_url
from finews.model import BEIJING
from finews.site import SiteOptions, build_site, paths
from finews.store import Store
from sitedata import BASE_URL, populate
from test_search import SEED_ID, cls_flashes
from webserver import serving


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The web app's tests run on SQLite and on PostgreSQL (issue #9)."""
    return backend_url(request.param, tmp_path)


@contextmanager
def _served(store: Store, url: str, folder: Path) -> Iterator[tuple[str, Store, Path]]:
    """The test articles stored, their site built into ``folder``/site and served."""
    populate(store)
    store.save(cls_flashes())
    out = folder / "site"
    build_site(store, out, SiteOptions(base_url=BASE_URL))
    with serving(url, out) as base:
        yield base, store, out


@pytest.fixture
def site(tmp_path: Path, store: Store, db_url: str) -> Iterator[tuple[str, Store, Path]]:
    with _served(store, db_url, tmp_path) as served:
        yield served


@pytest.fixture
def client(site: tuple[str, Store, Path]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site[0], timeout=10) as c:
        yield c


@pytest.fixture(scope="module", params=BACKENDS)
def shared_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Store, Path]]:
    """The same store, site and server, made once for the tests that only read them (each
    of the others makes its own: it stores, deletes or records polls).  Its PostgreSQL
    database is one no other test empties."""
    folder = tmp_path_factory.mktemp("shared-site")
    with pytest.MonkeyPatch.context() as env:  # what _clean_env does for one test
        for name in list(os.environ):
            if name.startswith("FINEWS_"):
                env.delenv(name)
        env.setenv("XDG_CONFIG_HOME", str(folder / "xdg-config"))
        env.setenv("XDG_DATA_HOME", str(folder / "xdg-data"))
        url = (
            postgres_url("_shared")
            if request.param == "postgresql"
            else f"sqlite:///{folder / 'finews.db'}"
        )
        store = Store.open(url)
        try:
            with _served(store, url, folder) as served:
                yield served
        finally:
            store.close()


@pytest.fixture
def reader(shared_site: tuple[str, Store, Path]) -> Iterator[httpx.Client]:
    """A client of the shared site: for a test that changes nothing."""
    with httpx.Client(base_url=shared_site[0], timeout=10) as c:
        yield c


# -- the contract: every answer has exactly the fields its OpenAPI schema declares -----


def _schema(openapi: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in ref:
        return openapi["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]  # type: ignore[no-any-return]
    return ref


def conforms(openapi: dict[str, Any], schema: dict[str, Any], value: Any, where: str) -> None:
    """A small structural check: object keys, required fields, array items, types."""
    schema = _schema(openapi, schema)
    if "anyOf" in schema:
        errors = []
        for option in schema["anyOf"]:
            try:
                conforms(openapi, option, value, where)
                return
            except AssertionError as exc:
                errors.append(str(exc))
        raise AssertionError(f"{where}: matches no option: {errors}")
    kind = schema.get("type")
    if kind == "object":
        assert isinstance(value, dict), where
        props = schema.get("properties", {})
        assert set(value) == set(props), f"{where}: {set(value) ^ set(props)}"
        for name, sub in props.items():
            conforms(openapi, sub, value[name], f"{where}.{name}")
    elif kind == "array":
        assert isinstance(value, list), where
        for i, item in enumerate(value):
            conforms(openapi, schema["items"], item, f"{where}[{i}]")
    elif kind == "string":
        assert isinstance(value, str), where
    elif kind == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), where
    elif kind == "number":
        assert isinstance(value, int | float), where
    elif kind == "boolean":
        assert isinstance(value, bool), where
    elif kind == "null":
        assert value is None, where


def check(client: httpx.Client, openapi: dict[str, Any], path: str, **params: Any) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    template = next(
        p
        for p in openapi["paths"]
        if p.count("/") == path.count("/")
        and all(
            a == b or a.startswith("{") for a, b in zip(p.split("/"), path.split("/"), strict=True)
        )
    )
    schema = openapi["paths"][template]["get"]["responses"]["200"]["content"]["application/json"]
    conforms(openapi, schema["schema"], response.json(), path)
    return response.json()


def test_every_endpoint_answers_as_its_schema_says(reader: httpx.Client) -> None:
    openapi = reader.get("api/openapi.json").json()
    assert {
        "/api/articles",
        "/api/articles/{source}/{upstream_id}",
        "/api/search",
        "/api/sources",
    } <= set(openapi["paths"])
    page = check(reader, openapi, "/api/articles", limit=5)
    assert len(page["articles"]) == 5 and page["next_cursor"]
    one = check(reader, openapi, f"/api/articles/jekyll/{SEED_ID}")
    assert one["title"].endswith("西安银行抗疫在行动") and "<p>" in one["body_html"]
    found = check(reader, openapi, "/api/search", q="西安银行 抗疫")
    assert found["results"][0]["id"] == SEED_ID
    sources = check(reader, openapi, "/api/sources")
    assert {s["source"] for s in sources} >= {"eastmoney.fast", "jekyll", "cls.telegraph"}


def test_cursor_pagination_visits_every_article_once_newest_first(
    reader: httpx.Client, shared_site: tuple[str, Store, Path]
) -> None:
    seen: list[tuple[str, str]] = []
    times: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 17}
        if cursor:
            params["cursor"] = cursor
        page = reader.get("api/articles", params=params).json()
        seen += [(a["source"], a["id"]) for a in page["articles"]]
        times += [a["time"] for a in page["articles"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == shared_site[1].count()
    epochs = [time.mktime(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S")) for t in times]
    assert epochs == sorted(epochs, reverse=True)


def test_filters_and_bad_parameters(reader: httpx.Client) -> None:
    cls = reader.get("api/articles", params={"source": "cls.telegraph", "limit": 200}).json()
    assert len(cls["articles"]) == 7 and cls["next_cursor"] is None
    stock = reader.get("api/articles", params={"stock": "600928"}).json()["articles"]
    assert [a["id"] for a in stock] == [SEED_ID]
    important = reader.get("api/articles", params={"important": "true", "limit": 200}).json()
    assert all(a["important"] for a in important["articles"])
    since = reader.get("api/articles", params={"since": "2026-06-01", "limit": 200}).json()
    assert since["articles"] and all(a["time"] >= "2026-06-01" for a in since["articles"])
    for params in ({"cursor": "not-a-cursor"}, {"since": "soon"}, {"limit": 0}, {"limit": 1000}):
        response = reader.get("api/articles", params=params)
        assert response.status_code in {400, 422}, params
        assert "detail" in response.json()
    assert reader.get("api/articles/jekyll/nope").status_code == 404
    assert reader.get("api/search", params={"q": "银行", "sort": "weird"}).status_code == 422
    assert reader.get("api/search", params={"q": "' OR 1=1 -- \"(*"}).status_code == 200


def test_article_bodies_come_out_clean(client: httpx.Client, site: tuple[str, Store, Path]) -> None:
    store = site[1]
    evil = replace(
        cls_flashes()[0],
        upstream_id="evil",
        body_html='<p onclick="x()">正文<script>alert(1)</script><img src="x" onerror="y()"></p>',
    )
    store.save([evil])
    body = client.get("api/articles/cls.telegraph/evil").json()["body_html"]
    assert "script" not in body and "onerror" not in body and "onclick" not in body
    assert "正文" in body


def test_headers_compression_and_caching(reader: httpx.Client) -> None:
    home = reader.get("", headers={"Accept-Encoding": "gzip"})
    assert home.status_code == 200
    csp = home.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert home.headers["content-encoding"] == "gzip"
    assert home.headers["cache-control"] == "no-cache" and home.headers["etag"]
    revalidated = reader.get("", headers={"If-None-Match": home.headers["etag"]})
    assert revalidated.status_code == 304
    assert home.headers["x-content-type-options"] == "nosniff"
    assert reader.get("api/articles").headers["cache-control"] == "no-cache"
    css = reader.get("assets/style.css")
    assert css.headers["cache-control"] == "public, max-age=3600"
    again = reader.get("assets/style.css", headers={"If-None-Match": css.headers["etag"]})
    assert again.status_code == 304
    assert reader.get("no/such/page.html").status_code == 404


def test_served_pages_get_the_live_script_the_files_on_disk_do_not(
    reader: httpx.Client, shared_site: tuple[str, Store, Path]
) -> None:
    served = reader.get("").text
    assert '<script src="/_finews/live.js" data-root="/" defer></script>' in served
    on_disk = (shared_site[2] / "index.html").read_text(encoding="utf-8")
    # on disk: the filter box's own script from the site's assets (#12), no live script
    assert re.findall(r"<script[^>]*>", on_disk) == ['<script src="assets/filter.js" defer>']
    assert 'data-live="all"' in on_disk
    assert reader.get("_finews/live.js").headers["content-type"].startswith("text/javascript")


def test_search_page_works_without_javascript(reader: httpx.Client) -> None:
    page = reader.get("search", params={"q": "西安银行 抗疫"})
    assert page.status_code == 200
    assert "<mark>西安银行</mark>" in page.text
    assert f"a/2021-12-29/jekyll.{SEED_ID}.html" in page.text
    assert "feeds/search.atom?q=" in page.text
    hostile = reader.get("search", params={"q": "<script>alert(1)</script>"})
    assert hostile.status_code == 200 and "<script>alert" not in hostile.text
    assert reader.get("search", params={"q": "银行", "since": "whenever"}).status_code == 400


def test_a_headline_with_its_own_brackets_is_not_bracketed_again_in_search(
    site: tuple[str, Store, Path], client: httpx.Client
) -> None:
    """The real telegraph 2401400 (the demo's bundled flashes) is titled 【机构龙虎榜解读】…:
    the search page printed 【【…】】 as the stream did before wave 8 (a review's finding)."""
    from finews.demo.upstreams import bundled
    from finews.sources import cls

    item = next(i for i in bundled("cls") if str(i["id"]) == "2401400")
    site[1].save([cls.normalise(item)])
    page = client.get("search", params={"q": "机构龙虎榜解读"})
    assert page.status_code == 200
    text = re.sub(r"<[^>]+>", "", page.text)
    assert "机构龙虎榜解读" in text and "【【" not in text


def test_saved_searches_are_feeds(reader: httpx.Client) -> None:
    atom = reader.get("feeds/search.atom", params={"q": "央行"})
    assert atom.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(atom.content)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.entries and all(e.id.startswith("tag:finews,2021:") for e in parsed.entries)
    rss = feedparser.parse(reader.get("feeds/search.rss", params={"q": "央行", "limit": 2}).content)
    assert not rss.bozo and len(rss.entries) == 2
    out = reader.get("feeds/search.json", params={"source": "cls.telegraph", "filterout": "解禁"})
    items = out.json()["items"]
    assert items and all("解禁" not in i["title"] for i in items)
    assert len(items) == 7 - sum("解禁" in a.title for a in cls_flashes())
    # a source no article can have is an error a feed reader shows when subscribing
    wrong = reader.get("feeds/search.atom", params={"q": "央行", "source": "cls"})
    assert wrong.status_code == 400 and "cls.telegraph" in wrong.json()["detail"]


def test_a_saved_search_feed_has_every_word_and_each_story_once(
    site: tuple[str, Store, Path],
) -> None:
    """A subscription to 央行 火星 wants both words: the page relaxes to most of them and
    says so, the feed does not relax; and a story told by two outlets is one entry."""
    base, store, _ = site
    told = cls_flashes()[2]  # 外汇管理局局长朱鹤新会见…
    store.save(
        [replace(told, source="eastmoney.fast", upstream_id="feed-reprint", media="东方财富")]
    )
    with httpx.Client(base_url=base, timeout=10) as c:
        page = c.get("search", params={"q": "外汇管理局 火星"})
        assert page.status_code == 200 and "含其中大部分词语" in page.text
        assert "共 0 条" not in page.text
        strict = feedparser.parse(
            c.get("feeds/search.atom", params={"q": "外汇管理局 火星"}).content
        )
        assert not strict.bozo and strict.entries == []
        exact = c.get("search", params={"q": "外汇管理局"}).text
        assert "含其中大部分词语" not in exact
        both = feedparser.parse(c.get("feeds/search.atom", params={"q": "朱鹤新 苏德巍"}).content)
        assert len(both.entries) == 1, [e.title for e in both.entries]
        told = c.get("search", params={"q": "朱鹤新 苏德巍"}).text
        assert "共 2 条结果" in told  # both reports are found …
        # … and the page tells the story once, its best-ranked report with the story's heat
        # (wave 9: the second report sat right under the first)
        assert told.count('<a class="heat" href="story/') == 1, told
        assert "本页合并了 1 篇同一事件的其他报道" in told


def test_a_bad_time_on_the_search_page_is_said_in_chinese(reader: httpx.Client) -> None:
    page = reader.get("search", params={"q": "银行", "since": "abc"})
    assert page.status_code == 400
    assert "看不懂时间“abc”" in page.text and "not a time" not in page.text


def test_an_unknown_source_or_outlet_is_said_not_searched(reader: httpx.Client) -> None:
    """Wave 15's walk: the page and the API answered source=foo with 共 0 条结果 / total 0,
    where the command line names an unknown source; now every face says it."""
    page = reader.get("search", params={"q": "银行", "source": "foo"})
    assert page.status_code == 400
    assert "没有叫“foo”的来源" in page.text and "共 0 条" not in page.text
    outlet = reader.get("search", params={"q": "银行", "media": "新浪"})
    assert outlet.status_code == 400 and "没有来自“新浪”的消息" in outlet.text
    for params in ({"source": "foo"}, {"media": "新浪"}):
        api = reader.get("api/search", params={"q": "银行", **params})
        assert api.status_code == 400, api.text
        assert "unknown" in api.json()["detail"]
    known = reader.get("api/search", params={"q": "银行", "media": "财联社"})
    assert known.status_code == 200


def _read_events(
    response: httpx.Response, found: list[dict[str, Any]], stop: threading.Event
) -> None:
    """Collect the stream's events until told to stop (the test then closes the stream
    under this thread's feet: that read error is the end, not a failure)."""
    buffer = ""
    try:
        for chunk in response.iter_text():
            buffer += chunk
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                data = [line[6:] for line in block.splitlines() if line.startswith("data: ")]
                ids = [line[4:] for line in block.splitlines() if line.startswith("id: ")]
                kinds = [line[7:] for line in block.splitlines() if line.startswith("event: ")]
                if data:
                    found.append(
                        {
                            **json.loads("".join(data)),
                            "_event_id": ids[0] if ids else "",
                            "_kind": kinds[0] if kinds else "message",
                            "_at": time.monotonic(),
                        }
                    )
            if stop.is_set():
                return
    except (httpx.ReadError, httpx.StreamClosed, httpx.RemoteProtocolError):
        if not stop.is_set():
            raise


def test_an_article_stored_after_the_build_has_its_page_at_once(
    site: tuple[str, Store, Path],
) -> None:
    """Wave 12's walk: with `finews serve`, a flash pushed to an open page linked to a page
    the build had not written yet (404 until the next `finews build`).  The app now
    answers with the page the build will write, its story's other reports included."""
    base, store, out = site
    first = cls_flashes()[1]
    again = replace(first, source="ths.flash", upstream_id="after-build-1", media="同花顺")
    store.save([again])
    path = f"a/{again.published_beijing.date().isoformat()}/ths.flash.after-build-1.html"
    assert not (out / path).exists()
    with httpx.Client(base_url=base, timeout=10) as client:
        page = client.get(path)
        assert page.status_code == 200, page.text[:300]
        assert page.headers["cache-control"] == "no-cache"
        assert first.title in page.text
        assert "也报道了此事" in page.text and "财联社" in page.text  # its story's first report
        # the page the build then writes, served: the same bytes
        build_site(store, out, SiteOptions(base_url=BASE_URL))
        assert (out / path).exists()
        assert client.get(path).text == page.text
        # an id the address had to clean (a feed item's URL is its id): found all the same
        odd = replace(
            first,
            source="feed.example",
            upstream_id="https://example.com/post/1?x=1",
            media="例子",
            title="地址里的编号要整理",
        )
        store.save([odd])
        odd_path = paths.article_path(odd.source, odd.upstream_id, int(odd.published.timestamp()))
        assert "https_example.com_post_1_x_1" in odd_path
        shown = client.get(odd_path)
        assert shown.status_code == 200 and "地址里的编号要整理" in shown.text
        # an address that names no stored article, or the right one on another date: 404
        assert client.get("a/2026-01-01/ths.flash.no-such-id.html").status_code == 404
        other_day = path.replace(path[2:12], "2020-01-01")
        assert client.get(other_day).status_code == 404


def test_new_articles_are_pushed_to_open_streams(site: tuple[str, Store, Path]) -> None:
    base, store, _ = site
    found: list[dict[str, Any]] = []
    stop = threading.Event()
    with httpx.Client(base_url=base, timeout=10) as c, c.stream("GET", "api/stream") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = threading.Thread(target=_read_events, args=(response, found, stop), daemon=True)
        reader.start()
        time.sleep(0.3)
        fresh = replace(cls_flashes()[1], upstream_id="live-1", title="直播测试：新消息")
        started = time.monotonic()
        store.save([fresh])
        while not found and time.monotonic() - started < 3:
            time.sleep(0.05)
        stop.set()
    assert found, "no event within 3 s"
    event = found[0]
    assert event["upstream_id"] == "live-1" and event["title"] == "直播测试：新消息"
    assert event["path"].startswith("a/") and event["section"] == "财联社"
    # a client that reconnects with the last id it saw gets what it missed
    store.save([replace(fresh, upstream_id="live-2", title="错过的消息")])
    with (
        httpx.Client(base_url=base, timeout=10) as c,
        c.stream("GET", "api/stream", headers={"Last-Event-ID": event["_event_id"]}) as response,
    ):
        missed: list[dict[str, Any]] = []
        stop = threading.Event()
        reader = threading.Thread(target=_read_events, args=(response, missed, stop), daemon=True)
        reader.start()
        deadline = time.monotonic() + 3
        while not missed and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
    assert [e["upstream_id"] for e in missed][:1] == ["live-2"]


def test_a_live_line_carries_its_story_heat(site: tuple[str, Store, Path]) -> None:
    """Issue #12: a line put in by the live bar says how many outlets carried the story, as
    the built lists' lines do — a second outlet's report of a stored flash is pushed with
    the story's heat chip linked to its page; a story told once has none."""
    base, store, _ = site
    found: list[dict[str, Any]] = []
    stop = threading.Event()
    told = cls_flashes()[3]
    other = replace(
        told,
        source="eastmoney.fast",
        upstream_id="heat-1",
        media="东方财富",
        url="https://finance.eastmoney.com/a/heat-1.html",
    )
    alone = replace(
        cls_flashes()[1],
        upstream_id="heat-alone",
        title="只有一家报道的消息",
        digest="只有一家报道，与任何已存消息都不同。",
        body_html="<p>只有一家报道，与任何已存消息都不同。</p>",
    )
    with httpx.Client(base_url=base, timeout=10) as c, c.stream("GET", "api/stream") as response:
        reader = threading.Thread(target=_read_events, args=(response, found, stop), daemon=True)
        reader.start()
        time.sleep(0.3)
        store.save([other])
        store.save([alone])
        deadline = time.monotonic() + 3
        while len(found) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
    events = {e["upstream_id"]: e for e in found}
    event = events["heat-1"]
    assert event["reprint"] and event["heat"] == "2 家报道"
    chip = re.search(r'<a class="heat" href="/(story/\d+/index.html)">([^<]+)</a>', event["html"])
    assert chip and chip.group(1) == event["story"]
    assert chip.group(2) in {"财联社、东方财富报道", "东方财富、财联社报道"}
    assert event["html"].endswith("</a></p></div></li>")
    assert events["heat-alone"]["heat"] == "" and 'class="heat"' not in events["heat-alone"]["html"]


def test_a_commit_is_pushed_at_once_without_the_web_app_polling(
    tmp_path: Path, store: Store, db_url: str
) -> None:
    """#17: the writer tells the web app it committed (a datagram on SQLite, NOTIFY on
    PostgreSQL).  The app's look at the store is stretched to a minute here: the old
    0.5 s loop stretched so would deliver nothing within the 1.5 s this test allows."""
    populate(store)
    out = tmp_path / "site"
    build_site(store, out, SiteOptions(base_url=BASE_URL))
    found: list[dict[str, Any]] = []
    stop = threading.Event()
    with (
        serving(db_url, out, poll_interval=60.0) as base,
        httpx.Client(base_url=base, timeout=10) as c,
        c.stream("GET", "api/stream") as response,
    ):
        reader = threading.Thread(target=_read_events, args=(response, found, stop), daemon=True)
        reader.start()
        time.sleep(0.3)
        delays = []
        for n in range(3):  # a listener keeps hearing: not only the first commit
            fresh = replace(cls_flashes()[1], upstream_id=f"push-{n}", title=f"推送测试 {n}")
            store.save([fresh])
            saved = time.monotonic()
            while len(found) <= n and time.monotonic() - saved < 1.5:
                time.sleep(0.01)
            assert len(found) > n, f"commit {n} not pushed within 1.5 s"
            delays.append(found[n]["_at"] - saved)
        # a save that changes nothing wakes nobody and pushes nothing
        store.save([fresh])
        time.sleep(0.5)
        stop.set()
    assert [e["upstream_id"] for e in found] == ["push-0", "push-1", "push-2"]
    assert max(delays) < 1.0


def test_a_completed_article_is_pushed_as_an_update_of_the_same_row(
    site: tuple[str, Store, Path],
) -> None:
    """Show first, complete later (#17): the list item is pushed as an ``article``; its
    full text arriving later is an ``update`` of the same id (no ``id:`` line, so a
    reconnecting browser's Last-Event-ID still names the last new article)."""
    base, store, _ = site
    found: list[dict[str, Any]] = []
    stop = threading.Event()
    now = datetime.now(BEIJING)
    first = replace(
        cls_flashes()[2],
        source="eastmoney.fast",
        upstream_id="later-1",
        title="先到的快讯",
        published=now,
        body_html="",
        body_complete=False,
    )
    with httpx.Client(base_url=base, timeout=10) as c, c.stream("GET", "api/stream") as response:
        reader = threading.Thread(target=_read_events, args=(response, found, stop), daemon=True)
        reader.start()
        time.sleep(0.3)
        store.save([first])
        deadline = time.monotonic() + 3
        while not found and time.monotonic() < deadline:
            time.sleep(0.02)
        store.save([replace(first, body_html="<p>全文到了。</p>", body_complete=True)])
        while len(found) < 2 and time.monotonic() < deadline + 3:
            time.sleep(0.02)
        stop.set()
    assert [(e["_kind"], e["complete"]) for e in found] == [("article", False), ("update", True)]
    assert found[0]["id"] == found[1]["id"] and found[1]["_event_id"] == ""
    assert found[1]["path"] == found[0]["path"]


def test_source_health_follows_the_polls(
    client: httpx.Client, site: tuple[str, Store, Path]
) -> None:
    store = site[1]
    store.record_poll("eastmoney.fast", ok=True, new=0)
    store.record_poll("eastmoney.column", ok=False, error="FetchError: 503 after 3 retries")
    health = {s["source"]: s for s in client.get("api/sources").json()}
    # it answers, but its newest item is from June: the silent failure
    assert health["eastmoney.fast"]["health"] == "stale"
    assert "nothing new" in health["eastmoney.fast"]["reason"]
    assert health["eastmoney.column"]["health"] == "failing"
    assert "FetchError" in health["eastmoney.column"]["reason"]
    assert health["cls.telegraph"]["health"] == "unknown"
    assert health["cls.telegraph"]["articles"] == 7
    fresh = replace(
        cls_flashes()[0],
        source="eastmoney.fast",
        upstream_id="now",
        published=datetime.now(BEIJING),
        title="刚刚到达",
        digest="刚刚到达的消息",
    )
    store.save([fresh])
    store.record_poll("eastmoney.column", ok=True)
    health = {s["source"]: s for s in client.get("api/sources").json()}
    assert health["eastmoney.fast"]["health"] == "ok"
    assert health["eastmoney.column"]["consecutive_failures"] == 0
    page = client.get("status")
    assert page.status_code == 200 and "eastmoney.fast" in page.text and "health-ok" in page.text


def test_gzip_of_the_api(reader: httpx.Client) -> None:
    raw = reader.get("api/articles", params={"limit": 100}, headers={"Accept-Encoding": "gzip"})
    assert raw.headers["content-encoding"] == "gzip"
    assert json.loads(raw.content)["articles"]  # httpx decodes; the body was compressed


def test_cached_searches_follow_changes_to_the_articles(
    client: httpx.Client, site: tuple[str, Store, Path]
) -> None:
    store = site[1]
    first = client.get("api/search", params={"q": "缓存测试"}).json()
    assert first["total"] == 0
    assert client.get("api/search", params={"q": "缓存测试"}).json() == first  # from the cache
    fresh = replace(cls_flashes()[0], upstream_id="cache-1", title="缓存测试：新到的消息")
    store.save([fresh])
    after = client.get("api/search", params={"q": "缓存测试"}).json()
    assert after["total"] == 1 and after["results"][0]["id"] == "cache-1"
    store.delete([fresh.key])
    assert client.get("api/search", params={"q": "缓存测试"}).json()["total"] == 0


def test_absurd_numbers_in_query_strings_are_clamped(reader: httpx.Client) -> None:
    huge = "9" * 5000
    assert reader.get("search", params={"q": "银行", "page": huge}).status_code == 200
    assert reader.get("feeds/search.atom", params={"q": "银行", "limit": huge}).status_code == 200
    assert reader.get("api/articles", params={"limit": huge}).status_code == 422


def test_status_page_speaks_chinese(client: httpx.Client, site: tuple[str, Store, Path]) -> None:
    """Issue #12: states and reasons in Chinese, the replay's clock in the demo."""
    store = site[1]
    store.record_poll("eastmoney.fast", ok=True, new=0)
    store.record_poll("eastmoney.column", ok=False, error="FetchError: 503 after 3 retries")
    store.record_poll("eastmoney.column", ok=False, error="FetchError: 503 after 3 retries")
    text = client.get("status").text
    main = re.sub(r"<[^>]+>", " ", text[text.index("<main>") : text.index("</main>")])
    for word in ("failing", "stale", "unknown", "poll(s)", " ok "):
        assert word not in main, word
    assert "无更新" in main and "失败" in main and "未知" in main
    assert "连续失败 2 次" in main
    assert re.search(r"已 \d+ 天( \d+ 小时)?没有新消息", main)  # the June items, by the clock
    assert 'href="status"' in text  # the footer links to it
    # so does every page of the built site as the app serves it; the files on disk do not
    # (a static host has no status page)
    out = site[2]
    for page in ("index.html", "c/cai-lian-she/index.html", "important/index.html"):
        served = client.get(page).text
        assert '/status">来源状态</a>' in served, page
        # and to the app's other pages, linked from nowhere before (wave 8's walk)
        assert '/topics">话题</a> · <a href="' in served
        # in the same place as on the pages the app renders (wave 10: they came last)
        footer = served[served.index("<footer") : served.index("</footer>")]
        assert re.search(
            r"（UTC\+8） · <a [^>]*status\">来源状态</a> .*财经日历</a> · <a [^>]*>归档", footer
        )
        search_footer = client.get("search?q=x").text
        assert "（UTC+8） · <a" in search_footer and "归档</a> · 由 finews 生成" in search_footer
        for linked in re.findall(r'href="([^"]*(?:status|topics|calendar))"', served):
            assert client.get(linked if linked.startswith("/") else "/" + linked).status_code == 200
        assert "来源状态" not in (out / page).read_text(encoding="utf-8"), page


def test_filters_mean_the_same_on_the_page_the_api_and_the_feeds(reader: httpx.Client) -> None:
    """Wave 9's walk: a stock named (西安银行, as the page's own hint says one may) found
    nothing on the page, the API and the feeds, which matched the name against codes; the
    page ignored ``until`` and ``important``; ``source=财联社`` (an outlet) found nothing and
    the advice blamed a time limit nobody set; an empty feed said it was updated in 1970."""
    by_code = reader.get("api/search", params={"q": "抗疫", "stock": "600928"}).json()
    by_name = reader.get("api/search", params={"q": "抗疫", "stock": "西安银行"}).json()
    assert [r["id"] for r in by_code["results"]] == [SEED_ID]
    assert [r["id"] for r in by_name["results"]] == [SEED_ID]
    listed = reader.get("api/articles", params={"stock": "西安银行"}).json()["articles"]
    assert [a["id"] for a in listed] == [SEED_ID]
    unknown = reader.get("api/search", params={"q": "抗疫", "stock": "西安"})
    assert unknown.status_code == 400 and "西安银行" in unknown.json()["detail"]

    page = reader.get("search", params={"q": "抗疫", "stock": "西安银行"})
    assert page.status_code == 200 and "共 1 条结果" in page.text
    assert f"jekyll.{SEED_ID}.html" in page.text
    page = reader.get("search", params={"q": "抗疫", "stock": "西安"})
    assert page.status_code == 400 and "不认识股票“西安”" in page.text
    # each stock offered is the search it would be (wave 12's walk: they were plain text)
    assert (
        '<a href="search?q=%E6%8A%97%E7%96%AB&amp;stock=600928.SH">西安银行 600928.SH</a>'
        in page.text
    )
    no_words = reader.get("search", params={"stock": "西安"}).text  # the stock's own page
    assert '<a href="s/600928.SH/index.html">西安银行 600928.SH</a>' in no_words
    empty = reader.get("search").text  # no query yet: what one can type
    assert "可以搜公司简称、股票代码、英文名或财经词语" in empty
    feed = feedparser.parse(
        reader.get("feeds/search.atom", params={"q": "抗疫", "stock": "西安银行"}).content
    )
    assert [e.title for e in feed.entries] and SEED_ID in feed.entries[0].link

    # the outlet as the source: what media=财联社 finds
    outlet = reader.get("search", params={"q": "央行", "source": "财联社"}).text
    media = reader.get("search", params={"q": "央行", "media": "财联社"}).text
    total = re.search(r"共 (\d+) 条结果", media)
    assert total and int(total.group(1)) > 0 and f"共 {total.group(1)} 条结果" in outlet

    # until and important on the page, as in the API
    everything = reader.get("search", params={"q": "银行"}).text
    old = reader.get("search", params={"q": "银行", "until": "2022-01-01"}).text
    api_old = reader.get("api/search", params={"q": "银行", "until": "2022-01-01"}).json()
    counts = [int(re.search(r"共 (\d+) 条结果", t).group(1)) for t in (everything, old)]  # type: ignore[union-attr]
    assert counts[1] == api_old["total"] and 0 < counts[1] < counts[0]
    assert all(r["time"] < "2022-01-01" for r in api_old["results"])
    important = reader.get("search", params={"q": "银行", "important": "true"}).text
    api_important = reader.get("api/search", params={"q": "银行", "important": "true"}).json()
    assert f"共 {api_important['total']} 条结果" in important

    # an empty result names the filters it was narrowed by, and only those
    # (a source that is known but has no such article: an unknown one is an error since
    # wave 15, test_an_unknown_source_or_outlet_is_said_not_searched)
    empty = reader.get("search", params={"q": "无此词语zq", "source": "cls.telegraph"}).text
    assert (
        "在限定的范围（来源 cls.telegraph）里没有找到" in empty
        and "时间" not in empty.split("在限定的范围")[1].split("</p>")[0]
    )
    # an empty feed is not from 1970
    nothing = feedparser.parse(reader.get("feeds/search.atom", params={"q": "无此词语zq"}).content)
    assert nothing.entries == [] and nothing.feed.updated_parsed.tm_year >= 2026

    # wave 17's walk: a period after the store's news says where its news ends; one quoted
    # phrase is quoted once; a feed of one stock says which
    late = reader.get("search", params={"q": "银行", "since": "2099-01-01"}).text
    assert re.search(r"库里最新的消息是 \d{4}-\d\d-\d\d \d\d:\d\d 的", late)
    assert "库里最新的消息" not in empty  # a source, not a period: no such hint
    quoted = reader.get("search", params={"q": '"无此词语zq"'}).text
    assert "没有找到含“无此词语zq”的消息" in quoted
    one_stock = feedparser.parse(
        reader.get("feeds/search.atom", params={"stock": "西安银行"}).content
    )
    assert one_stock.feed.title.endswith("股票：西安银行")


def test_the_review_of_wave_9_filters(reader: httpx.Client) -> None:
    """A yes/no parameter reads as the API reads it (important=false: only the others, as
    the API; the page took only 1 and true), the form keeps the filters it has no field
    for, a Hong Kong or US security is found by its exact name, and an outlet given as the
    source beside another media is refused rather than guessed."""
    api_not = reader.get("api/search", params={"q": "银行", "important": "false"}).json()
    page_not = reader.get("search", params={"q": "银行", "important": "false"}).text
    assert f"共 {api_not['total']} 条结果" in page_not
    page = reader.get("search", params={"q": "银行", "until": "2022-01-01", "since": "2021-12-01"})
    assert '<input type="hidden" name="until" value="2022-01-01">' in page.text
    assert '<option value="2021-12-01" selected>' in page.text
    for name in ("英伟达", "腾讯控股"):
        assert reader.get("api/search", params={"q": "芯片", "stock": name}).status_code == 200
    both = reader.get("api/search", params={"q": "银行", "source": "财联社", "media": "新华社"})
    assert both.status_code == 400 and "outlet" in both.json()["detail"]


def test_an_exclusion_alone_and_the_page_number_are_said(reader: httpx.Client) -> None:
    """Wave 9's walk: `-美联储` alone answered "没有找到含“-美联储”的消息", and the pager had
    no page number."""
    alone = reader.get("search", params={"q": "-美联储"}).text
    assert "只写了要排除的词" in alone
    first = reader.get("search", params={"q": "公司"}).text  # 42 results: 3 pages
    assert "第 1 页" in first and "下一页" in first
    second = reader.get("search", params={"q": "公司", "page": "2"}).text
    assert "第 2 页" in second and "上一页" in second
    one = reader.get("search", params={"q": "央行"}).text  # one page: no number
    assert "第 1 页" not in one
