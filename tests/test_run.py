"""``finews run`` (issue #7): the schedule with a fake clock, source health, alerts to a
real local receiver, a failing source that recovers, restart and clean shutdown."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import run_cli
from finews.config import load_settings
from finews.demo.upstreams import Upstreams, bundled
from finews.model import BEIJING, Article, StockTag
from finews.run import alerts
from finews.run.health import assess
from finews.run.runner import Runner
from finews.run.schedule import Pace, Policy, Schedule, market_phase

# -- the schedule, with a fake clock -------------------------------------------------------

POLICY = Policy(
    base=60,
    minimum=5,
    maximum=600,
    max_backoff=900,
    jitter=0.0,
    pace=Pace(5, 15, 60),
    paces={"eastmoney.column": Pace(60, 120, 600)},
    global_sources=frozenset({"wscn.live"}),
    burst_items=3,
    burst_window=300,
)


def beijing(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING).timestamp()


class FakeClock:
    """The runner's clock, moved by hand: a monotonic part and the wall time with it."""

    def __init__(self, start: str) -> None:
        self.epoch0 = beijing(start)
        self.mono = 1000.0

    def monotonic(self) -> float:
        return self.mono

    def time(self) -> float:
        return self.epoch0 + self.mono - 1000.0

    def at(self) -> str:
        return datetime.fromtimestamp(self.time(), BEIJING).strftime("%H:%M:%S")


def test_the_market_phase_follows_the_a_share_sessions_and_the_us_session() -> None:
    tuesday = "2026-06-16"  # a Tuesday; New York on summer time (EDT)
    for clock, phase in [
        ("09:14:59", "day"),
        ("09:15:00", "busy"),
        ("11:29:59", "busy"),
        ("11:30:00", "day"),  # the lunch break
        ("13:00:00", "busy"),
        ("14:59:59", "busy"),
        ("15:00:00", "day"),
        ("22:59:59", "day"),
        ("23:00:00", "night"),
        ("06:59:59", "night"),
    ]:
        assert market_phase(beijing(f"{tuesday}T{clock}")) == phase, clock
    assert market_phase(beijing("2026-06-20T10:00:00")) == "night"  # a Saturday
    # the US session (09:30-16:00 New York) is busy for the global sources only
    assert market_phase(beijing(f"{tuesday}T21:30:00"), global_source=True) == "busy"
    assert market_phase(beijing(f"{tuesday}T21:30:00")) == "day"
    assert market_phase(beijing(f"{tuesday}T21:29:00"), global_source=True) == "day"
    # in winter (EST) it opens an hour later, Beijing time
    assert market_phase(beijing("2026-01-13T21:30:00"), global_source=True) == "day"
    assert market_phase(beijing("2026-01-13T22:30:00"), global_source=True) == "busy"
    # Friday's US afternoon is Saturday night in Beijing
    assert market_phase(beijing("2026-06-20T02:00:00"), global_source=True) == "busy"
    assert market_phase(beijing("2026-06-20T02:00:00")) == "night"


def drive(
    schedule: Schedule,
    clock: FakeClock,
    seconds: int,
    news: Any = lambda key, at: 0,
) -> list[tuple[str, str, float, float]]:
    """Run the schedule as the runner does, a second at a time: (source, clock, poll time,
    next interval) of every poll.  ``news(key, hh:mm:ss)`` is what a poll brings."""
    polls = []
    for _ in range(seconds):
        now = clock.monotonic()
        schedule.retune(now, clock.time())
        for key in schedule.due(now):
            schedule.started(key)
            schedule.finished(
                key, now=now, ok=True, new=news(key, clock.at()), rand=0.5, epoch=clock.time()
            )
            polls.append((key, clock.at(), now, schedule.states[key].interval))
        clock.mono += 1.0
    return polls


