"""Upstreams that change (issue #15), against real stand-ins on 127.0.0.1: a request
shape that stops working (404, errno 10012) and the next one that answers, a field that
disappears, locked VIP items, RiseRange kept with the stock tag, 金十's data releases as
calendar rows, a shape added in the settings."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from werkzeug import Request, Response

from conftest import ARTIFACTS, DATA, needs_chromium, run_cli
from finews.config import load_settings
from finews.demo.upstreams import Upstreams, bundled
from finews.fetch import Fetcher
from finews.ingest import SourceReport, fetch_round, policy_from_settings
from finews.sources import build_sources
from finews.store import Store
from standin import EastmoneyStandin, real_fast_items
from webserver import serving

HANDMADE = DATA / "handmade"


def poll(db: Path, env: dict[str, str], *keys: str, backfill: int = 0) -> dict[str, SourceReport]:
    """One round of ``keys`` in this process: the real fetcher, adapters and store."""
    settings = load_settings(env={"FINEWS_DB": str(db), **env})
    with Store.open(settings.db_url) as store, Fetcher(policy_from_settings(settings)) as f:
        reports = fetch_round(
            store, f, build_sources(settings, list(keys)), backfill=backfill, fulltext=False
        )
    return {r.source: r for r in reports}


def sources_json(db: Path, env: dict[str, str]) -> dict[str, dict[str, Any]]:
    result = run_cli("--db", str(db), "sources", "--json", env=env)
    assert result.returncode == 0, result.stderr
    return {h["source"]: h for h in json.loads(result.stdout)}


QUICK = {
    "FINEWS_HTTP_HOST_SPACING": "0",
    "FINEWS_HTTP_BACKOFF": "0.01",
    "FINEWS_HTTP_RETRIES": "0",
    "FINEWS_HTTP_TIMEOUT": "3",
    "FINEWS_EASTMONEY_FULLTEXT": "false",
}


# -- a request shape that stops working --------------------------------------------------


def test_eastmoney_switches_host_on_404_stores_each_item_once_and_says_so(
    tmp_path: Path, httpserver: Any
) -> None:
    items = real_fast_items()  # 150 real items, newest first
    standin = EastmoneyStandin(fast=items[50:])
    gone = {"np-listapi": False}
    hosts: list[str] = []

    def handler(request: Request) -> Response:
        host = request.path.split("/")[1]
        hosts.append(host)
        if host == "listapi" and gone["np-listapi"]:
            return Response("<html>404 Not Found</html>", status=404)
        return standin(request)

    httpserver.expect_request(re.compile(r"^/(listapi|weblist)/")).respond_with_handler(handler)
    base = httpserver.url_for("").rstrip("/")
    env = {
        **QUICK,
        "FINEWS_UPSTREAM_OVERRIDE": (
            f"np-listapi.eastmoney.com={base}/listapi,np-weblist.eastmoney.com={base}/weblist"
        ),
    }
    db = tmp_path / "f.db"
    first = poll(db, env, "eastmoney.fast", backfill=1000)["eastmoney.fast"]
    assert first.ok and first.new == 100 and first.shape == "np-listapi" and not first.switches
    assert set(hosts) == {"listapi"}

    # the upstream changes: the old host answers 404, the new one has 50 newer items
    gone["np-listapi"] = True
    standin.fast = items
    hosts.clear()
    second = poll(db, env, "eastmoney.fast")["eastmoney.fast"]
    assert second.ok, second.error
    assert second.new == 50 and second.unchanged >= 1
    assert hosts[0] == "listapi" and set(hosts[1:]) == {"weblist"}
    assert [(s["from"], s["to"]) for s in second.switches] == [("np-listapi", "np-weblist")]
    assert "HTTP 404" in str(second.switches[0]["reason"])
    assert 0 < float(second.switches[0]["seconds"]) < 5  # type: ignore[arg-type]

    con = sqlite3.connect(db)
    total, distinct = con.execute(
        "SELECT count(*), count(DISTINCT upstream_id) FROM articles"
    ).fetchone()
    con.close()
    assert total == distinct == len(items)  # every item stored, each once

    # reported: which shape, since when, what it replaced and why
    health = sources_json(db, env)["eastmoney.fast"]
    assert health["shape"] == "np-weblist" and health["previous_shape"] == "np-listapi"
    assert "404" in health["switch_reason"] and health["shape_since"]
    assert isinstance(health["fallback_ms"], int)

    # the next process starts with the shape that works: the old host is not asked again
    hosts.clear()
    third = poll(db, env, "eastmoney.fast")["eastmoney.fast"]
    assert third.ok and not third.switches and third.new == 0
    assert set(hosts) == {"weblist"}


class ClsMoved(Upstreams):
    """财联社 after a version bump: only ``sv`` 8.4.6 is signed right (errno 10012 else)."""

    accepted = "8.4.6"

    def _cls(self, query: dict[str, str]) -> bytes:
        if query.get("sv") != self.accepted:
            return json.dumps({"errno": 10012, "msg": "签名错误"}).encode()
        return super()._cls(query)


@pytest.fixture
def cls_moved() -> Iterator[tuple[ClsMoved, dict[str, str]]]:
    upstreams = ClsMoved(interval=0)
    upstreams.release_all()
    base = upstreams.start()
    env = {**QUICK, "FINEWS_UPSTREAM_OVERRIDE": f"www.cls.cn={base}"}
    yield upstreams, env
    upstreams.stop()


def test_cls_errno_10012_moves_to_the_next_known_version(
    tmp_path: Path, cls_moved: tuple[ClsMoved, dict[str, str]]
) -> None:
    upstreams, env = cls_moved
    report = poll(tmp_path / "f.db", env, "cls.telegraph", backfill=1000)["cls.telegraph"]
    assert report.ok, report.error
    assert report.new == len(bundled("cls")) == 200
    assert report.shape == "roll sv=8.4.6"
    assert report.switches[0]["from"] == "roll sv=8.7.9"
    assert "10012" in str(report.switches[0]["reason"])
    # nothing answers: the error names every shape's answer
    upstreams.accepted = "0.0.0"
    failed = poll(tmp_path / "f.db", env, "cls.telegraph")["cls.telegraph"]
    assert not failed.ok and "no known request shape works" in failed.error
    assert "roll sv=7.7.5: get_roll_list: signature rejected" in failed.error


# -- a field that disappears; VIP items; RiseRange -----------------------------------------


class ClsEdited(Upstreams):
    """Bundled 财联社 items edited on the way out, as an upstream change would."""

    edit: Any = None

    def _cls(self, query: dict[str, str]) -> bytes:
        answer = super()._cls(query)
        payload = json.loads(answer)
        if not self.edit or not payload.get("data"):
            return answer
        rows = payload["data"]["roll_data"]
        payload["data"]["roll_data"] = [self.edit(dict(r)) for r in rows]
        return json.dumps(payload, ensure_ascii=False).encode()


@pytest.fixture
def cls_edited() -> Iterator[tuple[ClsEdited, dict[str, str]]]:
    upstreams = ClsEdited(interval=0)
    upstreams.release_all()
    base = upstreams.start()
    env = {**QUICK, "FINEWS_UPSTREAM_OVERRIDE": f"www.cls.cn={base}"}
    yield upstreams, env
    upstreams.stop()


def test_a_dropped_field_is_a_warning_and_items_are_still_stored(
    tmp_path: Path, cls_edited: tuple[ClsEdited, dict[str, str]]
) -> None:
    upstreams, env = cls_edited
    db = tmp_path / "f.db"
    ids = [str(i["id"]) for i in bundled("cls")]
    first = poll(db, env, "cls.telegraph", backfill=50)["cls.telegraph"]
    assert first.ok and first.new >= 50 and first.field_changes == []

    def drop(item: dict[str, Any]) -> dict[str, Any]:
        item.pop("brief", None)  # every item loses it
        item["briefText"] = item.get("content", "")  # … and a new one appears
        if str(item["id"]) in ids[:3]:
            item.pop("ctime")  # three cannot be placed in time at all
        return item

    upstreams.edit = drop
    second = poll(db, env, "cls.telegraph", backfill=1000)["cls.telegraph"]
    assert second.ok, second.error
    changes = {(c["field"], c["change"]) for c in second.field_changes}
    assert changes == {("brief", "missing"), ("briefText", "new"), ("ctime", "missing")}
    assert second.failed == 3  # without ctime; every other item is stored
    con = sqlite3.connect(db)
    stored = {r[0] for r in con.execute("SELECT upstream_id FROM articles")}
    con.close()
    assert stored == set(ids[3:]) | (set(ids[:3]) & stored)
    assert len(set(ids) - stored) <= 3

    # seen again: recorded once, first seen stays; shown as a warning with the health
    third = poll(db, env, "cls.telegraph")["cls.telegraph"]
    assert third.field_changes == []  # not new any more
    health = sources_json(db, env)["cls.telegraph"]
    assert health["health"] == "changed"
    warned = {(w["field"], w["change"]) for w in health["warnings"]}
    assert warned == changes
    cli = run_cli("--db", str(db), "sources", env=env)
    assert "warning cls.telegraph: field 'brief' missing" in cli.stdout

    # the field comes back: its warning is resolved, the others stay
    upstreams.edit = lambda item: {**item, "briefText": ""}
    poll(db, env, "cls.telegraph")
    after = {(w["field"], w["change"]) for w in sources_json(db, env)["cls.telegraph"]["warnings"]}
    assert after == {("briefText", "new")}


def test_vip_items_are_skipped_and_counted_and_riserange_stays_with_its_tag(
    tmp_path: Path, cls_edited: tuple[ClsEdited, dict[str, str]]
) -> None:
    upstreams, env = cls_edited
    items = bundled("cls")
    vip = {str(i["id"]) for i in items[::20]}  # ten of them locked

    def lock(item: dict[str, Any]) -> dict[str, Any]:
        if str(item["id"]) in vip:
            item.update(type=20015, content="", brief="")
        return item

    upstreams.edit = lock
    db = tmp_path / "f.db"
    report = poll(db, env, "cls.telegraph", backfill=1000)["cls.telegraph"]
    assert report.ok and report.locked == len(vip) == 10
    assert report.new == len(items) - len(vip) and report.failed == 0
    health = sources_json(db, env)["cls.telegraph"]
    assert health["locked"] == 10

    con = sqlite3.connect(db)
    rows = dict(
        con.execute("SELECT upstream_id, stocks FROM articles WHERE source = 'cls.telegraph'")
    )
    topics = con.execute("SELECT count(*) FROM article_topics").fetchone()[0]
    con.close()
    assert not vip & set(rows)
    checked = 0
    for item in items:
        if str(item["id"]) in vip:
            continue
        tags = {t["code"]: t for t in json.loads(rows[str(item["id"])])}
        for s in item.get("stock_list") or []:
            match = re.fullmatch(r"(?i)(sh|sz|bj)(\d{6})", s["StockID"])
            if match and isinstance(s.get("RiseRange"), int | float):
                code = f"{match.group(2)}.{match.group(1).upper()}"
                assert tags[code]["move"] == round(s["RiseRange"], 2), (item["id"], code)
                checked += 1
    assert checked >= 20
    assert topics >= 50  # the subjects, indexed


# -- what the web app and the exports show --------------------------------------------------


def test_web_pages_show_topics_with_moves_the_calendar_and_the_warnings(
    tmp_path: Path, cls_edited: tuple[ClsEdited, dict[str, str]], httpserver: Any
) -> None:
    upstreams, env = cls_edited
    page = (HANDMADE / "jin10_flash_p1.json").read_bytes()

    def flashes(request: Request) -> Response:
        body = page if not request.args.get("max_time") else b'{"status":200,"data":[]}'
        return Response(body, content_type="application/json")

    httpserver.expect_request("/get_flash_list").respond_with_handler(flashes)
    jin10 = httpserver.url_for("").rstrip("/")
    env = {
        **env,
        "FINEWS_UPSTREAM_OVERRIDE": env["FINEWS_UPSTREAM_OVERRIDE"]
        + f",flash-api.jin10.com={jin10}",
    }
    db = tmp_path / "f.db"
    poll(db, env, "cls.telegraph", "jin10.flash", backfill=1000)
    upstreams.edit = lambda item: {k: v for k, v in item.items() if k != "level"}
    poll(db, env, "cls.telegraph")

    # an item with a RiseRange on a chip, and its topic
    def moving(i: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            s
            for s in i.get("stock_list") or []
            if re.fullmatch(r"(?i)(sh|sz)\d{6}", s["StockID"])
            and isinstance(s.get("RiseRange"), int | float)
        ]

    item = next(i for i in bundled("cls") if i.get("subjects") and moving(i))
    subject = item["subjects"][0]
    stock = moving(item)[0]
    move = f"{round(stock['RiseRange'], 2):+.2f}%"

    with (
        serving(f"sqlite:///{db}", tmp_path / "site") as base,
        httpx.Client(base_url=base, timeout=10) as client,
    ):
        topics = client.get("topics")
        assert topics.status_code == 200 and subject["subject_name"] in topics.text
        one = client.get("topics", params={"id": str(subject["subject_id"])})
        assert one.status_code == 200
        assert f"话题：{subject['subject_name']}" in one.text
        chip = re.search(
            rf'<span class="chip" data-code="{stock["StockID"][2:]}\.[A-Z]{{2}}">[^<]*'
            r'<span class="move [a-z]+" title="消息发布时的涨跌幅">([^<]+)</span>',
            one.text,
        )
        assert chip and chip.group(1) == move
        assert client.get("topics", params={"id": "no-such-topic"}).status_code == 404

        rss = client.get("feeds/topic.rss", params={"id": str(subject["subject_id"])})
        assert rss.status_code == 200 and "<item>" in rss.text
        with_audio = [i for i in bundled("cls") if i.get("audio_url")]
        if any(i["id"] == item["id"] for i in with_audio):
            assert '<enclosure url="https://' in rss.text

        calendar = client.get("calendar")
        assert calendar.status_code == 200 and "财经日历 · 2026-06-16" in calendar.text
        row = re.search(r'<tr class="event important">(.*?)</tr>', calendar.text, re.S)
        assert row, calendar.text
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
        assert cells[1:8] == [
            "美国",
            "美国5月零售销售月率",
            "★★★★☆",
            "0.1%",
            "0.3%",
            "0.4%",
            "影响较小",
        ]
        assert client.get("calendar", params={"date": "2026-13-01"}).status_code == 400
        api = client.get("api/calendar", params={"date": "2026-06-16"}).json()
        assert [e["actual"] for e in api] == ["0.4"]

        status = client.get("status")
        assert status.status_code == 200
        assert 'data-source="cls.telegraph" data-field="level"' in status.text
        assert "roll sv=8.7.9" in status.text  # the shape in use

        article = client.get("api/articles", params={"source": "cls.telegraph", "limit": 200})
        by_id = {a["id"]: a for a in article.json()["articles"]}
        tags = {s["code"]: s for s in by_id[str(item["id"])]["stocks"]}
        code = f"{stock['StockID'][2:]}.{stock['StockID'][:2].upper()}"
        assert tags[code]["move"] == round(stock["RiseRange"], 2)
        assert subject["subject_name"] in [t["name"] for t in by_id[str(item["id"])]["topics"]]

    # the CLI: the calendar, and the export carries the move
    result = run_cli("--db", str(db), "calendar", "--date", "2026-06-16", "--json", env=env)
    assert result.returncode == 0, result.stderr
    events = json.loads(result.stdout)["events"]
    assert [(e["name"], e["star"], e["affect"]) for e in events] == [
        ("美国5月零售销售月率", 4, "影响较小")
    ]
    bad = run_cli("--db", str(db), "calendar", "--date", "tomorrow", env=env)
    assert bad.returncode == 2 and bad.stderr.strip().startswith("error:")
    assert len(bad.stderr.strip().splitlines()) == 1
    export = run_cli("--db", str(db), "export", "json", str(tmp_path / "a.json"), env=env)
    assert export.returncode == 0, export.stderr
    lines = (tmp_path / "a.json").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    exported = next(r for r in records if r["upstream_id"] == str(item["id"]))
    code = f"{stock['StockID'][2:]}.{stock['StockID'][:2].upper()}"
    assert {s["code"]: s.get("move") for s in exported["stocks"]}[code] == round(
        stock["RiseRange"], 2
    )
    assert subject["subject_name"] in [t["name"] for t in exported["topics"]]


# -- a shape added in the settings ----------------------------------------------------------


def test_a_shape_from_the_settings_is_tried_first_and_bad_ones_are_refused(
    tmp_path: Path, httpserver: Any
) -> None:
    standin = EastmoneyStandin(fast=real_fast_items()[:30])
    paths: list[str] = []

    def handler(request: Request) -> Response:
        paths.append(request.path)
        return standin(request)

    httpserver.expect_request(re.compile(r"^/mirror/")).respond_with_handler(handler)
    base = httpserver.url_for("").rstrip("/")
    config = tmp_path / "config.toml"
    config.write_text(
        "[[sources.shapes]]\n"
        'source = "eastmoney.fast"\nname = "my mirror"\n'
        f'base = "{base}/mirror"\nfirst = true\n'
        'headers = { "X-Test" = "1" }\n',
        encoding="utf-8",
    )
    env = {**QUICK, "FINEWS_CONFIG": str(config)}
    report = poll(tmp_path / "f.db", env, "eastmoney.fast")["eastmoney.fast"]
    assert report.ok and report.shape == "my mirror" and report.new == 30
    assert paths and all(p == "/mirror/comm/web/getFastNewsList" for p in paths)

    config.write_text(
        '[[sources.shapes]]\nsource = "ths.flash"\nname = "x"\nbase = "https://x.example"\n',
        encoding="utf-8",
    )
    result = run_cli("--db", str(tmp_path / "f.db"), "fetch", "eastmoney.fast", env=env)
    assert result.returncode == 1  # a settings error (EXIT_CONFIG)
    assert result.stderr.strip().splitlines() == [
        "error: sources.shapes 'x': source 'ths.flash' has no request shapes (these do: "
        "eastmoney.fast, eastmoney.column, cls.telegraph, wscn.live, jin10.flash)"
    ]
    config.write_text(
        '[[sources.shapes]]\nsource = "cls.telegraph"\nname = "x"\nbase = "ftp://x"\n',
        encoding="utf-8",
    )
    result = run_cli("--db", str(tmp_path / "f.db"), "fetch", "eastmoney.fast", env=env)
    assert result.returncode == 1 and "sources.shapes #1 base 'ftp://x'" in result.stderr


def test_an_empty_list_where_there_were_items_tries_the_other_shapes(
    tmp_path: Path, httpserver: Any
) -> None:
    """华尔街见闻's configured host answers ``items: []`` (it had items): the next host
    has them.  When every host is empty the source is quiet, not failing."""
    lives = json.loads((HANDMADE / "wscn_lives_p1.json").read_text(encoding="utf-8"))
    empty = {**lives, "data": {**lives["data"], "items": [], "next_cursor": ""}}
    state = {"first_host_empty": False, "all_empty": False}

    def handler(request: Request) -> Response:
        host = request.path.split("/")[1]
        blank = state["all_empty"] or (host == "awtmt" and state["first_host_empty"])
        body = empty if blank or request.args.get("cursor") else lives
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request(re.compile(r"^/(awtmt|wallstcn|prod)/")).respond_with_handler(handler)
    base = httpserver.url_for("").rstrip("/")
    env = {
        **QUICK,
        "FINEWS_UPSTREAM_OVERRIDE": (
            f"api-one-wscn.awtmt.com={base}/awtmt,api-one.wallstcn.com={base}/wallstcn,"
            f"api-prod.wallstreetcn.com={base}/prod"
        ),
    }
    db = tmp_path / "f.db"
    assert poll(db, env, "wscn.live")["wscn.live"].new == len(lives["data"]["items"])
    state["first_host_empty"] = True
    moved = poll(db, env, "wscn.live")["wscn.live"]
    assert moved.ok and moved.shape == "api-one.wallstcn.com"
    assert "an empty list where the source had items" in str(moved.switches[0]["reason"])
    state["all_empty"] = True
    quiet = poll(db, env, "wscn.live")["wscn.live"]
    assert quiet.ok and quiet.new == 0 and not quiet.switches


def test_wscn_channels_and_symbols(tmp_path: Path, httpserver: Any) -> None:
    """Each configured channel is polled; an item's ``channels`` are its topics and
    ``symbols`` its stock tags (hand-made symbols: their element shape is unconfirmed)."""
    lives = json.loads((HANDMADE / "wscn_lives_p1.json").read_text(encoding="utf-8"))
    asked: list[str] = []

    def handler(request: Request) -> Response:
        channel = request.args["channel"]
        asked.append(channel)
        items = [
            {
                **item,
                "id": item["id"] + (0 if channel == "global-channel" else 1000),
                "channels": [channel],
                "symbols": [{"symbol": "600519.SS", "name": "贵州茅台"}, "00700.HK", "AAPL.O"],
            }
            for item in lives["data"]["items"][:2]
        ]
        if request.args.get("cursor"):
            items = []
        body = {**lives, "data": {**lives["data"], "items": items}}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/apiv1/content/lives").respond_with_handler(handler)
    env = {
        **QUICK,
        "FINEWS_UPSTREAM_OVERRIDE": f"api-one-wscn.awtmt.com={httpserver.url_for('').rstrip('/')}",
        "FINEWS_WSCN_CHANNELS": "global-channel,a-stock-channel",
    }
    db = tmp_path / "f.db"
    report = poll(db, env, "wscn.live")["wscn.live"]
    assert report.ok and report.new == 4
    assert {"global-channel", "a-stock-channel"} <= set(asked)
    with Store.open(f"sqlite:///{db}") as store:
        article = next(a for a in store.iter_articles() if a.topics[0].name == "A股")
    assert [s.code for s in article.stocks][:3] == ["600519.SH", "00700.HK", "AAPL.US"]


def test_fallback_time_is_measured_from_the_first_failure(tmp_path: Path) -> None:
    """The clock runs from the start of the first failing request to the working answer:
    a slow failing shape is counted in full."""
    from finews.errors import FetchError
    from finews.sources.shapes import Candidates, Shape

    ticks = iter([0.0, 0.5, 1.25, 2.0, 2.0])
    candidates = Candidates(
        "x",
        (Shape("old", "http://a", "/p"), Shape("new", "http://b", "/p")),
        clock=lambda: next(ticks),
    )

    def attempt(shape: Shape) -> str:
        if shape.name == "old":
            raise FetchError("GET http://a/p: HTTP 404", "x", status=404)
        return "ok"

    assert candidates.first(attempt) == "ok"
    assert candidates.shape.name == "new"
    assert candidates.switches[0].seconds == pytest.approx(1.25)
    # a passing failure (a 503 after the retries) is not a change: no other shape is tried
    candidates.prefer("old")
    with pytest.raises(FetchError):
        candidates.first(lambda s: (_ for _ in ()).throw(FetchError("HTTP 503", "x", status=503)))
    assert candidates.shape.name == "old" and len(candidates.switches) == 1


class ClsCategories(Upstreams):
    """财联社 with categories: each answers with the telegraphs of its category (here: a
    slice of the real ones, overlapping, as a telegraph can be in two)."""

    asked: list[str]

    def _cls(self, query: dict[str, str]) -> bytes:
        self.asked.append(query.get("category", ""))
        payload = json.loads(super()._cls(query))
        rows = payload["data"]["roll_data"]
        keep = {"red": rows[:10], "watch": rows[5:15]}.get(query.get("category", ""), rows)
        payload["data"]["roll_data"] = [] if int(query.get("last_time") or 0) else keep
        return json.dumps(payload, ensure_ascii=False).encode()


def test_cls_categories_are_polled_together_and_an_item_in_two_is_one_article(
    tmp_path: Path,
) -> None:
    upstreams = ClsCategories(interval=0)
    upstreams.asked = []
    upstreams.release_all()
    base = upstreams.start()
    try:
        env = {
            **QUICK,
            "FINEWS_UPSTREAM_OVERRIDE": f"www.cls.cn={base}",
            "FINEWS_CLS_CATEGORIES": "red,watch",
        }
        report = poll(tmp_path / "f.db", env, "cls.telegraph")["cls.telegraph"]
    finally:
        upstreams.stop()
    assert report.ok and report.new == 15  # 10 red, 10 watch, 5 in both
    assert set(upstreams.asked) == {"red", "watch"}
    bad = run_cli("--db", str(tmp_path / "f.db"), "sources", env={"FINEWS_CLS_CATEGORIES": "vip"})
    assert bad.returncode == 1 and "cls.categories: each must be one of red" in bad.stderr


def test_a_data_release_is_updated_in_place_when_its_figure_arrives(tmp_path: Path) -> None:
    from finews.model import BEIJING, CalendarEvent
    from finews.store import calendar

    when = datetime(2026, 6, 16, 20, 30, tzinfo=BEIJING)
    before = CalendarEvent("jin10.flash", "1", "美国5月零售销售月率", when, forecast="0.3")
    with Store.open(f"sqlite:///{tmp_path / 'c.db'}") as store:
        assert calendar.save_events(store, [before])["new"] == 1
        after = replace(before, actual="0.4", affect="利多")
        assert calendar.save_events(store, [after]) == {"new": 0, "updated": 1, "unchanged": 0}
        assert calendar.save_events(store, [after])["unchanged"] == 1
        (stored,) = calendar.events_on(store, "2026-06-16")
        assert (stored.actual, stored.forecast, stored.affect) == ("0.4", "0.3", "利多")
        assert calendar.events_on(store, "2026-06-17") == []
        with pytest.raises(ValueError):
            calendar.events_on(store, "16/06/2026")


def test_a_topic_renamed_upstream_is_one_topic_under_its_newest_name(tmp_path: Path) -> None:
    """Wave 12's walk: a 财联社 subject renamed upstream (the same id, a new name) was two
    rows of the topics list.  The seven real flashes of tests/data/flash/cls_search.jsonl,
    the older four filed by hand under the old name, the newer three under the new."""
    from finews.model import Topic
    from finews.store import topics
    from test_search import cls_flashes

    made = sorted(cls_flashes(), key=lambda a: a.published)
    made = [
        replace(a, topics=(Topic("1556", "环球市场情报" if n < 4 else "全球市场情报"),))
        for n, a in enumerate(made)
    ] + [replace(made[0], upstream_id="other", topics=(Topic("7", "其他"),))]
    with Store.open(f"sqlite:///{tmp_path / 't.db'}") as store:
        store.save(made)  # the topics indexed in the same write
        listed = topics.topics(store)
        name, newest_first = topics.topic_articles(store, "1556")
    assert [(t.id, t.name, t.articles) for t in listed] == [
        ("1556", "全球市场情报", 7),
        ("7", "其他", 1),
    ]
    assert name == "全球市场情报" and len(newest_first) == 7
    assert listed[0].newest_at == int(made[-2].published.timestamp())


@needs_chromium
def test_a_topic_page_says_the_topics_total_and_leads_to_the_rest(tmp_path: Path) -> None:
    """Wave 12's walk: the list of topics said 111 where the topic's page said 共 100 条,
    showed 100 and had no way to the other eleven.  The seven real 财联社 flashes of
    tests/data/flash/cls_search.jsonl, twenty times over under new ids and times, filed by
    hand under one topic: 140 articles, two pages, each line with its text."""
    from datetime import timedelta

    from finews.model import Topic
    from test_search import cls_flashes

    base = cls_flashes()
    made = [
        replace(
            a,
            upstream_id=f"{a.upstream_id}t{n}",
            published=a.published - timedelta(minutes=n),
            topics=(Topic("1556", "环球市场情报"),),
        )
        for n in range(20)
        for a in base
    ]
    db = tmp_path / "t.db"
    with Store.open(f"sqlite:///{db}") as store:
        store.save(made)  # the topics indexed in the same write
    with (
        serving(f"sqlite:///{db}", tmp_path / "site") as root,
        httpx.Client(base_url=root, timeout=10) as client,
    ):
        listed = client.get("topics").text
        assert re.search(r'环球市场情报</a></td><td data-label="消息">140 条</td>', listed)
        first = client.get("topics", params={"id": "1556"}).text
        assert "共 140 条，第 1/2 页" in first
        assert first.count('<a class="time"') == 100
        assert '<p class="text">' in first or '<details class="text">' in first
        older = re.search(r'<a href="([^"]+)">较早 →</a>', first)
        assert older and older.group(1) == "topics?id=1556&amp;page=2"
        second = client.get("topics", params={"id": "1556", "page": "2"}).text
        assert "共 140 条，第 2/2 页" in second and "较早 →" not in second
        assert second.count('<a class="time"') == 40
        assert '<a href="topics?id=1556">← 较新</a>' in second
        # a page number that is no number, or past the last, is no error
        for odd in ("x", "²", "-1", "9" * 40):  # "²" passed str.isdigit and failed int()
            assert client.get("topics", params={"id": "1556", "page": odd}).status_code == 200
            assert client.get("search", params={"q": "央行", "page": odd}).status_code == 200
        assert "第 2/2 页" in client.get("topics", params={"id": "1556", "page": "99"}).text


def test_the_calendar_topics_and_status_pages_in_chromium(
    tmp_path: Path, cls_edited: tuple[ClsEdited, dict[str, str]], httpserver: Any, browser: Any
) -> None:
    """The new pages in a real browser: Chinese, the site's chrome and stylesheet, no
    console error or failed request under the app's CSP."""
    from finews.site import SiteOptions, build_site

    upstreams, env = cls_edited
    page_body = (HANDMADE / "jin10_flash_p1.json").read_bytes()
    httpserver.expect_request("/get_flash_list").respond_with_handler(
        lambda r: Response(
            page_body if not r.args.get("max_time") else b'{"status":200,"data":[]}',
            content_type="application/json",
        )
    )
    overrides = env["FINEWS_UPSTREAM_OVERRIDE"]
    env = {
        **env,
        "FINEWS_UPSTREAM_OVERRIDE": f"{overrides},flash-api.jin10.com="
        + httpserver.url_for("").rstrip("/"),
    }
    db = tmp_path / "f.db"
    poll(db, env, "cls.telegraph", "jin10.flash", backfill=1000)
    upstreams.edit = lambda item: {k: v for k, v in item.items() if k != "level"}
    poll(db, env, "cls.telegraph")
    with Store.open(f"sqlite:///{db}") as store:
        build_site(store, tmp_path / "site", SiteOptions(page_size=50))
    subject = next(i for i in bundled("cls") if i.get("subjects"))["subjects"][0]
    ARTIFACTS.mkdir(exist_ok=True)
    with serving(f"sqlite:///{db}", tmp_path / "site") as base:
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on(
            "response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None
        )
        page.goto(base + "calendar")
        row = page.locator("table.calendar tr.event").first
        assert "美国5月零售销售月率" in row.inner_text() and "0.4%" in row.inner_text()
        assert page.locator("header.site a.brand").count() == 1  # the site's chrome
        page.screenshot(path=str(ARTIFACTS / "calendar.png"))
        page.goto(base + "topics")
        page.click(f"text={subject['subject_name']}")
        page.wait_for_selector("ul.results li")
        assert page.locator("h1").inner_text() == f"话题：{subject['subject_name']}"
        page.screenshot(path=str(ARTIFACTS / "topic.png"))
        page.goto(base + "status")
        assert "格式变化" in page.locator("main").inner_text()
        assert page.locator("li.warning[data-field='level']").count() == 1
        page.screenshot(path=str(ARTIFACTS / "status-warnings.png"))
        assert errors == []


