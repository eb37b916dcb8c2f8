"""The 7×24 adapters (财联社, 同花顺, 新浪, 华尔街见闻, 金十) replayed through the host
override against local stand-ins on 127.0.0.1 (issue #7)."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import DATA, run_cli
from finews.demo.upstreams import Upstreams, bundled
from finews.errors import UpstreamFormatError
from finews.sources import cls as cls_source

HANDMADE = DATA / "handmade"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "app=CailianpressWeb&last_time=0&os=web&refresh_type=1&rn=20&sv=8.7.9",
            "e11ef7d616d8f9a2f056e6df1aefc4d4",
        ),
        ("appName=CailianpressWeb&os=web&sv=7.7.5", "9c11221af4f6b47b253098a8b9957b8f"),
        (
            "appName=CailianpressWeb&category=&hasFirstVipArticle=1&os=web&sv=7.7.5",
            "a238a5f06453a6fe1e3c33e8f835c19e",
        ),
        ("app=CailianpressWeb&name=telegraph&os=web&sv=8.7.9", "6c73b056a64891cdc257dcf1914464ad"),
        (
            "app=CailianpressWeb&category=&last_time=1789746672&os=web&refresh_type=1&rn=20&sv=8.7.9",
            "04be14e15806e48ef594f71cc58e6210",
        ),
    ],
)
def test_cls_signature_matches_the_documented_vectors(query: str, expected: str) -> None:
    params = dict(pair.split("=", 1) for pair in query.split("&"))
    shuffled = dict(reversed(list(params.items())))  # order must not matter
    assert cls_source.sign(shuffled) == expected


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"errno": 10012, "msg": "签名错误"}, "signature rejected"),
        ({"errno": "10012", "msg": "签名错误"}, "signature rejected"),
        ({"errno": 50101, "msg": "小财正在加载中..."}, "blocked"),
        ({"errno": 0, "data": None}, "data is missing"),
        ({"errno": 0, "data": {"roll_data": "x"}}, "roll_data"),
        (["not", "an", "object"], "JSON object"),
    ],
)
def test_cls_error_answers_say_why(payload: Any, reason: str) -> None:
    with pytest.raises(UpstreamFormatError, match=reason):
        cls_source.check(payload)


@pytest.fixture
def upstreams() -> Iterator[tuple[Upstreams, dict[str, str]]]:
    u = Upstreams(interval=0)
    u.release_all()
    base = u.start()
    env = {
        "FINEWS_UPSTREAM_OVERRIDE": ",".join(f"{h}={b}" for h, b in u.override(base).items()),
        "FINEWS_HTTP_HOST_SPACING": "0",
        "FINEWS_HTTP_BACKOFF": "0.01",
        "FINEWS_HTTP_TIMEOUT": "2",
        "FINEWS_EASTMONEY_FULLTEXT": "false",
    }
    yield u, env
    u.stop()


def fetch(db: Path, env: dict[str, str], *args: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("--db", str(db), "fetch", "--json", *args, env=env)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, {r["source"]: r for r in json.loads(result.stdout)["sources"]}


def test_cls_and_ths_replay_every_real_item_once(
    tmp_path: Path, upstreams: tuple[Upstreams, dict[str, str]]
) -> None:
    _, env = upstreams
    db = tmp_path / "f.db"
    code, report = fetch(db, env, "cls.telegraph", "ths.flash", "--backfill", "1000")
    assert code == 0, report
    assert report["cls.telegraph"]["new"] == len(bundled("cls")) == 200
    assert report["ths.flash"]["new"] == len(bundled("ths")) == 200
    # the real captures are what the adapters expect: no field change is reported (#15)
    assert report["cls.telegraph"]["field_changes"] == report["ths.flash"]["field_changes"] == []
    again = fetch(db, env, "cls.telegraph", "ths.flash")[1]
    assert again["cls.telegraph"]["new"] == again["ths.flash"]["new"] == 0
    con = sqlite3.connect(db)
    rows = {
        (r[0], r[1]): r[2:]
        for r in con.execute(
            "SELECT source, upstream_id, title, important, stocks, media FROM articles"
        )
    }
    con.close()
    for item in bundled("cls"):
        title, important, stocks, media = rows[("cls.telegraph", str(item["id"]))]
        assert media == "财联社"
        assert bool(important) == (item.get("level") in {"A", "B"})
        if item.get("title"):
            assert title == item["title"]
        else:  # the text's leading 【…】, else its beginning
            assert title and title.rstrip("…") in item["content"]
        expected = {
            f"{s['StockID'][2:]}.{s['StockID'][:2].upper()}"
            for s in item.get("stock_list") or []
            if re.fullmatch(r"(?i)(sh|sz|bj)\d{6}", s["StockID"])
        }
        upstream = {s["code"] for s in json.loads(stocks) if s["origin"] == "upstream"}
        assert upstream == expected
    for item in bundled("ths"):
        title, important, stocks, media = rows[("ths.flash", str(item["seq"]))]
        assert media == "同花顺" and title == item["title"]
        assert bool(important) == (item.get("color") == "2")


def test_a_failing_source_does_not_hold_up_the_others_and_catches_up(
    tmp_path: Path, upstreams: tuple[Upstreams, dict[str, str]]
) -> None:
    """财联社 answers 503 through all retries: reported, 同花顺 still stored; on the next
    round 财联社 is back and every item arrives."""
    u, env = upstreams
    u.fail("/v1/roll/get_roll_list", 503, 503, 503, 503)
    code, report = fetch(tmp_path / "f.db", env, "cls.telegraph", "ths.flash")
    assert code == 4
    assert "503" in report["cls.telegraph"]["error"]
    assert report["ths.flash"]["ok"] and report["ths.flash"]["new"] > 0
    # recovered: everything arrives on the next round
    code, report = fetch(tmp_path / "f.db", env, "cls.telegraph", "--backfill", "1000")
    assert code == 0 and report["cls.telegraph"]["new"] == 200


def serve_file(httpserver: Any, path: str, file: Path, **match: Any) -> None:
    content_type = "application/javascript" if file.suffix == ".jsonp" else "application/json"
    httpserver.expect_request(path, **match).respond_with_data(
        file.read_bytes(), content_type=content_type
    )


def env_for(httpserver: Any, *hosts: str) -> dict[str, str]:
    base = httpserver.url_for("").rstrip("/")
    return {
        "FINEWS_UPSTREAM_OVERRIDE": ",".join(f"{h}={base}" for h in hosts),
        "FINEWS_HTTP_HOST_SPACING": "0",
        "FINEWS_HTTP_BACKOFF": "0.01",
        "FINEWS_HTTP_TIMEOUT": "2",
    }


def stored(db: Path, source: str) -> dict[str, tuple[Any, ...]]:
    con = sqlite3.connect(db)
    try:
        return {
            r[0]: r[1:]
            for r in con.execute(
                "SELECT upstream_id, title, important, stocks, url, digest FROM articles "
                "WHERE source = ?",
                (source,),
            )
        }
    finally:
        con.close()


@pytest.mark.parametrize("variant", ["sina_feed_p1.json", "sina_feed_p1.jsonp"])
def test_sina(tmp_path: Path, httpserver: Any, variant: str) -> None:
    serve_file(httpserver, "/api/zhibo/feed", HANDMADE / variant)
    code, report = fetch(tmp_path / "f.db", env_for(httpserver, "zhibo.sina.com.cn"), "sina.zhibo")
    assert code == 3 or report["sina.zhibo"]["ok"]
    assert report["sina.zhibo"]["new"] == 12 and report["sina.zhibo"]["failed"] == 2
    rows = stored(tmp_path / "f.db", "sina.zhibo")
    first = rows["4900100"]
    assert {s["code"] for s in json.loads(first[2])} == {"600030.SH", "06030.HK", "JPM.US"}
    assert first[3].startswith("https://finance.sina.com.cn/7x24/")
    assert rows["4900099"][1] and rows["4900098"][1]  # is_focus, and the 焦点 tag
    assert not rows["4900097"][1]
    assert json.loads(rows["4900095"][2]) == []  # its ext is broken: no stocks, still stored
    assert all(r[0] for r in rows.values())  # every item has a title


def test_wscn(tmp_path: Path, httpserver: Any) -> None:
    first = json.loads((HANDMADE / "wscn_lives_p1.json").read_text(encoding="utf-8"))
    from werkzeug import Request, Response

    def lives(request: Request) -> Response:
        page = "wscn_lives_p2.json" if request.args.get("cursor") else "wscn_lives_p1.json"
        return Response((HANDMADE / page).read_bytes(), content_type="application/json")

    httpserver.expect_request("/apiv1/content/lives").respond_with_handler(lives)
    code, report = fetch(
        tmp_path / "f.db",
        env_for(httpserver, "api-one-wscn.awtmt.com"),
        "wscn.live",
        "--backfill",
        "100",
    )
    assert code == 0 and report["wscn.live"]["new"] == 10
    rows = stored(tmp_path / "f.db", "wscn.live")
    assert rows["3200100"][1] and rows["3200099"][1] and not rows["3200097"][1]  # score ≥ 2
    assert rows["3200098"][3] == "https://wallstreetcn.com/livenews/3200098"  # was relative
    assert first["data"]["items"][0]["content_text"] == rows["3200100"][4]


def test_jin10_needs_its_app_id_and_skips_locked_and_data_rows(
    tmp_path: Path, httpserver: Any
) -> None:
    from werkzeug import Request, Response

    def flashes(request: Request) -> Response:
        if request.headers.get("x-app-id") != "test-app-id":
            return Response('{"status": 401, "message": "bad app id"}', status=401)
        page = json.loads((HANDMADE / "jin10_flash_p1.json").read_text(encoding="utf-8"))
        if request.args.get("max_time"):  # one page only: older pages are empty
            page["data"] = []
        return Response(json.dumps(page), content_type="application/json")

    httpserver.expect_request("/get_flash_list").respond_with_handler(flashes)
    env = {**env_for(httpserver, "flash-api.jin10.com"), "FINEWS_JIN10_APP_ID": "test-app-id"}
    code, report = fetch(tmp_path / "f.db", env, "jin10.flash")
    assert report["jin10.flash"]["new"] == 6
    # the locked PLUS item is counted apart; the data row is a calendar row (issue #15)
    assert report["jin10.flash"]["failed"] == 0
    assert report["jin10.flash"]["locked"] == 1
    assert report["jin10.flash"]["events_new"] == 1
    assert code == 0
    rows = stored(tmp_path / "f.db", "jin10.flash")
    assert sum(r[1] for r in rows.values()) == 1
    con = sqlite3.connect(tmp_path / "f.db")
    events = con.execute("SELECT name, actual, forecast, previous, star FROM calendar_events")
    assert events.fetchall() == [("美国5月零售销售月率", "0.4", "0.3", "0.1", 4)]
    con.close()
    # a stale app id: the known ones are tried too; the stand-in refuses them all
    wrong = {**env, "FINEWS_JIN10_APP_ID": "stale"}
    code, report = fetch(tmp_path / "g.db", wrong, "jin10.flash")
    assert code == 4 and not report["jin10.flash"]["ok"]
    assert "no known request shape works" in report["jin10.flash"]["error"]
