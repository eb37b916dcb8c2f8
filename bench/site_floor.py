"""The floor under a full finews build: only writing its files, against Hugo's whole build.

One command:  .venv/bin/python bench/site_floor.py   (after bench/site_build.py 20000)

Reads the finews output bench/site_build.py left (finews-out-20000-0 in its --out-root: every page
and feed, already rendered) into memory, then in one run, each into a fresh folder after
`sync`:
- Hugo's full build of the same 20,000 articles (bench/_work/hugo-20000);
- writing the finews files with `write_atomic` (temporary file + rename, what issue #4
  asks for), split over two processes as the build does;
- the same with plain writes (no temporary file), for reference.
No rendering, no database, no sanitising: whatever a build does on top comes on top of this.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from multiprocessing import get_context
from pathlib import Path

from finews.outputs.files import write_atomic

WORK = Path(__file__).resolve().parent / "_work"
SOURCE = next(
    (
        p
        for p in (Path("/dev/shm/finews-bench/finews-out-20000-0"), WORK / "finews-out-20000-0")
        if p.exists()
    ),
    WORK / "finews-out-20000-0",
)
HUGO_SITE = WORK / "hugo-20000"
FILES: list[tuple[str, bytes]] = []


def fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    subprocess.run(["sync"], check=True)
    return folder


def _write_slice(args: tuple[str, int, int, bool]) -> int:
    out, start, step, atomic = args
    base = Path(out)
    for rel, data in FILES[start::step]:
        path = base / rel
        if atomic:
            write_atomic(path, data)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return 0


def write_all(out: Path, atomic: bool, workers: int = 2) -> float:
    started = time.perf_counter()
    with get_context("fork").Pool(workers) as pool:
        pool.map(_write_slice, [(str(out), i, workers, atomic) for i in range(workers)])
    return time.perf_counter() - started


def main() -> None:
    if not SOURCE.exists() or not HUGO_SITE.exists():
        raise SystemExit("run bench/site_build.py 20000 first")
    for path in sorted(SOURCE.rglob("*")):
        if path.is_file() and ".finews" not in path.parts:
            FILES.append((str(path.relative_to(SOURCE)), path.read_bytes()))
    size = sum(len(d) for _, d in FILES)
    print(f"finews output: {len(FILES):,} files, {size / 1e6:.0f} MB")
    out = fresh(WORK / "floor-hugo-out")
    started = time.perf_counter()
    subprocess.run(["hugo", "--quiet", "-s", str(HUGO_SITE), "-d", str(out)], check=True)
    hugo = time.perf_counter() - started
    hugo_files = sum(1 for p in out.rglob("*") if p.is_file())
    atomic = write_all(fresh(WORK / "floor-atomic"), atomic=True)
    plain = write_all(fresh(WORK / "floor-plain"), atomic=False)
    print(f"Hugo full build ({hugo_files:,} files)      {hugo:6.2f} s")
    print(f"finews files, write_atomic, 2 processes   {atomic:6.2f} s  = {atomic / hugo:.2f}× Hugo")
    print(f"finews files, plain writes, 2 processes   {plain:6.2f} s  = {plain / hugo:.2f}× Hugo")
    print(f"cpus: {os.cpu_count()}")
    for folder in ("floor-hugo-out", "floor-atomic", "floor-plain"):
        shutil.rmtree(WORK / folder, ignore_errors=True)


if __name__ == "__main__":
    main()
