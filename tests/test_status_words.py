"""The status page's Chinese words and the replay clock (issue #12).  Pure functions."""

from __future__ import annotations

from finews.run.health import assess, data_clock, report
from finews.web.status import duration, status_view

HOUR = 3600.0


def test_durations_read_as_words() -> None:
    assert duration(42) == "42 秒"
    assert duration(12 * 60 + 5) == "12 分"
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
