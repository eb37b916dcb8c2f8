"""Local stand-ins for the upstream APIs, serving bundled real items (``data/demo``).

Used by ``finews demo`` (no network needed) and by the tests.  Each stand-in answers in
the documented shape of its upstream (the envelopes are written after
shared/docs/upstream-apis.md, the items are real captures) and honours its paging:

- 财联社 ``/v1/roll/get_roll_list`` — checks the ``sign`` (errno 10012 when wrong),
  ``last_time`` paging;
- 同花顺 ``/tapp/news/push/stock/`` — ``page`` / ``pagesize``;
- Eastmoney ``/comm/web/getFastNewsList`` — ``sortEnd`` paging.

Items are *released* over time: the oldest ``initial`` of each source at the start, then
one more every ``interval`` seconds, round-robin, so a demo shows news arriving.  Faults
can be injected per path (an HTTP status for the next N requests) to test recovery.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from finews.model import BEIJING
from finews.sources.cls import sign

HOSTS = {
    "cls.telegraph": ("www.cls.cn",),
    "ths.flash": ("news.10jqka.com.cn",),
    # both hosts of the 7×24 list (#15): a fallback stays on the stand-in
    "eastmoney.fast": ("np-listapi.eastmoney.com", "np-weblist.eastmoney.com"),
}


def bundled(name: str) -> list[dict[str, Any]]:
    """The bundled real items of ``cls``, ``ths`` or ``eastmoney``, newest first."""
    path = resources.files("finews") / "data" / "demo" / f"{name}.jsonl.gz"
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def _published(name: str, row: dict[str, Any]) -> float:
    """When a bundled item was published, in seconds (财联社 and 同花顺 give epoch seconds,
    Eastmoney Beijing time as text)."""
    if name == "eastmoney":
        when = datetime.strptime(str(row["showTime"]), "%Y-%m-%d %H:%M:%S")
        return when.replace(tzinfo=BEIJING).timestamp()
    return float(row["ctime"])


class Upstreams:
    def __init__(
        self,
        *,
        initial: int = 40,
        interval: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
        items: dict[str, list[dict[str, Any]]] | None = None,
        endless: bool = False,
        one_clock: bool = False,
    ) -> None:
        """``endless``: once every bundled item is out, go on with copies of them under new
        ids and later times (for load tests that need news without end).

        ``one_clock`` (``finews demo``): release the sources' items in the order they were
        published across all sources — ``initial`` per source at the start, then the next
        item in time each tick — instead of the same number from each.  The bundled 同花顺
        items start 40 minutes before 财联社's, so forty of each put 同花顺's newest an hour
        behind, and the status page (staleness against the newest stored item) called a
        working source stale."""
        data = items or {
            "cls": bundled("cls"),
            "ths": bundled("ths"),
            "eastmoney": bundled("eastmoney"),
        }
        # oldest first, to be released in that order
        self.pending = {name: list(reversed(rows)) for name, rows in data.items()}
        self.initial = initial
        self.interval = interval
        self.endless = endless
        self.timeline: list[str] = []
        """With ``one_clock``: the source of each item, all sources' items in time order."""
        if one_clock and not endless:
            dated = [
                (_published(name, row), name) for name, rows in self.pending.items() for row in rows
            ]
            self.timeline = [name for _, name in sorted(dated)]
        self.clock = clock
        self.started = clock()
        self.faults: dict[str, list[int | str]] = {}
        self.requests: list[str] = []
        self.arrivals: list[tuple[float, str]] = []
        """(time.monotonic(), path) of every request, in arrival order."""
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- what is visible now ---------------------------------------------------------
    def released(self, name: str) -> list[dict[str, Any]]:
        """The items of a source released so far, newest first."""
        rows = self.pending[name]
        if self.endless:
            rows = _Replicas(name, rows)  # type: ignore[assignment]
        if self.timeline:
            ticks = int((self.clock() - self.started) / self.interval) if self.interval > 0 else 0
            out = self.initial * len(self.pending) + ticks
            count = self.timeline[:out].count(name)
            return list(reversed(rows[max(0, count - 2000) : count]))
        extra = 0
        if self.interval > 0:
            ticks = int((self.clock() - self.started) / self.interval)
            sources = sorted(self.pending)
            # one item per tick, round-robin over the sources
            extra = ticks // len(sources) + (1 if ticks % len(sources) > sources.index(name) else 0)
        count = self.initial + extra if self.endless else min(len(rows), self.initial + extra)
        newest = [rows[i] for i in range(max(0, count - 2000), count)]  # a window is enough
        return list(reversed(newest))

    def release_all(self) -> None:
        self.initial = max(len(rows) for rows in self.pending.values())
        self.timeline = []

    def fail(self, path: str, *faults: int | str) -> None:
        """The next requests to ``path`` misbehave, in turn: an HTTP status (503, or 429 with
        ``Retry-After: 1``), or one of :data:`FAULTS`."""
        with self._lock:
            self.faults.setdefault(path, []).extend(faults)

    # -- answers -------------------------------------------------------------------------
    def fault(self, path: str) -> int | str | None:
        with self._lock:
            self.requests.append(path)
            self.arrivals.append((time.monotonic(), path))
            queued = self.faults.get(path)
            return queued.pop(0) if queued else None

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, bytes]:
        if path == "/v1/roll/get_roll_list":
            return 200, self._cls(query)
        if path == "/tapp/news/push/stock/":
            return 200, self._ths(query)
        if path == "/comm/web/getFastNewsList":
            return 200, self._eastmoney(query)
        return 404, b'{"error": "not found"}'

    def _cls(self, query: dict[str, str]) -> bytes:
        if query.get("sign") != sign(query):
            return _json({"errno": 10012, "msg": "签名错误"})
        last_time = int(query.get("last_time") or 0)
        size = int(query.get("rn") or 20)
        rows = self.released("cls")
        if last_time:
            rows = [r for r in rows if int(r["ctime"]) < last_time]
        return _json({"errno": 0, "msg": "", "data": {"roll_data": rows[:size]}})

    def _ths(self, query: dict[str, str]) -> bytes:
        page = max(1, int(query.get("page") or 1))
        size = int(query.get("pagesize") or 20)
        rows = self.released("ths")[(page - 1) * size : page * size]
        return _json({"code": "200", "msg": "success", "data": {"list": rows}})

    def _eastmoney(self, query: dict[str, str]) -> bytes:
        size = int(query.get("pageSize") or 50)
        sort_end = query.get("sortEnd") or ""
        rows = self.released("eastmoney")
        if sort_end:
            rows = [r for r in rows if int(r["realSort"]) < int(sort_end)]
        page = rows[:size]
        cursor = page[-1]["realSort"] if page else ""
        return _json(
            {"code": "1", "message": "success", "data": {"fastNewsList": page, "sortEnd": cursor}}
        )

    # -- serving -----------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        upstreams = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                fault = upstreams.fault(parts.path)
                if fault == "reset":  # drop the connection without an answer
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                status, body = upstreams.answer(
                    parts.path, dict(parse_qsl(parts.query, keep_blank_values=True))
                )
                headers = {"Content-Type": "application/json; charset=utf-8"}
                body, status, headers = misbehave(fault, body, status, headers)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if fault == "trickle":  # a byte at a time, slower than any timeout
                    try:
                        for i in range(len(body)):
                            self.wfile.write(body[i : i + 1])
                            self.wfile.flush()
                            time.sleep(0.5)
                    except OSError:  # the client gave up: as it should
                        return
                    return
                try:
                    self.wfile.write(body)
                except OSError:  # the client went away (killed, timed out): its business
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://{host}:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def override(self, base: str) -> dict[str, str]:
        """``upstream_override`` pairs that send every stood-in host here."""
        return {host: base for hosts in HOSTS.values() for host in hosts}

    def env(self, base: str) -> dict[str, str]:
        """``FINEWS_*`` variables that point a ``finews`` process at these stand-ins: their
        sources only, no full-text fetches (they serve none), no politeness delay."""
        return {
            "FINEWS_UPSTREAM_OVERRIDE": ",".join(
                f"{h}={b}" for h, b in self.override(base).items()
            ),
            "FINEWS_SOURCES_ENABLED": ",".join(HOSTS),
            "FINEWS_EASTMONEY_FULLTEXT": "false",
            "FINEWS_HTTP_HOST_SPACING": "0",
        }


