"""The status page's words (issue #12): a source's health as a Chinese reader reads it.

:mod:`finews.run.health` keeps its states and reasons in English for the API, the CLI and
logs (scripts match on ``failing``); this module says the same in Chinese from the same
fields — never by translating the English sentences.  Pure.
"""

from __future__ import annotations

import re
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


_HTTP_MEANING = {
    400: "请求有误",
    401: "需要认证",
    403: "拒绝访问",
    404: "地址不存在",
    410: "地址已撤销",
    429: "请求过多",
    500: "服务器出错",
    502: "网关出错",
    503: "服务暂不可用",
    504: "网关超时",
}

# The fetcher's and the adapters' own messages (finews.fetch.http, finews.fetch.decode), each
# said again in Chinese; anything else is kept as it came.  Applied in order.
_ERROR_WORDS: tuple[tuple[re.Pattern[str], Any], ...] = (
    (
        re.compile(r"\s*\(the network looks down: [^)]*\)"),
        "（网络似乎已断开：之前的请求以同样方式失败，这次没有重试）",
    ),
    (re.compile(r"\s*\(after (\d+) attempts?\)"), r"（共尝试 \1 次）"),
    (re.compile(r"timed out after ([\d.]+) s"), r"超时（\1 秒内没有响应）"),
    (
        re.compile(r"connection failed: \w+: [^;（]*?(?:Connection refused|ECONNREFUSED)[^;（]*"),
        "连接被拒绝（对方没有在这个地址上提供服务）",
    ),
    (
        re.compile(
            r"connection failed: \w+: [^;（]*?(?:Name or service not known|Temporary failure in "
            r"name resolution|nodename nor servname|getaddrinfo failed|No address associated)"
            r"[^;（]*"
        ),
        "域名解析失败（离线，或 DNS 不可用）",
    ),
    (re.compile(r"connection failed: (\w+): [^;（]*"), r"连接失败（\1）"),
    (
        re.compile(r"HTTP (\d{3}), Retry-After (\d+) s is longer than (\S+) \(([\d.]+) s\)"),
        r"HTTP \1，服务器要求 \2 秒后再试，超过了 \3（\4 秒）",
    ),
    (
        re.compile(r"body of ([\d,]+) bytes is over the ([\d,]+)-byte limit"),
        r"响应有 \1 字节，超过上限 \2 字节",
    ),
    (re.compile(r"body over the ([\d,]+)-byte limit"), r"响应超过上限 \1 字节"),
    (
        re.compile(r"body too slow, not complete after (\d+) s \(timed out\)"),
        r"响应太慢，\1 秒后仍未收完（超时）",
    ),
    (
        re.compile(r"malformed JSON from (\S+) \((.*) at (\d+) of (\d+) characters\)"),
        r"\1 返回的 JSON 无法解析（共 \4 个字符，第 \3 个字符处出错：\2）",
    ),
    (
        re.compile(r"HTML \(([^)]*)\) where JSON was expected from (\S+)"),
        r"\2 返回的是 HTML 页面（\1），不是 JSON（可能被拦截或要求验证）",
    ),
    (re.compile(r"empty body from (\S+) \(blocked\?\)"), r"\1 返回了空内容（可能被拦截）"),
    (re.compile(r"expected a JSON object"), "返回的不是 JSON 对象"),
    (re.compile(r"error code ('[^']*'|\S+)"), r"错误码 \1"),
    (re.compile(r"^GET (\S+): "), r"请求 \1："),
    (re.compile(r"; GET (\S+): "), r"；请求 \1："),
)
_HTTP_STATUS = re.compile(r"HTTP (\d{3})(?![\d,])")


def error_words(message: str, source: str = "") -> str:
    """A fetch error's message (as ``finews sources --json`` keeps it, in English) said in
    Chinese: ``GET www.cls.cn/nodeapi/telegraphList: HTTP 503 (after 3 attempts)`` reads
    ``请求 www.cls.cn/nodeapi/telegraphList：HTTP 503（服务暂不可用）（共尝试 3 次）``.  The
    parts finews does not know (an upstream's own words) are kept as they came."""
    text = message.strip()
    if source and text.startswith(source + ": "):  # the row names the source already
        text = text[len(source) + 2 :]
    text = _HTTP_STATUS.sub(_http_status, text)
    for pattern, words in _ERROR_WORDS:
        text = pattern.sub(words, text)
    return text


def _http_status(match: re.Match[str]) -> str:
    meaning = _HTTP_MEANING.get(int(match.group(1)))
    if meaning is None:
        meaning = "服务器出错" if match.group(1)[0] == "5" else ""
    return f"HTTP {match.group(1)}（{meaning}）" if meaning else match.group(0)


def duration(seconds: float) -> str:
    """``45 秒``, ``12 分钟``, ``3 小时 12 分``, ``2 天 3 小时``: two units at most (a
    lone minute count reads ``分钟``: "6 分前" is not said)."""
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{s} 秒"
    minutes = s // 60
    if minutes < 60:
        return f"{minutes} 分钟"
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
        if h.articles:  # imported, or copied from another store: not "never fetched"
            newest = ""
            if h.newest_at:
                day = datetime.fromtimestamp(h.newest_at, BEIJING).strftime("%Y-%m-%d %H:%M")
                newest = f"（最新在 {day}）"
            return f"本库的运行尚未抓取过它，库里已有它的 {h.articles} 条消息{newest}"
        return "尚未抓取过（未启用，或还没有轮到它）"
    if h.state == "failing":
        error = error_words(h.last_error, h.source) if h.last_error else "原因未知"
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
    age = data_now - h.newest_at
    return "刚刚有新消息" if age < 60 else f"最新消息在 {duration(age)}前"


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
