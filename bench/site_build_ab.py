"""Full site build time of two finews source trees on one store, taking turns.

    .venv/bin/python bench/site_build_ab.py BEFORE_SRC AFTER_SRC [N] [--rounds R]

e.g. ``bench/site_build_ab.py /work/main/src src 20000``: the store of N real flashes that
bench/site_build.py uses (built once, kept in bench/_work), then R rounds (default 3) of
``finews build --full`` with each tree first on PYTHONPATH — before, after, before, after … —
each into a fresh folder on a tmpfs, so that a slow minute of this shared machine falls on
both.  Prints every run and the medians: wall time, and CPU time (user + system of the build
and its workers: steadier than wall time while other work shares the machine).  Only finews:
no Hugo or Jekyll (bench/site_build.py compares with those).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from site_build import make_store

OUT = Path("/dev/shm/finews-ab") if Path("/dev/shm").is_dir() else Path("bench/_work/ab")


def build(src: str, db: Path, out: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the build and its workers)."""
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(Path(src).resolve())}
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "finews", "--db", str(db), "build", "--out", str(out), "--full"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("n", nargs="?", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    db = make_store(args.n)
    OUT.mkdir(parents=True, exist_ok=True)
    times: dict[str, list[tuple[float, float]]] = {"before": [], "after": []}
    for k in range(args.rounds):
        for label, src in (("before", args.before), ("after", args.after)):
            wall, cpu = build(src, db, OUT / label)
            times[label].append((wall, cpu))
            print(f"round {k + 1}: {label:6} {wall:6.2f} s wall {cpu:6.2f} s CPU", flush=True)
    print(f"\n{args.n:,} articles, full build, medians of {args.rounds}:")
    for i, what in enumerate(("wall", "CPU")):
        before = statistics.median(t[i] for t in times["before"])
        after = statistics.median(t[i] for t in times["after"])
        print(
            f"  {what:4}: before {before:.2f} s   after {after:.2f} s   after/before "
            f"{after / before:.3f}"
        )
    shutil.rmtree(OUT, ignore_errors=True)


if __name__ == "__main__":
    main()
