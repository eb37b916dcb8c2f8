"""Throughput of one polling round against a local Eastmoney stand-in.

The stand-in (tests/standin.py) serves the real 7×24 items of
tests/data/eastmoney, replicated under new codes to N items, plus article
JSON for each; politeness delays are off (host_spacing 0), full text on.
Run: .venv/bin/python bench/fetch_round.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

from werkzeug import Request
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from finews.config import load_settings
from finews.fetch import Fetcher
from finews.ingest import fetch_round, policy_from_settings
from finews.sources import build_sources
from finews.store import Store
from standin import EastmoneyStandin, real_fast_items


def replicate(n: int) -> list[dict[str, object]]:
    real = real_fast_items()
    items = []
    top = int(real[0]["realSort"]) // 1_000_000
    for i in range(n):
        base = real[i % len(real)]
        sort = top - i
        items.append({**base, "code": f"2026061{i:011d}", "realSort": f"{sort}{i % 1_000_000:06d}"})
    return items


def main(n: int) -> None:
    standin = EastmoneyStandin(fast=replicate(n))
    standin.add_fast_articles()
    app = Request.application(standin)  # type: ignore[arg-type]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    env = {
        "FINEWS_UPSTREAM_OVERRIDE": ",".join(
            f"{host}={base}" for host in ("np-listapi.eastmoney.com", "newsinfo.eastmoney.com")
        ),
        "FINEWS_HTTP_HOST_SPACING": "0",
        "FINEWS_EASTMONEY_PAGE_SIZE": "200",
    }
    settings = load_settings(env=env)
    sources = build_sources(settings, ["eastmoney.fast"])
    with tempfile.TemporaryDirectory() as tmp:
        for fulltext in (False, True):
            with (
                Store.open(f"sqlite:///{tmp}/bench-{fulltext}.db") as store,
                Fetcher(policy_from_settings(settings)) as fetcher,
            ):
                t0 = time.perf_counter()
                (report,) = fetch_round(store, fetcher, sources, backfill=n, fulltext=fulltext)
                elapsed = time.perf_counter() - t0
                label = "list + full text" if fulltext else "list only"
                print(
                    f"{label:17s} {report.new:6d} new in {elapsed:6.2f} s = "
                    f"{report.new / elapsed:8,.0f} articles/s ({fetcher.requests_sent} requests)"
                )
    server.shutdown()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
