"""Fallback time per source (#15): from the first failing request of the shape in use to
the answer of the shape that works, against local stand-ins on 127.0.0.1.

    .venv/bin/python bench/upstream_fallback.py [runs] [host_spacing]

``host_spacing`` (default 0) is ``http.host_spacing``: with the default 1 s, every shape
tried after the first on the same site waits its turn like any request.

Each run: a fresh store, a stand-in whose first shape fails the way that source's change
would look (Eastmoney np-listapi 404 / data: null, 财联社 errno 10012 on sv 8.7.9, 华尔街见闻's
first host 404, 金十's app id refused with 401), one polling round of the real fetcher and
adapter.  Prints the median and the worst fallback time, and the round's total.  No network.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from finews.config import load_settings
from finews.demo.upstreams import bundled
from finews.fetch import Fetcher
from finews.ingest import fetch_round, policy_from_settings
from finews.sources import build_sources
from finews.sources.cls import sign
from finews.store import Store

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
Answer = tuple[int, dict[str, Any]]


def serve(answer: Callable[[str, dict[str, str], dict[str, str]], Answer]) -> tuple[str, Any]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            status, payload = answer(parts.path, query, dict(self.headers.items()))
            body = json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


def fast_items() -> list[dict[str, Any]]:
    path = DATA / "eastmoney" / "fast_2026-06-16.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()][:50]


def eastmoney(path: str, query: dict[str, str], headers: dict[str, str]) -> Answer:
    if path.startswith("/listapi"):
        return 404, {"error": "not found"}
    page = [] if query.get("sortEnd") else fast_items()
    return 200, {"code": "1", "data": {"fastNewsList": page, "sortEnd": ""}}


def eastmoney_null(path: str, query: dict[str, str], headers: dict[str, str]) -> Answer:
    if path.startswith("/listapi"):
        return 200, {"code": "1", "message": "success", "data": None}
    return eastmoney(path, query, headers)


def cls(path: str, query: dict[str, str], headers: dict[str, str]) -> Answer:
    if query.get("sv") == "8.7.9" or query.get("sign") != sign(query):
        return 200, {"errno": 10012, "msg": "签名错误"}
    rows = [] if int(query.get("last_time") or 0) else bundled("cls")[:20]
    return 200, {"errno": 0, "data": {"roll_data": rows}}


def wscn(path: str, query: dict[str, str], headers: dict[str, str]) -> Answer:
    if path.startswith("/awtmt"):
        return 404, {"code": 40400}
    page = json.loads((DATA / "handmade" / "wscn_lives_p1.json").read_text(encoding="utf-8"))
    if query.get("cursor"):
        page["data"]["items"] = []
    return 200, page


def jin10(path: str, query: dict[str, str], headers: dict[str, str]) -> Answer:
    if headers.get("x-app-id") != "SO1EJGmNgCtmpcPF":
        return 401, {"status": 401, "message": "bad app id"}
    page = json.loads((DATA / "handmade" / "jin10_flash_p1.json").read_text(encoding="utf-8"))
    if query.get("max_time"):
        page["data"] = []
    return 200, page


CASES: list[tuple[str, str, Callable[..., Answer], Callable[[str], str]]] = [
    (
        "eastmoney.fast (np-listapi 404 → np-weblist)",
        "eastmoney.fast",
        eastmoney,
        lambda b: f"np-listapi.eastmoney.com={b}/listapi,np-weblist.eastmoney.com={b}/weblist",
    ),
    (
        "eastmoney.fast (np-listapi data: null → np-weblist)",
        "eastmoney.fast",
        eastmoney_null,
        lambda b: f"np-listapi.eastmoney.com={b}/listapi,np-weblist.eastmoney.com={b}/weblist",
    ),
    (
        "cls.telegraph (errno 10012 on sv 8.7.9 → 8.4.6)",
        "cls.telegraph",
        cls,
        lambda b: f"www.cls.cn={b}",
    ),
    (
        "wscn.live (awtmt 404 → wallstcn)",
        "wscn.live",
        wscn,
        lambda b: f"api-one-wscn.awtmt.com={b}/awtmt,api-one.wallstcn.com={b}/wallstcn",
    ),
    (
        "jin10.flash (x-app-id 401 → the second known id)",
        "jin10.flash",
        jin10,
        lambda b: f"flash-api.jin10.com={b}",
    ),
]


def main(runs: int, spacing: str = "0") -> None:
    import logging

    logging.disable(logging.WARNING)  # the switch warnings, one per run
    print(
        f"fallback time, {runs} runs each (median / worst), and the whole round (median); "
        f"http.host_spacing {spacing} s"
    )
    for label, key, answer, override in CASES:
        base, server = serve(answer)
        fallbacks: list[float] = []
        rounds: list[float] = []
        try:
            for _ in range(runs):
                with tempfile.TemporaryDirectory() as folder:
                    settings = load_settings(
                        env={
                            "FINEWS_DB": str(Path(folder) / "b.db"),
                            "FINEWS_UPSTREAM_OVERRIDE": override(base),
                            "FINEWS_HTTP_HOST_SPACING": spacing,
                            "FINEWS_HTTP_RETRIES": "0",
                        }
                    )
                    with (
                        Store.open(settings.db_url) as store,
                        Fetcher(policy_from_settings(settings)) as fetcher,
                    ):
                        (report,) = fetch_round(
                            store, fetcher, build_sources(settings, [key]), fulltext=False
                        )
                    assert report.ok and report.switches and report.new, report.as_dict()
                    fallbacks.append(float(report.switches[0]["seconds"]))  # type: ignore[arg-type]
                    rounds.append(report.seconds)
        finally:
            server.shutdown()
        print(
            f"{label}: {statistics.median(fallbacks) * 1000:.1f} ms / "
            f"{max(fallbacks) * 1000:.1f} ms; round {statistics.median(rounds) * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20, *sys.argv[2:3])
