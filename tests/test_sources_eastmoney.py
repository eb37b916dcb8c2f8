"""Eastmoney sources against a local stand-in reached through the host override."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import SEED, run_cli
from finews.config import load_settings
from finews.fetch import Fetcher
from finews.ingest import fetch_round, policy_from_settings
from finews.jekyll.read import parse_post
from finews.process.stockcodes import from_eastmoney
from finews.sources import build_sources
from finews.store import Store
from standin import EastmoneyStandin


def fetch(tmp_path: Path, env: dict[str, str], *args: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("--db", str(tmp_path / "f.db"), "fetch", "--json", *args, env=env)
    assert "Traceback" not in result.stderr, result.stderr
    report = json.loads(result.stdout)
    return result.returncode, {r["source"]: r for r in report["sources"]}


def rows(tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(tmp_path / "f.db")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_two_rounds_store_everything_once_with_full_text(
    tmp_path: Path, upstream: EastmoneyStandin, upstream_env: dict[str, str]
) -> None:
    code, first = fetch(tmp_path, upstream_env)
    assert code == 0
    assert first["eastmoney.fast"]["new"] == 150  # three catch-up pages of 50
    assert first["eastmoney.fast"]["fulltext_fetched"] == 150
    assert first["eastmoney.column"]["new"] == 60  # 40 + 30 with 10 in both columns
    assert first["eastmoney.column"]["unchanged"] == 10
    code, second = fetch(tmp_path, upstream_env)
    assert code == 0
    assert second["eastmoney.fast"]["new"] == 0 and second["eastmoney.fast"]["unchanged"] == 50
    assert second["eastmoney.column"]["new"] == 0
    assert rows(tmp_path, "SELECT COUNT(*) FROM articles") == [(210,)]
    assert rows(tmp_path, "SELECT COUNT(*) FROM articles WHERE body_complete = 0") == [(0,)]
    assert rows(tmp_path, "SELECT COUNT(*) FROM article_revisions") == [(0,)]


def test_fast_items_are_normalised_faithfully(
    tmp_path: Path, upstream: EastmoneyStandin, upstream_env: dict[str, str]
) -> None:
    fetch(tmp_path, upstream_env, "eastmoney.fast", "--backfill", "150")
    with Store.open(f"sqlite:///{tmp_path / 'f.db'}") as store:
        for item in upstream.fast:
            a = store.get("eastmoney.fast", item["code"])
            assert a is not None
            assert a.title == item["title"]
            assert a.published.strftime("%Y-%m-%d %H:%M:%S") == item["showTime"]
            assert a.published.utcoffset() is not None
            assert a.url == f"https://finance.eastmoney.com/a/{item['code']}.html"
            assert a.category == "emnews"
            assert a.important == bool(item["titleColor"])
            expected = [c for c in (from_eastmoney(s) for s in item["stockList"]) if c]
            upstream_tags = [s.code for s in a.stocks if s.origin == "upstream"]
            assert sorted(upstream_tags) == sorted(set(expected))
            assert all(s.origin in {"upstream", "marker", "code", "name"} for s in a.stocks)
            assert json.loads(a.raw)["item"] == item  # the upstream item verbatim
            assert a.body_html.startswith("<p>") and a.media == "东方财富网"


def test_cursor_paging_follows_sort_end(
    tmp_path: Path, upstream: EastmoneyStandin, upstream_env: dict[str, str]
) -> None:
    code, report = fetch(
        tmp_path, upstream_env, "eastmoney.fast", "--backfill", "120", "--no-fulltext"
    )
    assert code == 0 and report["eastmoney.fast"]["new"] == 150  # whole pages of 50
    calls = [p for p in upstream.log if "getFastNewsList" in p]
    assert len(calls) == 3
    assert "sortEnd=&" in calls[0]
    assert f"sortEnd={upstream.fast[49]['realSort']}" in calls[1]
    assert f"sortEnd={upstream.fast[99]['realSort']}" in calls[2]
    assert not [p for p in upstream.log if "/kuaixun/" in p]  # --no-fulltext


def test_full_text_falls_back_to_the_article_page(
    tmp_path: Path, upstream: EastmoneyStandin, httpserver: Any
) -> None:
    seed = parse_post(SEED.read_text(encoding="utf-8"), str(SEED))
    upstream.add_column_posts(353, [seed])
    code = seed.upstream_id
    del upstream.articles[code]  # the JSON API answers data: null
    upstream.page_html(code, seed.body_html)
    settings = load_settings(
        env={
            "FINEWS_UPSTREAM_OVERRIDE": ",".join(
                f"{h}={httpserver.url_for('').rstrip('/')}"
                for h in (
                    "np-listapi.eastmoney.com",
                    "newsinfo.eastmoney.com",
                    "finance.eastmoney.com",
                )
            ),
            "FINEWS_HTTP_HOST_SPACING": "0",
        }
    )
    (source,) = build_sources(settings, ["eastmoney.column"])
    with Fetcher(policy_from_settings(settings)) as fetcher:
        listed = next(
            a for page in source.pages(fetcher) for a in page.articles if a.upstream_id == code
        )
        assert not listed.body_complete
        full = source.complete(fetcher, listed)
        assert full.body_complete
        assert "西安银行" in full.body_html  # decoded as UTF-8, kept as upstream sent it
        assert full.body_html.startswith("<!-- EM_StockImg_Start -->")
        assert full.body_html.count("<p>") >= 10
        upstream.page_html(code, "<p>旧模板正文</p>", old=True)
        assert source.complete(fetcher, listed).body_html == "<p>旧模板正文</p>"


def test_missing_full_text_is_stored_from_the_list_and_retried(
    tmp_path: Path, upstream: EastmoneyStandin, upstream_env: dict[str, str]
) -> None:
    missing = upstream.fast[3]["code"]
    saved = upstream.articles.pop(missing)
    code, report = fetch(tmp_path, upstream_env, "eastmoney.fast")
    assert code == 0
    fast = report["eastmoney.fast"]
    assert fast["new"] == 150 and fast["fulltext_pending"] == 1
    assert any(missing in p for p in fast["problems"])
    assert rows(
        tmp_path,
        "SELECT body_complete, fulltext_attempts, digest != '' FROM articles"
        f" WHERE upstream_id = '{missing}'",
    ) == [(0, 1, 1)]
    upstream.articles[missing] = saved
    code, report = fetch(tmp_path, upstream_env, "eastmoney.fast")
    assert report["eastmoney.fast"]["updated"] == 1
    assert rows(
        tmp_path, f"SELECT body_complete FROM articles WHERE upstream_id = '{missing}'"
    ) == [(1,)]


def test_changed_article_becomes_an_update_with_a_revision(
    tmp_path: Path, upstream: EastmoneyStandin, upstream_env: dict[str, str]
) -> None:
    fetch(tmp_path, upstream_env, "eastmoney.fast")
    upstream.fast[0] = {**upstream.fast[0], "title": upstream.fast[0]["title"] + "（更新）"}
    _, report = fetch(tmp_path, upstream_env, "eastmoney.fast")
    assert (report["eastmoney.fast"]["updated"], report["eastmoney.fast"]["new"]) == (1, 0)
    assert rows(tmp_path, "SELECT revision FROM articles WHERE title LIKE '%（更新）'") == [(2,)]
    assert rows(tmp_path, "SELECT COUNT(*) FROM article_revisions") == [(1,)]


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        (["truncated"], "malformed JSON"),
        (["html"], "HTML"),
        (["empty"], "empty body"),
        # data: null looks like a changed endpoint: np-weblist is tried too (#15)
        (["null", "null"], "data is null"),
        (["huge"], "limit"),
        (["garbage"], "JSON"),
        (["500"] * 4, "HTTP 500"),
    ],
)
def test_a_broken_source_is_reported_and_the_other_stored(
    tmp_path: Path,
    upstream: EastmoneyStandin,
    upstream_env: dict[str, str],
    faults: list[str],
    message: str,
) -> None:
    upstream.fault("/comm/web/getFastNewsList", *faults)
    code, report = fetch(tmp_path, upstream_env)
    assert code == 4
    assert not report["eastmoney.fast"]["ok"]
    assert message in report["eastmoney.fast"]["error"]
    assert report["eastmoney.column"]["ok"] and report["eastmoney.column"]["new"] == 60
    # the store remembers how each source's poll went (the API's /api/sources reads it)
    status = {
        r[0]: r[1:]
        for r in rows(
            tmp_path, "SELECT source, consecutive_failures, last_error, last_new FROM source_status"
        )
    }
    assert status["eastmoney.fast"][0] == 1 and message in status["eastmoney.fast"][1]
    assert status["eastmoney.column"] == (0, "", 60)


def test_retries_recover_from_5xx_and_429(
    tmp_path: Path, upstream: EastmoneyStandin, upstream_env: dict[str, str]
) -> None:
    upstream.fault("/comm/web/getFastNewsList", "500", "503", "429:1")
    started = time.monotonic()
    code, report = fetch(tmp_path, upstream_env, "eastmoney.fast", "--no-fulltext")
    assert code == 0 and report["eastmoney.fast"]["new"] == 150
    assert time.monotonic() - started >= 1.0  # Retry-After was honoured


def test_slow_server_times_out_and_the_retry_succeeds(
    tmp_path: Path, upstream: EastmoneyStandin, upstream_env: dict[str, str]
) -> None:
    upstream.fault("/comm/web/getNewsByColumns", "slow:2.5")
    env = {**upstream_env, "FINEWS_HTTP_TIMEOUT": "1"}
    code, report = fetch(tmp_path, env, "eastmoney.column", "--no-fulltext")
    assert code == 0 and report["eastmoney.column"]["new"] == 60


def test_one_bad_item_is_skipped_and_the_rest_stored(
    tmp_path: Path, upstream: EastmoneyStandin, upstream_env: dict[str, str]
) -> None:
    bad = upstream.fast[5]["code"]
    upstream.fast[5] = {k: v for k, v in upstream.fast[5].items() if k != "showTime"}
    upstream.fast[7] = {**upstream.fast[7], "showTime": "yesterday"}
    code, report = fetch(tmp_path, upstream_env, "eastmoney.fast", "--no-fulltext")
    assert code == 3
    fast = report["eastmoney.fast"]
    assert fast["new"] == 148 and fast["failed"] == 2
    assert any(bad in p and "showTime" in p for p in fast["problems"])


def test_a_failing_full_text_does_not_block_the_others(
    tmp_path: Path, upstream: EastmoneyStandin, upstream_env: dict[str, str]
) -> None:
    upstream.fault("/kuaixun/v2/api/article/", "500", "500", "500", "500")
    code, report = fetch(tmp_path, upstream_env, "eastmoney.fast")
    assert code == 0
    assert report["eastmoney.fast"]["fulltext_pending"] == 1
    assert report["eastmoney.fast"]["fulltext_fetched"] == 149


def test_library_round_and_unknown_source(tmp_path: Path, upstream_env: dict[str, str]) -> None:
    settings = load_settings(env=upstream_env)
    with (
        Store.open(f"sqlite:///{tmp_path / 'lib.db'}") as store,
        Fetcher(policy_from_settings(settings)) as fetcher,
    ):
        reports = fetch_round(store, fetcher, build_sources(settings), fulltext=False)
        assert [r.new for r in reports] == [150, 60]
    # a source typed on the command line is a usage error (exit 2), as `search --source`
    result = run_cli("--db", str(tmp_path / "x.db"), "fetch", "eastmoney.fst")
    assert result.returncode == 2 and "unknown source(s) eastmoney.fst" in result.stderr
    assert "did you mean eastmoney.fast?" in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "x.db").exists()  # checked before the store is created
    short = run_cli("--db", str(tmp_path / "x.db"), "fetch", "cls")
    assert short.returncode == 2 and "did you mean cls.telegraph?" in short.stderr
