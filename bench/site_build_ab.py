"""Full site build time of two finews source trees on one store, taking turns.

    .venv/bin/python bench/site_build_ab.py BEFORE_SRC AFTER_SRC [N] [--rounds R]

e.g. ``bench/site_build_ab.py /work/main/src src 20000``: the store of N real flashes that
bench/site_build.py uses, made by the BEFORE tree (kept in bench/_work) and copied for each
tree, then R rounds (default 3) of ``finews build --full`` with each tree first on
PYTHONPATH — before, after, before, after … —
each into a fresh folder on this machine's disk (``--tmpfs``: /dev/shm, which hides the cost
of writing), so that a slow minute of this shared machine falls on
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


DISK = Path(__file__).resolve().parent / "_work" / "ab"
TMPFS = Path("/dev/shm/finews-ab")


def older_store(src: str, n: int, path: Path) -> None:
    """The store of ``n`` flashes that bench/site_build.py makes, made by the tree ``src``
    (kept in bench/_work/ab-store-<n>/ for the next run with the same tree)."""
    work = DISK.parent / f"ab-store-{n}-{Path(src).resolve().name}"
    script = (
        "import sys, pathlib, shutil, site_build; "
        "site_build.WORK = pathlib.Path(sys.argv[1]); site_build.WORK.mkdir(exist_ok=True); "
        "shutil.copy(site_build.make_store(int(sys.argv[2])), sys.argv[3])"
    )
    bench = Path(__file__).resolve().parent
    env = {**os.environ, "PYTHONPATH": f"{Path(src).resolve()}:{bench}"}
    subprocess.run(
        [sys.executable, "-c", script, str(work), str(n), str(path)], env=env, check=True
    )


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
    parser.add_argument("--tmpfs", action="store_true", help="write the builds to /dev/shm")
    args = parser.parse_args()
    out = TMPFS if args.tmpfs else DISK
    out.mkdir(parents=True, exist_ok=True)
    # each tree its own copy of one store, made by the older tree: the newer tree migrates
    # its copy on opening, while the older one refuses a store of a newer schema
    stores = {label: out / f"{label}.db" for label in ("before", "after")}
    older_store(args.before, args.n, stores["before"])
    shutil.copy(stores["before"], stores["after"])
    times: dict[str, list[tuple[float, float]]] = {"before": [], "after": []}
    for k in range(args.rounds):
        for label, src in (("before", args.before), ("after", args.after)):
            wall, cpu = build(src, stores[label], out / label)
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
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