class _Replicas:
    """Item ``i`` of an endless source: the bundled item ``i mod n``, its ids and times moved
    on by one day per round, so that copies are new items in the right order."""

    def __init__(self, name: str, rows: list[dict[str, Any]]) -> None:
        self.name = name
        self.rows = rows

    def __getitem__(self, index: int) -> dict[str, Any]:
        rounds, position = divmod(index, len(self.rows))
        item = dict(self.rows[position])
        if rounds == 0:
            return item
        if self.name == "cls":
            item["id"] = int(item["id"]) + rounds * 100_000_000
            item["ctime"] = int(item["ctime"]) + rounds * 86400
        elif self.name == "ths":
            item["seq"] = str(int(item["seq"]) + rounds * 1_000_000_000)
            item["id"] = str(int(item.get("id") or 0) + rounds * 1_000_000_000)
            item["ctime"] = str(int(item["ctime"]) + rounds * 86400)
        else:
            item["code"] = f"{item['code']}{rounds:03d}"
            item["realSort"] = str(int(item["realSort"]) + rounds * 10**15)
            shown = datetime.strptime(item["showTime"], "%Y-%m-%d %H:%M:%S")
            item["showTime"] = (shown + timedelta(days=rounds)).strftime("%Y-%m-%d %H:%M:%S")
        return item


