"""The status page's Chinese words and the replay clock (issue #12): pure functions, and the
words of the real fetcher's errors (a real local server, a closed port)."""

from __future__ import annotations

import re
import socket
import threading
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from werkzeug import Response as WResponse

from conftest import JEKYLL_REAL
from finews.errors import SourceError
from finews.fetch import Fetcher, FetchPolicy, decode_json
from finews.jekyll.importer import import_jekyll
from finews.model import BEIJING
from finews.run.health import assess, data_clock, report
from finews.store import Store
from finews.web.status import duration, error_words, status_view
from test_search import cls_flashes
from webserver import serving

HOUR = 3600.0


def test_durations_read_as_words() -> None:
    assert duration(42) == "42 秒"
    assert duration(12 * 60 + 5) == "12 分钟"
    assert duration(3 * HOUR + 12 * 60) == "3 小时 12 分"
    assert duration(2 * HOUR) == "2 小时"
    assert duration(4147.7 * HOUR) == "172 天 19 小时"
    assert duration(-5) == "0 秒"


def test_states_and_reasons_in_chinese() -> None:
    now = 1_800_000_000.0
    failing = assess(
        "cls.telegraph",
        {"last_attempt_at": now, "consecutive_failures": 3, "last_error": "FetchError: 503"},
        now,
        HOUR,
    )
    view = status_view(failing, now)
    assert view["state_word"] == "失败" and view["name"] == "财联社电报"
    assert view["reason"] == "连续失败 3 次：FetchError: 503"
    quiet = {"last_attempt_at": now, "last_success_at": now, "newest_at": now - 3 * HOUR - 720}
    view = status_view(assess("ths.flash", quiet, now, HOUR), now)
    assert view["state_word"] == "无更新"
    assert view["reason"] == "来源有响应，但已 3 小时 12 分没有新消息"
    assert status_view(assess("wscn.live", {}, now, HOUR), now)["state_word"] == "未知"


def test_a_replay_is_fresh_by_its_own_clock() -> None:
    """finews demo replays June's flashes now: by the wall clock every source is stale,
    by the replay's clock (its newest item) the ones that keep up are fresh."""
    now = 1_800_000_000.0
    june = now - 4000 * HOUR
    statuses = {
        "cls.telegraph": {"last_attempt_at": now, "last_success_at": now, "newest_at": june},
        "ths.flash": {"last_attempt_at": now, "last_success_at": now, "newest_at": june - 60},
        "eastmoney.fast": {
            "last_attempt_at": now,
            "last_success_at": now,
            "newest_at": june - 2 * HOUR,
        },
    }
    wall = {h.source: h.state for h in report(statuses, [], now, HOUR)}
    assert set(wall.values()) == {"stale"}
    replay = {h.source: h.state for h in report(statuses, [], now, HOUR, "newest")}
    assert replay == {"cls.telegraph": "ok", "ths.flash": "ok", "eastmoney.fast": "stale"}
    assert data_clock(statuses, now, "newest") == june
    assert data_clock({}, now, "newest") == now


def _failure(fetch: Any) -> str:
    """The message of the FetchError (or format error) a real request ends with."""
    with pytest.raises(SourceError) as caught:
        fetch()
    return str(caught.value)