def test_a_trading_day_tightens_at_the_open_relaxes_at_the_close_and_at_night() -> None:
    clock = FakeClock("2026-06-16T08:30:00")
    schedule = Schedule.start(
        ["cls.telegraph", "eastmoney.column", "wscn.live"], POLICY, clock.monotonic(), clock.time()
    )
    polls = drive(schedule, clock, 24 * 3600)

    def intervals(key: str, start: str, end: str) -> list[float]:
        return [i for k, at, _, i in polls if k == key and start <= at < end]

    def gaps(key: str, start: str, end: str) -> list[float]:
        times = [t for k, at, t, _ in polls if k == key and start <= at < end]
        return [b - a for a, b in itertools.pairwise(times)]

    # before the open: quiet, stretched up to the day's bound
    assert max(intervals("cls.telegraph", "08:45:00", "09:15:00")) == 15
    # 09:15: tightened at once (the poll due at up to 09:15:15 is brought forward)
    first = min(at for k, at, _, _ in polls if k == "cls.telegraph" and at >= "09:15:00")
    assert first <= "09:15:05"
    assert set(intervals("cls.telegraph", "09:15:05", "11:30:00")) == {5}
    assert set(gaps("cls.telegraph", "09:16:00", "11:29:00")) == {5}  # 720 polls an hour
    # the lunch break relaxes, the afternoon session tightens again
    assert max(intervals("cls.telegraph", "11:45:00", "12:59:00")) == 15
    assert set(intervals("cls.telegraph", "13:00:05", "15:00:00")) == {5}
    # 15:00: relaxed poll by poll (nothing new comes), to the day's bound
    after = intervals("cls.telegraph", "15:00:00", "15:05:00")
    assert after[0] < after[1] < after[2] and after[-1] == 15
    # 23:00: night, to its bound; 07:00 the day again
    assert max(intervals("cls.telegraph", "23:30:00", "23:59:59")) == 60
    assert max(intervals("cls.telegraph", "00:00:00", "06:59:59")) == 60
    assert max(intervals("cls.telegraph", "07:05:00", "08:29:00")) == 15
    # a source's own pace: column news at most a minute apart, in the sessions too
    assert set(intervals("eastmoney.column", "09:20:00", "11:30:00")) == {60}
    assert max(intervals("eastmoney.column", "01:00:00", "06:00:00")) == 600
    # the US session: 21:30-04:00 Beijing in June, busy for the global source only
    assert set(intervals("wscn.live", "21:31:00", "23:59:59")) == {5}
    assert max(intervals("cls.telegraph", "21:31:00", "22:59:59")) == 15
    # at most one list request every 5 s, all day long
    for key in ("cls.telegraph", "wscn.live"):
        assert min(gaps(key, "00:00:00", "99")) >= 5


def test_a_burst_tightens_the_interval_for_its_window_then_it_relaxes() -> None:
    clock = FakeClock("2026-06-16T20:00:00")  # a weekday evening: the day's bound, 15 s
    schedule = Schedule.start(["cls.telegraph"], POLICY, clock.monotonic(), clock.time())

    def news(key: str, at: str) -> int:
        if at == "20:00:00":
            return 20  # the backlog since the last run
        return 4 if "20:10:00" <= at < "20:10:15" else 0  # a poll brings a burst

    polls = drive(schedule, clock, 1800, news)
    # the first poll's items are a backlog, not a burst: halved (a burst would hold 5 s
    # for 300 s), then stretched back as nothing new comes
    assert [i for _, _, _, i in polls[:3]] == [7.5, 11.25, 15]
    before = [i for _, at, _, i in polls if "20:05:00" <= at < "20:10:00"]
    assert set(before) == {15}
    burst = min(at for _, at, _, i in polls if at >= "20:10:00")
    within = [i for _, at, _, i in polls if burst <= at < "20:14:50"]
    assert set(within) == {5}  # busy pace for the burst window (300 s)
    later = [i for _, at, _, i in polls if at >= "20:16:00"]
    assert max(later) == 15  # relaxed again
    # a single new item halves the interval; nothing new stretches it by half
    s = Schedule.start(["x"], POLICY, now=0, epoch=beijing("2026-06-16T20:00:00"))
    evening = beijing("2026-06-16T20:00:00")
    assert s.finished("x", now=0, ok=True, new=0, rand=0.0, epoch=evening) == 15
    assert s.finished("x", now=15, ok=True, new=1, rand=0.0, epoch=evening) == 7.5
    assert s.finished("x", now=23, ok=True, new=1, rand=0.0, epoch=evening) == 5


def test_every_source_is_due_at_start_and_not_twice_while_running() -> None:
    s = Schedule.start(["a", "b"], POLICY, now=1000)
    assert s.due(1000) == ["a", "b"]
    s.started("a")
    assert s.due(1000) == ["b"]
    s.started("b")
    assert s.next_due() is None


