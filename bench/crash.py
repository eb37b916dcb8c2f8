"""kill -9 ``finews run`` at random moments, N times (default 100); after each crash the
database and the published site are checked (tests/crashrun.py says what).

One command:  .venv/bin/python bench/crash.py [--cycles 100] [--seed 8]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from crashrun import crash_cycles


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="finews-crash-") as folder:
        report = crash_cycles(Path(folder), args.cycles, args.seed)
    print(
        f"{report.cycles} kill -9 cycles in {time.perf_counter() - started:.0f} s; "
        f"articles after each: {report.articles[:3]} … {report.articles[-3:]}; "
        f"{report.links_checked:,} links checked; problems: {len(report.problems)}"
    )
    for problem in report.problems[:20]:
        print("  ", problem)
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
