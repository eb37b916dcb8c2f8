"""The status page's words (issue #12): a source's health as a Chinese reader reads it.

:mod:`finews.run.health` keeps its states and reasons in English for the API, the CLI and
logs (scripts match on ``failing``); this module says the same in Chinese from the same
fields — never by translating the English sentences.  Pure.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from finews.model import BEIJING
from finews.run.health import Health

STATE_WORDS = {
    "ok": "正常",
    "failing": "失败",
    "stale": "无更新",
    "changed": "格式变化",
    "unknown": "未知",
}
_CHANGE_WORDS = {"missing": "消失", "type": "类型改变", "new": "新出现"}

SOURCE_NAMES = {
    "cls.telegraph": "财联社电报",
    "eastmoney.fast": "东方财富 7×24",
    "eastmoney.column": "东方财富 栏目",
    "ths.flash": "同花顺快讯",
    "sina.zhibo": "新浪财经 7×24",
    "wscn.live": "华尔街见闻 7×24",
    "jin10.flash": "金十数据快讯",
}


def duration(seconds: float) -> str:
    """``45 秒``, ``12 分``, ``3 小时 12 分``, ``2 天 3 小时``: two units at most."""
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{s} 秒"
    minutes = s // 60
    if minutes < 60:
        return f"{minutes} 分"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} 小时 {minutes} 分" if minutes else f"{hours} 小时"
    days, hours = divmod(hours, 24)
    return f"{days} 天 {hours} 小时" if hours else f"{days} 天"


def _when(ts: int | None) -> str:
    if not ts:
        return "—"
    return datetime.fromtimestamp(ts, BEIJING).strftime("%m-%d %H:%M")


def reason(h: Health, now: float, data_now: float | None = None) -> str:
    """Why the source is in its state, in Chinese; ``data_now`` as in
    :func:`finews.run.health.assess` (the clock the newest item is measured against)."""
    data_now = now if data_now is None else data_now
    if h.state == "unknown":
        return "尚未抓取过（未启用，或还没有轮到它）"
    if h.state == "failing":
        error = h.last_error or "原因未知"
        return f"连续失败 {h.consecutive_failures} 次：{error}"
    if h.state == "changed" and h.warnings:
        first = h.warnings[0]
        more = f"（另有 {len(h.warnings) - 1} 处）" if len(h.warnings) > 1 else ""
        change = _CHANGE_WORDS.get(first["change"], first["change"])
        return f"返回的格式变了：字段 {first['field']} {change}{more}"
    if h.state == "stale":
        if h.last_success_at is None:
            return "从未成功抓取"
        if h.newest_at is None:
            return "来源有响应，但还没有任何消息"
        if now - h.last_success_at > data_now - h.newest_at:
            return f"已 {duration(now - h.last_success_at)}没有成功抓取"
        return f"来源有响应，但已 {duration(data_now - h.newest_at)}没有新消息"
    if h.newest_at is None:
        return "抓取正常"
    return f"最新消息在 {duration(data_now - h.newest_at)}前"


def status_view(h: Health, now: float, data_now: float | None = None) -> dict[str, Any]:
    """What a row of ``status.html`` shows (with the API's fields: request shape, warnings)."""
    return {
        **h.as_dict(),
        "key": h.source,
        "name": SOURCE_NAMES.get(h.source, h.source),
        "state": h.state,
        "state_word": STATE_WORDS.get(h.state, "未知"),
        "articles": h.articles,
        "newest": _when(h.newest_at),
        "last_success": _when(h.last_success_at),
        "reason": reason(h, now, data_now),
    }