def test_failures_back_off_capped_and_never_give_up() -> None:
    night = beijing("2026-06-16T02:00:00")
    s = Schedule.start(["x"], POLICY, now=0, epoch=night)
    delays = [s.finished("x", now=0, ok=False, new=0, rand=0.5, epoch=night) for _ in range(8)]
    assert delays == [60, 120, 240, 480, 900, 900, 900, 900]
    assert s.states["x"].due == 900  # still scheduled
    assert s.finished("x", now=1000, ok=True, new=0, rand=0.5, epoch=night) == 60  # recovered
    assert s.states["x"].failures == 0


def test_jitter_only_adds_so_the_floor_holds() -> None:
    s = Schedule.start(["x"], dataclasses.replace(POLICY, jitter=0.1), now=0)
    session = beijing("2026-06-16T10:00:00")
    low = s.finished("x", now=0, ok=True, new=5, rand=0.0, epoch=session)
    high = s.finished("x", now=10, ok=True, new=5, rand=0.999999, epoch=session)
    assert low == pytest.approx(5) and high == pytest.approx(5.5, abs=0.01)


def test_per_source_intervals_parse_and_bad_ones_are_config_errors() -> None:
    from finews.errors import ConfigError
    from finews.run.runner import schedule_policy

    s = load_settings(env={"FINEWS_RUN_SOURCE_INTERVALS": "cls.telegraph=10/30/300,feed.*=120"})
    policy = schedule_policy(s)
    assert policy.pace_of("cls.telegraph") == Pace(10, 30, 300)
    assert policy.pace_of("feed.abc") == Pace(120, 120, 120)
    assert policy.pace_of("ths.flash") == Pace(5, 15, 60)
    for bad in ("cls.telegraph", "cls.telegraph=fast", "=5", "x=5/0", "x=1/2/3/4", "x=nan"):
        with pytest.raises(ConfigError, match="source_intervals"):
            load_settings(env={"FINEWS_RUN_SOURCE_INTERVALS": bad})


# -- health ---------------------------------------------------------------------------------


def test_health_names_the_silent_failure() -> None:
    now = 1_000_000.0
    ok = {"last_attempt_at": now - 30, "last_success_at": now - 30, "newest_at": now - 300}
    assert assess("a", ok, now, 3600).state == "ok"
    quiet = {**ok, "newest_at": now - 5 * 3600}
    stale = assess("a", quiet, now, 3600)
    assert stale.state == "stale" and "nothing new for 5.0 h" in stale.reason
    # a long silence in days, not "4171.0 h" (wave 10's walk)
    months = assess("a", {**ok, "newest_at": now - 4171 * 3600}, now + 0, 3600)
    assert "nothing new for 174 days" in months.reason
    failing = {**ok, "consecutive_failures": 3, "last_error": "HTTP 503"}
    assert assess("a", failing, now, 3600).state == "failing"
    assert "HTTP 503" in assess("a", failing, now, 3600).reason
    assert assess("a", {}, now, 3600).state == "unknown"


# -- alerts: matching and formats -----------------------------------------------------------


def article(**kw: Any) -> Article:
    values: dict[str, Any] = {
        "source": "cls.telegraph",
        "upstream_id": "1",
        "title": "中国人民银行开展逆回购操作",
        "published": datetime(2026, 6, 16, 10, 0, tzinfo=BEIJING),
        "media": "财联社",
        "digest": "中国人民银行今日开展7天期逆回购操作。",
        "body_html": "<p>中国人民银行今日开展7天期逆回购操作。</p>",
    }
    values.update(kw)
    return Article(**values)


def test_watchlists_match_keywords_with_aliases_stocks_and_importance() -> None:
    w = alerts.Watchlist(keywords=("央行",), stocks=("600928",), important=True)
    assert w.reasons(article()) == ["关键词 央行"]  # the text says 中国人民银行
    tagged = article(
        title="西安银行公告", digest="", body_html="", stocks=(StockTag("600928.SH", "西安银行"),)
    )
    assert w.reasons(tagged) == ["股票 600928"]
    assert w.reasons(article(title="无关", digest="", body_html="", important=True)) == ["重要"]
    assert w.reasons(article(title="无关", digest="", body_html="")) == []