FAULTS = (
    "reset",  # the connection is dropped
    "trickle",  # the body comes a byte every half second
    "garbage",  # 200 with bytes that are no JSON
    "truncated",  # 200 with the first half of the JSON
    "gzipbomb",  # 200, gzip, 10 KB that inflate to 50 MB
    "badutf8",  # 200 with invalid UTF-8 inside the JSON strings
    "gbk",  # 200 with the JSON in GBK, labelled UTF-8
    "html",  # 200 with an HTML error page (a captcha, a login wall)
    "empty",  # 200 with no body
    "duplicates",  # 200, every item twice and out of order
    "future",  # 200, the items' times a year ahead
)


def misbehave(
    fault: int | str | None, body: bytes, status: int, headers: dict[str, str]
) -> tuple[bytes, int, dict[str, str]]:
    """A good answer turned into a faulty one."""
    if fault is None or fault in {"trickle"}:
        return body, status, headers
    if isinstance(fault, int):
        extra = {"Retry-After": "1"} if fault == 429 else {}
        return b'{"error": "injected fault"}', fault, {**headers, **extra}
    if fault == "garbage":
        return bytes(range(256)) * 4, 200, headers
    if fault == "truncated":
        return body[: len(body) // 2], 200, headers
    if fault == "gzipbomb":
        bomb = gzip.compress(b"\x00" * 50_000_000, compresslevel=9)
        return bomb, 200, {**headers, "Content-Encoding": "gzip"}
    if fault == "badutf8":
        return body.replace(b"\xe8", b"\xff\xfe", 3), 200, headers
    if fault == "gbk":
        return body.decode("utf-8").encode("gbk", "replace"), 200, headers
    if fault == "html":
        page = "<html><body>访问过于频繁，请完成验证 aliyunCaptcha</body></html>".encode()
        return page, 200, {**headers, "Content-Type": "text/html; charset=utf-8"}
    if fault == "empty":
        return b"", 200, headers
    if fault in {"duplicates", "future"}:
        payload = json.loads(body)
        rows = _item_list(payload)
        if rows is not None:
            if fault == "duplicates":
                doubled = rows + list(reversed(rows))
                rows.clear()
                rows.extend(doubled)
            else:
                for row in rows:
                    for key in ("ctime", "rtime"):
                        if key in row:
                            row[key] = int(row[key]) + 365 * 86400
                    if "showTime" in row:
                        row["showTime"] = "2099-01-01 00:00:00"
        return _json(payload), 200, headers
    return body, status, headers


def _item_list(payload: Any) -> list[Any] | None:
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        return None
    for key in ("roll_data", "list", "fastNewsList"):
        if isinstance(data.get(key), list):
            return data[key]  # type: ignore[no-any-return]
    return None


def _json(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")
