"""``finews run`` (issue #7): the schedule with a fake clock, source health, alerts to a
real local receiver, a failing source that recovers, restart and clean shutdown."""

from __future__ import annotations

import asyncio
import dataclasses
import json
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

import pytest

from conftest import run_cli
from finews.config import load_settings
from finews.demo.upstreams import Upstreams, bundled
from finews.model import BEIJING, Article, StockTag
from finews.run import alerts
from finews.run.health import assess
from finews.run.runner import Runner
from finews.run.schedule import Policy, Schedule

# -- the schedule, with a fake clock -------------------------------------------------------

POLICY = Policy(base=60, minimum=15, maximum=600, max_backoff=900, jitter=0.0)


def test_every_source_is_due_at_start_and_not_twice_while_running() -> None:
    s = Schedule.start(["a", "b"], POLICY, now=1000)
    assert s.due(1000) == ["a", "b"]
    s.started("a")
    assert s.due(1000) == ["b"]
    s.started("b")
    assert s.next_due() is None


def test_busy_sources_speed_up_and_quiet_ones_slow_down() -> None:
    s = Schedule.start(["busy", "quiet"], POLICY, now=0)
    busy = [s.finished("busy", now=0, ok=True, new=5, rand=0.5) for _ in range(4)]
    assert busy == [30, 15, 15, 15]  # halved down to the minimum
    quiet = [s.finished("quiet", now=0, ok=True, new=0, rand=0.5) for _ in range(8)]
    assert quiet[:3] == [90, 135, 202.5] and quiet[-1] == 600  # stretched up to the maximum
    s.finished("quiet", now=100, ok=True, new=1, rand=0.5)
    assert s.states["quiet"].interval == 300  # news again: faster at once
    assert s.due(100 + 299) == ["busy"] and "quiet" in s.due(100 + 300)


def test_failures_back_off_capped_and_never_give_up() -> None:
    s = Schedule.start(["x"], POLICY, now=0)
    delays = [s.finished("x", now=0, ok=False, new=0, rand=0.5) for _ in range(8)]
    assert delays == [60, 120, 240, 480, 900, 900, 900, 900]
    assert s.states["x"].due == 900  # still scheduled
    assert s.finished("x", now=1000, ok=True, new=0, rand=0.5) == 90  # recovered: normal again
    assert s.states["x"].failures == 0


def test_jitter_spreads_delays_within_its_fraction() -> None:
    s = Schedule.start(["x"], dataclasses.replace(POLICY, jitter=0.1), now=0)
    low = s.finished("x", now=0, ok=False, new=0, rand=0.0)
    s.states["x"].failures = 0
    high = s.finished("x", now=0, ok=False, new=0, rand=0.999999)
    assert low == pytest.approx(54) and high == pytest.approx(66, abs=0.01)


# -- health ---------------------------------------------------------------------------------


def test_health_names_the_silent_failure() -> None:
    now = 1_000_000.0
    ok = {"last_attempt_at": now - 30, "last_success_at": now - 30, "newest_at": now - 300}
    assert assess("a", ok, now, 3600).state == "ok"
    quiet = {**ok, "newest_at": now - 5 * 3600}
    stale = assess("a", quiet, now, 3600)
    assert stale.state == "stale" and "nothing new for 5.0 h" in stale.reason
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


def test_a_failing_source_recovers_and_the_others_are_never_held_up(tmp_path: Path) -> None:
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
        wait_for(lambda: count(db, "SELECT count(*) FROM alert_state") == 1)
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
    from finews.store import Store

    with Store.open(f"sqlite:///{db}") as store:
        store.record_poll("cls.telegraph", ok=False, error="get_roll_list: signature rejected")
        store.record_poll("ths.flash", ok=True, new=0)
    result = run_cli("--db", str(db), "sources", "--json")
    assert result.returncode == 0, result.stderr
    health = {h["source"]: h for h in json.loads(result.stdout)}
    assert health["cls.telegraph"]["health"] == "failing"
    assert "signature" in health["cls.telegraph"]["reason"]
    assert health["ths.flash"]["health"] == "stale"  # answers, but nothing stored from it
    assert health["wscn.live"]["health"] == "unknown"
    table = run_cli("--db", str(db), "sources")
    assert table.returncode == 0 and "failing" in table.stdout


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