def test_fetch_errors_read_in_chinese(httpserver: Any) -> None:
    """The status page says a failed poll's cause in Chinese (issue #12): the messages of the
    real fetcher, against a real local server, a closed port, a server too slow to answer."""
    httpserver.expect_request("/down").respond_with_data("down", status=503)
    httpserver.expect_request("/html").respond_with_data(
        "<html>验证</html>", content_type="text/html"
    )
    httpserver.expect_request("/cut").respond_with_data(
        '{"data": [1, 2', content_type="application/json"
    )
    slow_answered = threading.Semaphore(0)

    def late(_: object) -> WResponse:
        time.sleep(1.5)
        slow_answered.release()
        return WResponse("late")

    httpserver.expect_request("/slow").respond_with_handler(late)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    policy = FetchPolicy(retries=1, backoff=0.01, timeout=0.5, host_spacing=0)
    with Fetcher(policy) as f:
        down = _failure(lambda: f.get(httpserver.url_for("/down")))
        refused = _failure(lambda: f.get(f"http://127.0.0.1:{closed}/x"))
        f.network_down = False
        slow = _failure(lambda: f.get(httpserver.url_for("/slow")))
        html_page = _failure(lambda: decode_json(f.get(httpserver.url_for("/html")), "wscn.live"))
        cut = _failure(lambda: decode_json(f.get(httpserver.url_for("/cut")), "wscn.live"))
    # the server's two late answers end inside this test: logged after it, they landed in
    # whatever the next test in this process captured as a command's stderr
    for _ in range(2):
        assert slow_answered.acquire(timeout=10)
    assert down.endswith("HTTP 503 (after 2 attempts)")  # what finews sources --json keeps
    said = {m: error_words(m, "wscn.live") for m in (down, refused, slow, html_page, cut)}
    assert said[down].endswith("/down：HTTP 503（服务暂不可用）（共尝试 2 次）")
    assert said[down].startswith("请求 http://127.0.0.1:")
    assert said[refused].endswith("连接被拒绝（对方没有在这个地址上提供服务）（共尝试 2 次）")
    assert said[slow].endswith("超时（0.5 秒内没有响应）（共尝试 2 次）")
    assert said[html_page].endswith(
        "返回的是 HTML 页面（text/html），不是 JSON（可能被拦截或要求验证）"
    )
    assert re.search(r"返回的 JSON 无法解析（共 14 个字符，第 \d+ 个字符处出错：", said[cut])
    for words in said.values():
        # no English word of finews' own left (an upstream's own words would be kept)
        assert not re.search(
            r"\b(after|attempts?|timed|connection|refused|where|expected)\b", words
        )
    # the failing row's reason says it, and the raw message stays with the row (title)
    now = 1_800_000_000.0
    failing = assess(
        "cls.telegraph",
        {"last_attempt_at": now, "consecutive_failures": 1, "last_error": f"cls.telegraph: {down}"},
        now,
        HOUR,
    )
    view = status_view(failing, now)
    assert view["reason"] == f"连续失败 1 次：{said[down]}"
    assert view["last_error"] == f"cls.telegraph: {down}"
    # what finews does not know is kept as it came
    assert error_words("lives: code 40001", "wscn.live") == "lives: code 40001"
    assert error_words(
        "GET a.example/x: HTTP 429, Retry-After 3600 s is longer than http.max_backoff (60 s)"
    ) == ("请求 a.example/x：HTTP 429，服务器要求 3600 秒后再试，超过了 http.max_backoff（60 秒）")


def test_a_message_of_the_last_minute_arrived_just_now() -> None:
    """Not "最新消息在 0 秒前": under a minute it is 刚刚; from a minute on, the duration."""
    now = 1_800_000_000.0

    def said(age: float) -> str:
        status = {"last_attempt_at": now, "last_success_at": now, "newest_at": now - age}
        return str(status_view(assess("cls.telegraph", status, now, HOUR), now)["reason"])

    assert said(0) == said(59) == "刚刚有新消息"
    assert said(60) == "最新消息在 1 分钟前"
    assert said(50 * 60 + 5) == "最新消息在 50 分钟前"


def test_the_status_page_of_a_store_with_imported_and_fresh_articles(tmp_path: Path) -> None:
    """The real /status page: imported posts (never polled by this store's runs) are not
    "尚未抓取过"; a flash stored a moment ago is 刚刚 (the real 财联社 flashes, re-dated to
    now, and the real posts of the original site)."""
    db = f"sqlite:///{tmp_path / 'f.db'}"
    with Store.open(db) as store:
        import_jekyll(store, [JEKYLL_REAL])
        fresh = replace(cls_flashes()[0], published=datetime.now(BEIJING))
        store.save([fresh])
        store.record_poll("cls.telegraph", ok=True, new=1)
        imported = next(s for s in store.stats()["sources"] if s["name"] == "jekyll")
        with serving(db, tmp_path / "site") as base:
            page = httpx.get(base + "status", timeout=10).text
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(
            r'<th scope="row" title="([^"]+)">.*?class="reason"[^>]*>([^<]*)<', page
        )
    }
    assert rows["cls.telegraph"] == "刚刚有新消息", rows
    newest = imported["newest"][:16].replace("T", " ")  # its newest post's time, Beijing
    assert rows["jekyll"] == (
        f"本库的运行尚未抓取过它，库里已有它的 {imported['articles']} 条消息（最新在 {newest}）"
    )
    assert imported["articles"] == 96  # the real posts but the broken one
    assert rows["ths.flash"] == "尚未抓取过（未启用，或还没有轮到它）"  # nothing of it stored
