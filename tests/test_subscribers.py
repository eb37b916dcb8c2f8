"""Subscribers (issue #14): two subscribers with overlapping watchlists, real flashes of one
day (tests/daydata.py) arriving in two batches, a real store on disk and a real webhook
receiver on 127.0.0.1 (pytest-httpserver).  Each gets what is theirs once, quiet hours hold,
the cap batches the excess into one digest, a restart repeats nothing, the briefings go out
once at their time; `finews subscribers test` replays the same rules."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import run_cli
from daydata import day_articles
from finews.config import load_settings
from finews.model import Article
from finews.run.subscribers import Subscriber, Subscriptions, pace, simulate
from finews.store import Store
from finews.store import subscriptions as state


def at(clock: str) -> float:
    return datetime.fromisoformat(f"2026-06-16T{clock}:00+08:00").timestamp()


def config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[subscribers.alice]
keywords = ["统计局", "央行"]
stocks = ["600366"]
webhooks = ["generic:{url}alice"]
quiet_hours = "07:00-07:40"
briefings = ["close"]

[subscribers.bob]
keywords = ["统计局", "芯片", "半导体", "算力"]
webhooks = ["generic:{url}bob", "dingtalk:{url}bob-ding"]
max_per_hour = 3
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def receiver(httpserver: Any) -> Any:
    for path in ("/alice", "/bob"):
        httpserver.expect_request(path, method="POST").respond_with_json({"ok": True})
    httpserver.expect_request("/bob-ding", method="POST").respond_with_json({"errcode": 0})
    return httpserver


def received(server: Any) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for request, _ in server.log:
        found[request.path.strip("/")].append(json.loads(request.get_data(as_text=True)))
    return found


def deliver(subs: Subscriptions, now: float) -> int:
    async def go() -> int:
        async with httpx.AsyncClient(timeout=10) as client:
            return await subs.deliver(client, lambda: now)

    return asyncio.run(go())


def story_of(store: Store) -> dict[tuple[str, str], int]:
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT source, upstream_id, cluster_id FROM articles")
        return {(s, u): int(c) for s, u, c in rows}


def stories_in(body: dict[str, Any], stories: dict[tuple[str, str], int]) -> list[int]:
    """The stories a generic push carries (an item: one; a digest: several)."""
    items = body["items"] if body["kind"] == "digest" else [body]
    return [stories[(i["source"], i["id"])] for i in items]


def test_two_subscribers_each_get_theirs_once(tmp_path: Path, db_url: str, receiver: Any) -> None:
    settings = load_settings(config(tmp_path, receiver.url_for("/")), env={})
    articles = day_articles()
    morning = [a for a in articles if a.published.timestamp() < at("08:00")]
    trading = [a for a in articles if a.published.timestamp() >= at("08:00")]
    store = Store.open(db_url)
    subs = Subscriptions(store, settings)
    assert subs.match(at("07:00")) == 0  # watermarks start here: no back catalogue

    store.save(morning)
    subs.match(at("07:35"))
    subs.dispatch(at("07:35"))  # alice: quiet until 07:40; bob: his cap of 3
    deliver(subs, at("07:35"))
    got = received(receiver)
    assert "alice" not in got
    assert len(got["bob"]) == 3 and len(got["bob-ding"]) == 3
    assert all(m["msgtype"] == "text" for m in got["bob-ding"])

    subs.dispatch(at("07:45"))  # alice's quiet hours are over; bob's hour is full
    deliver(subs, at("07:45"))
    got = received(receiver)
    assert got["alice"] and len(got["bob"]) == 3

    subs.briefings(at("08:00") + 30)  # the morning briefing: bob's, not alice's
    deliver(subs, at("08:01"))
    store.save(trading)
    subs.match(at("09:46"))
    for clock in ("09:46", "10:40", "11:50"):
        subs.dispatch(at(clock))
        deliver(subs, at(clock))
    subs.briefings(at("15:30") + 60)
    subs.briefings(at("15:30") + 120)  # again: nothing new
    deliver(subs, at("15:32"))

    # a restart on the same database, the same articles stored again: nothing repeats
    store.close()
    store = Store.open(db_url)
    again = Subscriptions(store, settings)
    store.save(articles)
    assert again.match(at("16:00")) == 0
    assert again.dispatch(at("16:00")) == 0
    assert again.briefings(at("15:30") + 600) == 0
    deliver(again, at("16:01"))

    got = received(receiver)
    stories = story_of(store)
    for name in ("alice", "bob"):
        sub = Subscriber.from_settings(name, settings.subscribers[name])
        theirs = {stories[a.key] for a in articles if sub.reasons(a)}
        pushes = [m for m in got[name] if m["kind"] in {"item", "digest"}]
        carried = [s for m in pushes for s in stories_in(m, stories)]
        assert sorted(carried) == sorted(theirs), name  # each of theirs, once
        assert all(m["subscriber"] == name for m in got[name])
    # the overlap went to both; bob's dingtalk got every push his generic hook got
    both = {stories[a.key] for a in articles if "统计局" in a.title}
    assert both and len(got["bob-ding"]) == len(got["bob"])
    # bob's cap: never more than 3 pushes in an hour, the excess in digests
    made = _pushes(store, "bob")
    for t, _ in made:
        assert sum(1 for u, _ in made if t <= u < t + 3600) <= 3
    assert any(kind == "digest" for _, kind in made)
    digest = next(m for m in got["bob"] if m["kind"] == "digest")
    assert len(digest["items"]) >= 2
    # briefings: once each, to who asked for them
    assert [m["session"] for m in got["bob"] if m["kind"] == "briefing"] == ["morning", "close"]
    assert [m["session"] for m in got["alice"] if m["kind"] == "briefing"] == ["close"]
    close = next(m for m in got["alice"] if m["kind"] == "briefing")
    assert close["markdown"].startswith("# 金融消息 2026-06-16（周二）收盘")
    sends = state.due(store, now=at("23:00"))
    assert sends == []  # everything was delivered
    store.close()


def _pushes(store: Store, name: str) -> list[tuple[int, str]]:
    with store.engine.connect() as conn:
        return [
            (int(t), k)
            for t, k in conn.exec_driver_sql(
                "SELECT created_at, kind FROM subscriber_pushes WHERE subscriber = ? "
                "AND kind IN ('item', 'digest') ORDER BY created_at",
                (name,),
            )
        ]


def test_a_failing_webhook_is_retried_and_delays_only_itself(
    tmp_path: Path, db_url: str, httpserver: Any
) -> None:
    httpserver.expect_request("/alice", method="POST").respond_with_json({"ok": True})
    httpserver.expect_request("/bob", method="POST").respond_with_data("down", status=503)
    httpserver.expect_request("/bob-ding", method="POST").respond_with_json({"errcode": 0})
    settings = load_settings(config(tmp_path, httpserver.url_for("/")), env={})
    store = Store.open(db_url)
    subs = Subscriptions(store, settings)
    subs.match(at("07:00"))
    store.save(day_articles())
    subs.match(at("10:00"))
    subs.dispatch(at("10:00"))
    deliver(subs, at("10:00"))
    got = received(httpserver)
    assert got["alice"] and got["bob-ding"] and len(got["bob"]) == len(got["bob-ding"])
    retry = state.due(store, now=at("10:00") + 3600)
    assert retry and {s.webhook for s in retry} == {f"generic:{httpserver.url_for('/')}bob"}
    store.close()


def test_sends_to_a_webhook_taken_out_of_the_settings_are_counted_and_said(
    tmp_path: Path, db_url: str, receiver: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Pushes queued for a webhook the user then removed are given up, not left pending for
    ever: counted among the run's failed sends and said in one log line per webhook (wave
    10's review: they were given up silently, and the run's summary left them out)."""
    url = receiver.url_for("/")
    store = Store.open(db_url)
    before = Subscriptions(store, load_settings(config(tmp_path, url), env={}))
    before.match(at("07:00"))
    store.save(day_articles())
    before.match(at("10:00"))
    before.dispatch(at("10:00"))  # queued, not sent: the run stopped here
    queued = state.due(store, now=at("10:00"))
    gone = [s for s in queued if s.webhook == f"dingtalk:{url}bob-ding"]
    assert gone and len(gone) < len(queued)
    edited = config(tmp_path, url)
    edited.write_text(
        edited.read_text(encoding="utf-8").replace(f', "dingtalk:{url}bob-ding"', ""),
        encoding="utf-8",
    )
    after = Subscriptions(store, load_settings(edited, env={}))
    with caplog.at_level("WARNING", logger="finews.subscribers"):
        sent = deliver(after, at("10:00"))
    assert after.failed == len(gone) and sent == len(queued) - len(gone)
    assert "bob-ding" not in received(receiver)
    said = [r.getMessage() for r in caplog.records if "no longer in the settings" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith(f"{len(gone)} push(es) for dingtalk "), said
    assert state.due(store, now=at("10:00") + 86400) == []  # nothing left to retry
    store.close()


def test_pace() -> None:
    assert pace(5, 0, 0) == (5, False)  # no cap
    assert pace(2, 0, 3) == (2, False)
    assert pace(5, 0, 3) == (2, True)  # two alone, the rest as the hour's third push
    assert pace(5, 2, 3) == (0, True)
    assert pace(5, 3, 3) == (0, False)  # the hour is full: they wait, never dropped
    assert pace(0, 0, 3) == (0, False)


def test_quiet_hours_cross_midnight(tmp_path: Path) -> None:
    settings = load_settings(config(tmp_path, "http://127.0.0.1:9/"), env={})
    sub = Subscriber.from_settings("alice", settings.subscribers["alice"])
    night = Subscriber(sub.name, sub.watchlist, sub.webhooks, quiet=(22 * 60, 7 * 60))
    assert night.is_quiet(at("23:30")) and night.is_quiet(at("06:59"))
    assert not night.is_quiet(at("07:00")) and not night.is_quiet(at("21:59"))


def test_the_replay_of_a_day_with_and_without_the_cap(tmp_path: Path) -> None:
    settings = load_settings(config(tmp_path, "http://127.0.0.1:9/"), env={})
    arrivals: list[tuple[Article, int]] = [(a, i) for i, a in enumerate(day_articles())]
    bob = Subscriber.from_settings("bob", settings.subscribers["bob"])
    free = Subscriber(bob.name, bob.watchlist, bob.webhooks, briefings=bob.briefings)
    capped = simulate(bob, arrivals, at("00:00"), at("23:59"))
    uncapped = simulate(free, arrivals, at("00:00"), at("23:59"))
    stories = sum(len(p.items) for p in uncapped)
    assert sum(len(p.items) for p in capped) == stories  # the cap drops nothing
    assert len([p for p in uncapped if p.kind == "item"]) == stories
    assert len(capped) < len(uncapped) and any(p.kind == "digest" for p in capped)
    assert [p.kind for p in capped if p.kind == "briefing"] == ["briefing", "briefing"]


def test_the_command_line_replays_the_last_day(tmp_path: Path, db_url: str, receiver: Any) -> None:
    cfg = config(tmp_path, receiver.url_for("/"))
    store = Store.open(db_url)
    store.save(day_articles())
    store.close()
    db = db_url.removeprefix("sqlite:///")
    args = ["--db", db, "--config", str(cfg), "subscribers", "test"]
    done = run_cli(*args, "bob", "--since", "2026-06-16 00:00", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["subscriber"] == "bob" and report["by_kind"]["digest"] >= 1
    assert report["stories"] == sum(len(p["items"]) for p in report["sent"])
    assert not receiver.log  # a replay sends nothing
    text = run_cli(*args, "alice", "--since", "2026-06-16 00:00")
    assert text.returncode == 0 and "alice:" in text.stderr and "简报" in text.stdout
    missing = run_cli(*args, "carol")
    assert missing.returncode == 2
    assert missing.stderr.strip() == (
        "error: no subscriber 'carol' in the settings (subscribers: alice, bob)"
    )


def test_finews_run_pushes_to_subscribers_once_across_restarts(tmp_path: Path) -> None:
    """The subscribers inside `finews run`, against local upstreams serving real flashes."""
    import dataclasses
    import sqlite3
    import time

    from finews.config import SubscriberSettings
    from finews.demo.upstreams import Upstreams, bundled
    from test_run import Receiver, Running, count, settings_for, wait_for

    receiver = Receiver()
    upstreams = Upstreams(initial=10, interval=0)
    base = upstreams.start()
    keyword = "美联储"
    carol = SubscriberSettings(
        keywords=(keyword,), webhooks=(f"generic:{receiver.url}",), briefings=()
    )
    settings = dataclasses.replace(
        settings_for(tmp_path, upstreams, base), subscribers={"carol": carol}
    )
    db = tmp_path / "run.db"
    running = Running(settings)
    try:
        wait_for(lambda: count(db, "SELECT count(*) FROM articles") == 30)
        wait_for(lambda: count(db, "SELECT count(*) FROM subscriber_state") == 1)
        assert receiver.received == []  # the back catalogue at first start is not pushed
        upstreams.initial = 200
        expected = {
            str(i["id"])
            for i in bundled("cls")[: len(bundled("cls")) - 10]
            if keyword in i["content"] or keyword in (i.get("title") or "")
        }
        assert expected
        sent = "SELECT count(*) FROM subscriber_sends WHERE status = 'sent'"
        pending = "SELECT count(*) FROM subscriber_sends WHERE status = 'pending'"
        marks = ",".join("?" * len(expected))
        stored = f"SELECT count(*) FROM articles WHERE upstream_id IN ({marks})"
        wait_for(
            lambda: (
                count(db, stored, *sorted(expected)) == len(expected)
                and count(db, sent) >= 1
                and count(db, pending) == 0
            ),
            60,
        )
        time.sleep(1.5)
        wait_for(lambda: count(db, pending) == 0, 20)
    finally:
        running.stop()
    with sqlite3.connect(db) as conn:
        story_of = {
            (s, u): c
            for s, u, c in conn.execute("SELECT source, upstream_id, cluster_id FROM articles")
        }
    pushed = [story_of[(m["source"], m["id"])] for m in receiver.received]
    assert all(m["subscriber"] == "carol" and m["kind"] == "item" for m in receiver.received)
    assert len(pushed) == len(set(pushed))  # once per story
    assert {story_of[("cls.telegraph", i)] for i in expected} <= set(pushed)
    before = len(receiver.received)
    running = Running(settings)
    time.sleep(2)
    running.stop()
    upstreams.stop()
    receiver.close()
    assert len(receiver.received) == before  # a restart repeats nothing


@pytest.mark.parametrize(
    ("toml", "said"),
    [
        ('[subscribers.a]\nwebhooks = ["generic:http://x.org/h"]\nquiet_hours = "22:00"\n',
         "subscribers.a.quiet_hours '22:00' is not HH:MM-HH:MM"),
        ('[subscribers.a]\nkeywords = ["央行"]\n', "subscribers.a: no webhooks"),
        ('[subscribers.a]\nwebhooks = ["generic:http://x.org/h"]\nkeyword = ["x"]\n',
         "unknown setting(s) subscribers.a.keyword"),
        ('[subscribers.a]\nwebhooks = ["generic:http://x.org/h"]\nmax_per_hour = -1\n',
         "subscribers.a.max_per_hour must not be negative"),
        ('[subscribers.a]\nwebhooks = ["generic:http://x.org/h"]\nbriefings = ["noon"]\n',
         "subscribers.a.briefings: 'noon' is not morning or close"),
        ('subscribers = "alice"\n', "setting subscribers must be tables"),
        ('[subscribers."a b"]\nwebhooks = ["generic:http://x.org/h"]\n', "a name is letters"),
    ],
)  # fmt: skip
def test_settings_mistakes_are_one_line(tmp_path: Path, toml: str, said: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(toml, encoding="utf-8")
    done = run_cli("--config", str(path), "config")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("error: ") and said in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_subscribers_list_says_what_each_watches_and_what_it_was_sent(tmp_path: Path) -> None:
    """Wave 10's walk: nothing showed a subscriber's state — only ``subscribers test``.
    ``subscribers list`` gives the settings (webhooks without their secrets) and the last
    24 hours of sends, per subscriber, from the store."""
    import time

    from finews.store import subscriptions

    db = tmp_path / "s.db"
    hook = "dingtalk:https://oapi.dingtalk.com/robot/send?access_token=SECRET"
    other = "generic:http://127.0.0.1:9/hook"
    config = tmp_path / "finews.toml"
    config.write_text(
        f'[subscribers.desk]\nkeywords = ["央行"]\nstocks = ["600519"]\nwebhooks = ["{hook}"]\n'
        'quiet_hours = "23:00-07:00"\nmax_per_hour = 5\n'
        f'[subscribers.night]\nimportant = true\nwebhooks = ["{other}"]\n',
        encoding="utf-8",
    )
    with Store.open(f"sqlite:///{db}") as store:
        now = time.time()
        for ok in (True, True, False):
            push = subscriptions.add_push(store, "desk", "item", "【央行】…", {}, [hook], now=now)
            assert push is not None
            send = subscriptions.due(store, now=now + 1)[0]
            subscriptions.record(store, send.id, ok=ok, now=now + 2)
        subscriptions.add_push(store, "desk", "item", "pending", {}, [hook], now=now)
    done = run_cli("--db", str(db), "--config", str(config), "subscribers", "list", "--json")
    assert done.returncode == 0, done.stderr
    rows = {r["name"]: r for r in json.loads(done.stdout)}
    desk = rows["desk"]
    assert desk["watches"] == ["关键词 央行", "股票 600519"]
    assert desk["webhooks"][0].startswith("dingtalk https://oapi.dingtalk.com/robot/send #")
    assert "SECRET" not in done.stdout
    assert desk["quiet_hours"] == "23:00-07:00" and desk["max_per_hour"] == 5
    last = desk["last_24h"]
    assert (last["sent"], last["failed"], last["pending"]) == (2, 1, 1)
    assert last["last_sent_at"] is not None
    assert rows["night"]["watches"] == ["重要消息"] and rows["night"]["last_24h"]["sent"] == 0
    text = run_cli("--db", str(db), "--config", str(config), "subscribers", "list")
    assert text.returncode == 0 and "2 sent, 1 failed, 1 pending" in text.stdout