def test_topics_arriving_for_an_article_stored_without_them_are_no_revision(
    tmp_path: Path,
) -> None:
    """Articles stored before finews read 财联社's subjects gain them on the next poll: the
    row is updated (topic pages find it), no revision is kept; a real change still is one."""
    from finews.sources import cls

    item = next(i for i in bundled("cls") if i.get("subjects") and i.get("audio_url"))
    article = cls.normalise(item)
    before = replace(article, topics=(), audio_url="")
    with Store.open(f"sqlite:///{tmp_path / 't.db'}") as store:
        store.save([before])
        assert store.save([article]).counts["updated"] == 1
        assert store.revisions(article.source, article.upstream_id) == []
        stored = store.get(article.source, article.upstream_id)
        assert stored is not None and stored.topics == article.topics and stored.audio_url
        assert store.save([article]).counts["unchanged"] == 1
        edited = replace(article, title=article.title + "（更新）")
        assert store.save([edited]).counts["updated"] == 1
        assert len(store.revisions(article.source, article.upstream_id)) == 1


def test_a_telegraph_stored_with_its_brief_takes_its_whole_text_as_no_revision(
    tmp_path: Path,
) -> None:
    """A 财联社 telegraph stored before wave 8 has the upstream's ``brief`` (cut at 300
    characters) as its digest; seen again it takes the telegraph's whole text: the row is
    updated (the stream shows the whole text), no revision is kept — the story did not
    change.  A brief that is a text of its own is not this case."""
    from finews.sources import cls

    item = next(i for i in bundled("cls") if len(i.get("brief") or "") >= 300)
    article = cls.normalise(item)
    assert article.digest == item["content"].strip() and len(article.digest) > 300
    before = replace(article, digest=item["brief"].strip())
    with Store.open(f"sqlite:///{tmp_path / 't.db'}") as store:
        store.save([before])
        assert store.save([article]).counts["updated"] == 1
        assert store.revisions(article.source, article.upstream_id) == []
        stored = store.get(article.source, article.upstream_id)
        assert stored is not None and stored.digest == article.digest
        # a digest that says something else is still a new version
        other = replace(article, digest="分析师认为，资金集中流入科技成长方向，短线情绪回暖。")
        assert store.save([other]).counts["updated"] == 1
        assert len(store.revisions(article.source, article.upstream_id)) == 1
        # and so is one that starts as the text does and then corrects it (a review's case:
        # the same first 24 letters made it "the same text")
        corrected = replace(article, digest=article.digest[:40] + "（更正：数据有误，以公告为准）")
        assert store.save([corrected]).counts["updated"] == 1
        assert len(store.revisions(article.source, article.upstream_id)) == 2
