"""The fuzz targets of tests/fuzz_targets.py at length: N generated inputs each (default
100,000), counting inputs and failures.

One command:  .venv/bin/python bench/fuzz.py [--examples 100000] [--only NAME]

A failure prints the smallest input Hypothesis found and the exception, and the run goes
on with the next target; the exit status is the number of failing targets.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from hypothesis import HealthCheck, given, settings

from fuzz_targets import TARGETS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    failures = 0
    print(f"{'target':18s} {'inputs':>9s} {'seconds':>8s}  result", flush=True)
    for name, (strategy, target) in TARGETS.items():
        if args.only and args.only != name:
            continue
        counter = [0]

        def make(target: object = target, counter: list[int] = counter) -> object:
            def counted(value: object) -> None:
                counter[0] += 1
                target(value)  # type: ignore[operator]

            return counted

        run_one = make()

        run = settings(
            max_examples=args.examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )(given(strategy)(run_one))
        started = time.perf_counter()
        try:
            run()
            result = "ok"
        except Exception:
            failures += 1
            result = "FAILED\n" + traceback.format_exc(limit=3)
        print(
            f"{name:18s} {counter[0]:9,d} {time.perf_counter() - started:8.1f}  {result}",
            flush=True,
        )
    return failures


if __name__ == "__main__":
    sys.exit(main())
