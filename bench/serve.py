"""``finews serve`` under load: wrk (Debian's) on loopback, 64 connections for 30 s each
against an article page, the home page and the search API.

One command:  .venv/bin/python bench/serve.py [--db PATH] [--size 20000] [--seconds 30]

Uses the store bench/search.py left behind (bench/_work/search/search-100000.db) when it
is there, else loads SIZE real articles; builds the site (incremental: a second run
reuses it), starts the real ``finews serve`` and reports requests/s and latency
percentiles per target.  wrk keeps connections open (HTTP/1.1 keep-alive) and does not
ask for gzip, so these are uncompressed responses.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parent
WORK = ROOT / "_work" / "serve"
FINEWS = str(Path(sys.executable).parent / "finews")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load(db: Path, size: int) -> None:
    from corpus import articles

    from finews.process.pipeline import Processor
    from finews.store import Store

    store = Store.open(f"sqlite:///{db}")
    process = Processor.default()
    batch = []
    for article in articles(size):
        batch.append(process(article))
        if len(batch) == 1000:
            store.save(batch)
            batch = []
    store.save(batch)
    store.close()


def wrk(url: str, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def ms(label: str) -> float:
        m = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out)
        assert m, out
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50": ms("50%"),
        "p99": ms("99%"),
        "non2xx": float(errors.group(1)) if errors else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, default=ROOT / "_work" / "search" / "search-100000.db")
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--query", default="银行")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    WORK.mkdir(parents=True, exist_ok=True)
    db = args.db
    if not db.exists():
        db = WORK / f"serve-{args.size}.db"
        if not db.exists():
            print(f"loading {args.size:,} articles …", flush=True)
            load(db, args.size)
    site = WORK / "site"
    env = {**os.environ, "FINEWS_DB": f"sqlite:///{db}", "FINEWS_SITE_OUT": str(site)}
    started = time.perf_counter()
    subprocess.run([FINEWS, "build", "--json"], env=env, check=True, capture_output=True)
    print(f"site built in {time.perf_counter() - started:.0f} s ({db.name})")
    port = free_port()
    server = subprocess.Popen(
        [FINEWS, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "api/sources", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        newest = json.loads(urllib.request.urlopen(base + "api/articles?limit=1").read())
        article = newest["articles"][0]["path"]
        search = "api/search?" + urllib.parse.urlencode({"q": args.query})
        targets = {"article page": article, "home page": "", "search API": search}
        print(
            f"wrk -t2 -c{args.connections} -d{args.seconds}s on loopback, search for {args.query!r}"
        )
        print(f"{'target':14s} {'req/s':>9s} {'p50 ms':>8s} {'p99 ms':>8s} {'non-2xx':>8s}")
        for name, path in targets.items():
            r = wrk(base + path, args.seconds, args.connections)
            print(
                f"{name:14s} {r['rps']:9.0f} {r['p50']:8.1f} {r['p99']:8.1f} {r['non2xx']:8.0f}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
