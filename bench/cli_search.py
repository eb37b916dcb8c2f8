"""`finews search` as a new process, against `finews stats` (issue #16).

One command:  .venv/bin/python bench/cli_search.py [--db URL] [--runs 7]

Runs the real command line in a subprocess, as a user does, on a store (by default the
100,000-article store of bench/search.py): first once with an empty cache folder (the run
that writes the quick query dictionary, finews.search.quickseg), then RUNS times each of
`finews stats` and `finews search` with several queries, and prints the medians; then the
same searches again while a `finews serve` of the same store runs (finews.web.rendezvous:
the new process asks it instead of loading the store), and `--local` beside them.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DEFAULT_DB = ROOT / "_work" / "search" / "search-100000.db"
QUERIES = ["西安银行", "央行开展MLF操作", "Micron", "600519", '"新质生产力"', "北向资金 -港股"]


def timed(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "finews", *args], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"finews {' '.join(args)} failed: {done.stderr}")
    return seconds


class serving:
    """`finews serve` of the store for the block (a placeholder site: no page is read)."""

    def __init__(self, env: dict[str, str], cache: Path) -> None:
        self.env, self.cache = env, cache

    def __enter__(self) -> None:
        site = self.cache / "site"
        site.mkdir(exist_ok=True)
        (site / "index.html").write_text("<!doctype html>\n", encoding="utf-8")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "finews", "serve", "--port", str(port), "--site", str(site)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not list((self.cache / "servers").glob("*/*.json")):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise SystemExit("finews serve did not start")
            time.sleep(0.1)
        time.sleep(3)  # its warm-up search done

    def __exit__(self, *exc: object) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default=f"sqlite:///{DEFAULT_DB}")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "FINEWS_DB": args.db, "FINEWS_CACHE": cache}
        first = timed(["search", QUERIES[0]], env)
        print(f"first search, empty cache (writes the query dictionary): {first:.2f} s")
        stats = [timed(["stats"], env) for _ in range(args.runs)]
        print(f"finews stats: median {statistics.median(stats):.3f} s")
        for query in QUERIES:
            runs = [timed(["search", query], env) for _ in range(args.runs)]
            median = statistics.median(runs)
            print(
                f"finews search {query!s:18s}: median {median:.3f} s "
                f"({median - statistics.median(stats):+.3f} s vs stats)"
            )
        with serving(env, Path(cache)):
            for query in QUERIES:
                runs = [timed(["search", query], env) for _ in range(args.runs)]
                local = [timed(["search", "--local", query], env) for _ in range(args.runs)]
                median = statistics.median(runs)
                print(
                    f"with finews serve running: search {query!s:18s}: median {median:.3f} s "
                    f"({median - statistics.median(stats):+.3f} s vs stats; "
                    f"--local {statistics.median(local):.3f} s)"
                )
        env_cold = {**env, "FINEWS_CACHE": "/dev/null/cache"}
        runs = [timed(["search", QUERIES[1]], env_cold) for _ in range(3)]
        print(
            f"without a usable cache folder (jieba loaded): median {statistics.median(runs):.3f} s"
        )


if __name__ == "__main__":
    main()