@pytest.mark.parametrize(
    ("spec", "url", "key"),
    [
        ("dingtalk:https://oapi.dingtalk.com/robot/send?access_token=t", "send?access", "text"),
        ("feishu:https://open.feishu.cn/open-apis/bot/v2/hook/x", "/hook/x", "content"),
        ("wecom:https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "send?key", "text"),
        (
            "telegram:https://api.telegram.org/botTOKEN/sendMessage?chat_id=42",
            "sendMessage",
            "text",
        ),
        ("generic:http://127.0.0.1:9/hook", "/hook", "title"),
    ],
)
def test_webhook_payloads(spec: str, url: str, key: str) -> None:
    hook = alerts.Webhook.parse(spec)
    target, body = alerts.payload(hook, article(), ["关键词 央行"], "https://x/a.html")
    assert url in target and key in body
    text = json.dumps(body, ensure_ascii=False)
    assert "中国人民银行开展逆回购操作" in text
    if hook.format == "telegram":
        assert body["chat_id"] == "42" and "?" not in target


def test_bad_webhook_specs_are_config_errors() -> None:
    from finews.errors import ConfigError

    for spec in ("slack:https://x", "dingtalk:ftp://x", "https://x"):
        with pytest.raises(ConfigError):
            alerts.Webhook.parse(spec)


# -- the runner against local upstreams and a local webhook receiver ------------------------


class Receiver:
    """A real HTTP server on 127.0.0.1 that records what webhooks post, and can refuse."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.received: list[dict[str, Any]] = []
        self.refuse = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.refuse > 0:
                    receiver.refuse -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.received.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"errcode": 0}')

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def settings_for(tmp_path: Path, upstreams: Upstreams, base: str, **alert_kw: Any) -> Any:
    s = load_settings(env={})
    return dataclasses.replace(
        s,
        db=f"sqlite:///{tmp_path / 'run.db'}",
        data_dir=str(tmp_path),
        upstream_override=upstreams.override(base),
        sources=dataclasses.replace(
            s.sources, enabled=("cls.telegraph", "ths.flash", "eastmoney.fast")
        ),
        eastmoney=dataclasses.replace(s.eastmoney, fulltext=False),
        http=dataclasses.replace(s.http, host_spacing=0.0, retries=0, backoff=0.01, timeout=2),
        site=dataclasses.replace(s.site, out=str(tmp_path / "site")),
        run=dataclasses.replace(
            s.run,
            interval=0.3,
            min_interval=0.2,
            max_interval=0.5,
            busy_interval=0.2,
            day_interval=0.3,
            night_interval=0.5,
            max_backoff=0.6,
            build_delay=0.1,
            serve=False,
        ),
        alerts=dataclasses.replace(s.alerts, **alert_kw),
    )


class Running:
    """A Runner on its own event loop in a thread, stopped like a signal would."""

    def __init__(self, settings: Any) -> None:
        self.runner = Runner(settings)
        self.loop = asyncio.new_event_loop()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.loop.run_until_complete(self.runner.main())
        except BaseException as exc:  # reported by stop()
            self.error = exc

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.runner.stop)
        self.thread.join(30)
        assert not self.thread.is_alive(), "the runner did not stop"
        self.loop.close()
        assert self.error is None, self.error


def wait_for(condition: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def count(db: Path, sql: str, *args: Any) -> int:
    if not db.exists():
        return 0
    con = sqlite3.connect(db)
    try:
        row = con.execute(sql, args).fetchone()
        return int(row[0] or 0) if row else 0
    except sqlite3.OperationalError:  # not created yet, or briefly locked
        return 0
    finally:
        con.close()


WATERMARK_SET = "SELECT count(*) FROM alert_state WHERE name = 'matched_up_to'"
"""The alerter has looked at the store once (alert_state also holds where each source's back
catalogue ends: finews.store.backlog)."""


def test_a_failing_source_recovers_and_the_others_are_never_held_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="finews.run")
    upstreams = Upstreams(initial=30, interval=0)
    base = upstreams.start()
    upstreams.fail("/v1/roll/get_roll_list", *([503] * 6))  # 财联社 down for a while
    db = tmp_path / "run.db"
    running = Running(settings_for(tmp_path, upstreams, base))
    try:
        # the others arrive at once, while 财联社 is failing
        wait_for(lambda: count(db, "SELECT count(*) FROM articles WHERE source='ths.flash'") == 30)
        wait_for(
            lambda: count(db, "SELECT count(*) FROM articles WHERE source='eastmoney.fast'") == 30
        )
        wait_for(
            lambda: (
                count(
                    db,
                    "SELECT consecutive_failures FROM source_status WHERE source='cls.telegraph'",
                )
                >= 2
            )
        )
        # back: every item it serves arrives, once
        wait_for(
            lambda: count(db, "SELECT count(*) FROM articles WHERE source='cls.telegraph'") == 30
        )
        upstreams.initial = 35  # five more per source are published upstream
        wait_for(lambda: count(db, "SELECT count(*) FROM articles") == 105)
        wait_for(lambda: (tmp_path / "site" / "index.html").exists())
        # down again, and back with nothing new: the recovery is said all the same
        upstreams.fail("/v1/roll/get_roll_list", 503, 503)
        failed = "SELECT consecutive_failures FROM source_status WHERE source='cls.telegraph'"
        wait_for(lambda: count(db, failed) >= 1)
        wait_for(lambda: count(db, failed) == 0)
    finally:
        running.stop()
        upstreams.stop()
    assert (
        count(db, "SELECT count(*) FROM (SELECT DISTINCT source, upstream_id FROM articles)") == 105
    )
    assert (
        count(db, "SELECT consecutive_failures FROM source_status WHERE source='cls.telegraph'")
        == 0
    )
    newest = max(int(i["ctime"]) for i in bundled("cls")[-35:])
    assert (
        count(db, "SELECT max(published_at) FROM articles WHERE source='cls.telegraph'") == newest
    )
    # the log: news, a recovery and failures are said; a poll that found nothing is a
    # debug line (-v), not one of an info line per source every few seconds
    polls = [
        r for r in caplog.records if r.name == "finews.run" and "next poll in" in r.getMessage()
    ]
    said = [r for r in polls if r.levelno == logging.INFO]
    assert all(r.levelno in (logging.INFO, logging.DEBUG) for r in polls)
    assert [r for r in polls if r.levelno == logging.DEBUG], "no quiet poll in the run"
    assert all(": 0 new, 0 updated" in r.getMessage() for r in polls if r not in said)
    recovered = [r for r in said if ": 0 new, 0 updated" in r.getMessage()]
    assert [r.getMessage().split(":")[0] for r in recovered] == ["cls.telegraph"]


def test_alerts_go_out_once_across_restarts_and_survive_a_failing_webhook(
    tmp_path: Path, receiver: Receiver
) -> None:
    upstreams = Upstreams(initial=10, interval=0)
    base = upstreams.start()
    items = bundled("cls")
    keyword = "美联储"
    settings = settings_for(
        tmp_path,
        upstreams,
        base,
        keywords=(keyword,),
        webhooks=(f"generic:{receiver.url}",),
        retries=5,
    )
    db = tmp_path / "run.db"
    running = Running(settings)
    try:
        wait_for(lambda: count(db, "SELECT count(*) FROM articles") == 30)
        wait_for(lambda: count(db, WATERMARK_SET) == 1)
        assert receiver.received == []  # the back catalogue at first start is not alerted
        receiver.refuse = 2  # the webhook fails twice, then takes them
        upstreams.initial = 200  # everything else is published
    finally:
        pass
    expected = {
        str(i["id"])
        for i in items[: len(items) - 10]
        if keyword in i["content"] or keyword in (i.get("title") or "")
    }
    assert expected, "the bundled flashes mention the keyword"
    try:
        sent_rows = "SELECT count(*) FROM alert_deliveries WHERE status = 'sent'"
        pending = "SELECT count(*) FROM alert_deliveries WHERE status = 'pending'"
        wait_for(lambda: count(db, sent_rows) >= len(expected) and count(db, pending) == 0, 40)
    finally:
        running.stop()
    sent = [(r["source"], r["id"]) for r in receiver.received]
    assert len(sent) == len(set(sent))  # once each
    # once per story (issue #10): each expected flash's story was alerted, by it or by
    # another outlet's report of the same story, and no story twice
    with sqlite3.connect(db) as conn:
        story_of = {
            (s, u): c
            for s, u, c in conn.execute("SELECT source, upstream_id, cluster_id FROM articles")
        }
    alerted = [story_of[key] for key in sent]
    assert {story_of[("cls.telegraph", i)] for i in expected} <= set(alerted)
    assert len(alerted) == len(set(alerted))
    before = len(receiver.received)
    # a restart re-sends nothing
    running = Running(settings)
    time.sleep(2)
    running.stop()
    upstreams.stop()
    assert len(receiver.received) == before
    assert count(db, "SELECT count(*) FROM alert_deliveries WHERE status != 'sent'") == 0


def test_sigterm_stops_finews_run_cleanly_under_load(tmp_path: Path) -> None:
    upstreams = Upstreams(initial=0, interval=0.02)  # a new item every 20 ms
    base = upstreams.start()
    db = tmp_path / "run.db"
    env = {
        **os.environ,
        "FINEWS_DB": str(db),
        "FINEWS_DATA_DIR": str(tmp_path),
        **upstreams.env(base),
        "FINEWS_RUN_INTERVAL": "0.3",
        "FINEWS_RUN_MIN_INTERVAL": "0.1",
        "FINEWS_RUN_BUILD_DELAY": "0.1",
        "FINEWS_RUN_SERVE": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "finews", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: db.exists() and count(db, "SELECT count(*) FROM articles") > 60, 30)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        upstreams.stop()
    assert process.returncode == 0, stderr
    assert "stopped:" in stderr and "Traceback" not in stderr
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    dupes = con.execute(
        "SELECT count(*) FROM (SELECT source, upstream_id FROM articles "
        "GROUP BY 1, 2 HAVING count(*) > 1)"
    ).fetchone()[0]
    stored = con.execute("SELECT count(*) FROM articles").fetchone()[0]
    fts = con.execute("SELECT count(*) FROM article_fts").fetchone()[0]
    con.close()
    assert dupes == 0 and stored == fts
    # the site was published whole: every article page the listings link to exists
    site = tmp_path / "site"
    for page in (site / "index.html", *site.glob("c/*/index.html")):
        for href in _links(page.read_text(encoding="utf-8")):
            assert (page.parent / href).resolve().exists(), (page, href)


def _links(html: str) -> list[str]:
    import re

    return [h for h in re.findall(r'href="([^"#?]+)"', html) if not h.startswith(("http", "/"))]


def test_sources_command_reports_health(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    from finews.store import Store, freshness

    with Store.open(f"sqlite:///{db}") as store:
        store.record_poll("cls.telegraph", ok=False, error="get_roll_list: signature rejected")
        store.record_poll("ths.flash", ok=True, new=0)
        # #17: the pace the runner set, and the lag upstream time -> stored of the last hour
        freshness.record_schedule(store, "sina.zhibo", interval=5.0, phase="busy")
        now = int(time.time())
        for n, lag in enumerate([2, 3, 4, 60]):
            published = datetime.fromtimestamp(now - 600 + n, BEIJING)
            store.save(
                [article(source="sina.zhibo", upstream_id=f"lag-{n}", published=published)],
                now=published.timestamp() + lag,
            )
        old = datetime.fromtimestamp(now - 7200, BEIJING)  # out of the hour's window
        store.save([article(source="sina.zhibo", upstream_id="old", published=old)], now=now)
    result = run_cli("--db", str(db), "sources", "--json")
    assert result.returncode == 0, result.stderr
    health = {h["source"]: h for h in json.loads(result.stdout)}
    assert (health["sina.zhibo"]["interval"], health["sina.zhibo"]["phase"]) == (5.0, "busy")
    assert health["sina.zhibo"]["lag_last_hour"] == {"items": 4, "p50": 4, "p95": 60, "max": 60}
    assert health["cls.telegraph"]["interval"] is None
    assert health["cls.telegraph"]["lag_last_hour"] is None
    assert health["cls.telegraph"]["health"] == "failing"
    assert "signature" in health["cls.telegraph"]["reason"]
    assert health["ths.flash"]["health"] == "stale"  # answers, but nothing stored from it
    assert health["wscn.live"]["health"] == "unknown"
    table = run_cli("--db", str(db), "sources")
    assert table.returncode == 0 and "failing" in table.stdout
    assert "5 s (busy)" in table.stdout


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    from finews.store import Store

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = str(taken.getsockname()[1])
        env = {"FINEWS_DATA_DIR": str(tmp_path), "FINEWS_SOURCES_ENABLED": "ths.flash"}
        # serve only reads: it needs a database (run refuses the port before creating one)
        Store.open(f"sqlite:///{tmp_path / 'p.db'}").close()
        for command in (["run", "--port", port], ["serve", "--port", port]):
            result = run_cli("--db", str(tmp_path / "p.db"), *command, env=env, timeout=60)
            assert result.returncode == 1, (command, result.stderr)
            assert "cannot serve on 127.0.0.1" in result.stderr
            assert "Traceback" not in result.stderr


# -- freshness (#17): show first, complete later; spacing under the busy pace ---------------


def test_a_list_item_is_shown_at_once_and_completed_in_place_with_one_alert(
    tmp_path: Path, upstream: Any, httpserver: Any, receiver: Receiver
) -> None:
    """The list's text is stored and pushed before the full text is fetched; the full
    text arrives later as an update of the same row (no revision for a completion, the
    page updated in place), and the article is alerted once — on its full text: the
    watched word is in the body only."""
    from standin import HOSTS as EASTMONEY_HOSTS
    from webserver import serving

    base = httpserver.url_for("").rstrip("/")
    upstream.fast = upstream.fast[:5]
    s = load_settings(env={})
    keyword = "稍后到达的全文"
    settings = dataclasses.replace(
        s,
        db=f"sqlite:///{tmp_path / 'run.db'}",
        data_dir=str(tmp_path),
        upstream_override=dict.fromkeys(EASTMONEY_HOSTS, base),
        sources=dataclasses.replace(s.sources, enabled=("eastmoney.fast",), feeds=False),
        http=dataclasses.replace(s.http, host_spacing=0.0, retries=0, backoff=0.01, timeout=8),
        run=dataclasses.replace(
            s.run,
            interval=0.3,
            min_interval=0.2,
            busy_interval=0.2,
            pace="busy",
            serve=False,
            build=False,
        ),
        alerts=dataclasses.replace(
            s.alerts, keywords=(keyword,), webhooks=(f"generic:{receiver.url}",)
        ),
    )
    db = tmp_path / "run.db"
    site = tmp_path / "site"
    site.mkdir()
    running = Running(settings)
    events: list[tuple[float, str, dict[str, Any]]] = []
    try:
        wait_for(lambda: count(db, "SELECT count(*) FROM articles WHERE body_complete") == 5)
        wait_for(lambda: count(db, WATERMARK_SET) == 1)
        with (
            serving(settings.db_url, site, poll_interval=60.0) as web,
            httpx.stream("GET", web + "api/stream", timeout=30) as response,
        ):
            reader = threading.Thread(
                target=collect_events, args=(response, events), daemon=True, name="sse"
            )
            reader.start()
            time.sleep(0.3)
            item = upstream.next_fast_item(
                "9", "先看快讯：列表的标题", f"<p>　　{keyword}：全文在列表之后三秒才到。</p>"
            )
            code = item["code"]
            upstream.fault("/kuaixun/v2/api/article/", "slow:3")  # the full text is slow
            released = time.monotonic()
            upstream.fast.insert(0, item)
            wait_for(lambda: len([e for e in events if e[2].get("upstream_id") == code]) >= 2)
            wait_for(lambda: len(receiver.received) >= 1)
            time.sleep(1.5)  # a second alert would have come by now
    finally:
        running.stop()
    mine = [(at, kind, e) for at, kind, e in events if e["upstream_id"] == code]
    (shown_at, kind1, shown), (completed_at, kind2, completed) = mine[:2]
    assert (kind1, shown["complete"]) == ("article", False)
    assert (kind2, completed["complete"]) == ("update", True) and completed["id"] == shown["id"]
    assert shown_at - released < 2.5  # shown before the 3 s full text came back
    assert completed_at - shown_at > 2.0
    assert len(mine) == 2
    assert [(r["source"], r["id"]) for r in receiver.received] == [("eastmoney.fast", code)]
    assert count(db, "SELECT count(*) FROM articles WHERE upstream_id = ?", code) == 1
    assert count(db, "SELECT revision FROM articles WHERE upstream_id = ?", code) == 1
    assert count(db, "SELECT body_complete FROM articles WHERE upstream_id = ?", code) == 1
    assert count(db, "SELECT count(*) FROM article_revisions") == 0


def collect_events(response: Any, events: list[tuple[float, str, dict[str, Any]]]) -> None:
    """Append each event of a server-sent stream as (when it arrived, its kind, its JSON
    data) until the stream closes (test_distributed reads its stream with it too)."""
    buffer = ""
    try:
        for chunk in response.iter_text():
            buffer += chunk
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                lines = block.splitlines()
                data = [line[6:] for line in lines if line.startswith("data: ")]
                kind = next((line[7:] for line in lines if line.startswith("event: ")), "")
                if data:
                    events.append((time.monotonic(), kind, json.loads("".join(data))))
    except Exception:  # the stream closed under the reader: the test is over
        return


def test_host_spacing_holds_under_the_busy_schedule(tmp_path: Path) -> None:
    """The busy pace asks for a poll every 50 ms; each site still gets one request per
    ``http.host_spacing`` (0.3 s) at most, counted from when a request goes."""
    upstreams = Upstreams(initial=5, interval=0)
    base = upstreams.start()
    s = settings_for(tmp_path, upstreams, base)
    settings = dataclasses.replace(
        s,
        http=dataclasses.replace(s.http, host_spacing=0.3),
        run=dataclasses.replace(
            s.run, min_interval=0.05, busy_interval=0.05, pace="busy", build=False
        ),
    )
    running = Running(settings)
    try:
        time.sleep(3.5)
    finally:
        running.stop()
        upstreams.stop()
    sites = {
        "/v1/roll/get_roll_list": "cls.cn",
        "/tapp/news/push/stock/": "10jqka.com.cn",
        "/comm/web/getFastNewsList": "eastmoney.com",
    }
    for path, site in sites.items():
        times = [at for at, p in upstreams.arrivals if p == path]
        assert len(times) >= 6, f"{site}: the schedule pressed for more than the spacing allows"
        # measured where they arrive, on a loaded machine: one arrival late by a thread's
        # scheduling makes the next gap look short, so requests are checked in threes —
        # any three in a row span two spacings (less 0.1 s of that noise).  The first
        # request is left out of the threes: it opens the connection, and on a loaded CI
        # machine its arrival lagged its sending by 0.17 s (a first span of 0.427 s, every
        # later one 0.600 s) — the spacing counts from the sending, as it should
        spans = [c - a for a, _, c in zip(times[1:], times[2:], times[3:], strict=False)]
        assert min(spans) >= 0.5, f"{site}: three requests within {min(spans):.3f} s"
        assert (times[-1] - times[0]) / (len(times) - 1) >= 0.29


def test_a_build_in_flight_is_finished_not_abandoned_at_shutdown(tmp_path: Path) -> None:
    """Shutdown cancels the builder; a build it had started went on in its thread while
    the final build wrote the same folder (wave 13: once, under load, the home page linked a
    story page that was not there).  A cancelled builder leaves its build running to the
    end, and shutdown waits for it before building again.  The real articles of the site
    tests, a real first build (about a second) on this machine's disk."""
    from finews.store import Store
    from sitedata import populate

    settings = dataclasses.replace(
        load_settings(env={}),
        db=f"sqlite:///{tmp_path / 'run.db'}",
        data_dir=str(tmp_path),
        site=dataclasses.replace(load_settings(env={}).site, out=str(tmp_path / "site")),
    )
    with Store.open(settings.db_url) as store:
        populate(store)

    async def scenario() -> tuple[bool, int, int]:
        runner = Runner(settings)
        runner.store = Store.open(settings.db_url)
        try:
            builder = asyncio.create_task(runner._build())
            while not (tmp_path / "site").exists() and not any(tmp_path.glob(".site*")):
                await asyncio.sleep(0.01)  # the build's thread has begun writing
            builder.cancel()
            await asyncio.gather(builder, return_exceptions=True)
            going_on = runner._building is not None and not runner._building.done()
            before = runner.stats.builds
            await runner._build_finished()
            return going_on, before, runner.stats.builds
        finally:
            runner.store.close()

    going_on, before, after = asyncio.run(scenario())
    assert going_on and before == 0 and after == 1
    assert (tmp_path / "site" / "index.html").exists()
