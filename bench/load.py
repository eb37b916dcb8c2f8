"""``finews run`` ingesting at full speed from local upstreams, with and without ``wrk``
hammering its web app (64 connections for 60 s) — errors, p99 latency, and the ingestion
rate beside the rate without load.

One command:  .venv/bin/python bench/load.py [--seconds 60] [--target /]

The stand-in upstreams publish a new item every 5 ms per source, without end (copies of the
bundled real flashes under new ids); politeness delays are off.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from finews.demo.upstreams import Upstreams


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stored(db: Path) -> int:
    try:
        con = sqlite3.connect(db, timeout=30)
        try:
            return int(con.execute("SELECT count(*) FROM articles").fetchone()[0])
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0


def phase(seconds: int, target: str | None, connections: int) -> dict[str, float]:
    """One run of `finews run` for `seconds` (after a warm-up), wrk on `target` or idle."""
    work = Path(tempfile.mkdtemp(prefix="finews-load-"))
    upstreams = Upstreams(initial=50, interval=0.005, endless=True)
    base = upstreams.start()
    port = free_port()
    db = work / "load.db"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FINEWS_")},
        "FINEWS_DB": str(db),
        "FINEWS_DATA_DIR": str(work),
        **upstreams.env(base),
        "FINEWS_RUN_INTERVAL": "0.5",
        "FINEWS_RUN_MIN_INTERVAL": "0.2",
        "FINEWS_RUN_BUILD_DELAY": "1",
    }
    run = subprocess.Popen(
        [sys.executable, "-m", "finews", "run", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    result: dict[str, float] = {}
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(600):
            try:
                urllib.request.urlopen(url + "api/sources", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(5)  # warm-up: first catch-up and build done
        start_count, started = stored(db), time.monotonic()
        if target is not None:
            out = subprocess.run(
                ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url + target],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            result["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
            p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
            assert p99, out
            value, unit = float(p99.group(1)), p99.group(2)
            result["p99"] = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
            non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            socket_errors = re.search(r"Socket errors: (.*)", out)
            result["non2xx"] = float(non2xx.group(1)) if non2xx else 0.0
            result["socket_errors"] = (
                float(sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1))))
                if socket_errors
                else 0.0
            )
        else:
            time.sleep(seconds)
        elapsed = time.monotonic() - started
        result["ingest"] = (stored(db) - start_count) / elapsed
    finally:
        run.send_signal(signal.SIGTERM)
        try:
            run.wait(30)
        except subprocess.TimeoutExpired:
            run.kill()
        upstreams.stop()
        result["exit"] = float(run.returncode or 0)
        shutil.rmtree(work, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--target", default="", help="path under the site root (default: home)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    quiet = phase(args.seconds, None, args.connections)
    print(f"ingestion without load: {quiet['ingest']:.0f} articles/s", flush=True)
    loaded = phase(args.seconds, args.target, args.connections)
    print(
        f"under wrk -c{args.connections} -d{args.seconds}s on /{args.target}: "
        f"{loaded['rps']:.0f} req/s, p99 {loaded['p99']:.0f} ms, "
        f"{loaded['non2xx']:.0f} non-2xx, {loaded['socket_errors']:.0f} socket errors; "
        f"ingestion {loaded['ingest']:.0f} articles/s "
        f"({loaded['ingest'] / max(quiet['ingest'], 1e-9):.2f}× the rate without load); "
        f"finews run exit status {loaded['exit']:.0f}"
    )


if __name__ == "__main__":
    main()
