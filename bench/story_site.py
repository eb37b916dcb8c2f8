"""The site of the 20,000 newest flashes, with this code and with an older one (#10).

    .venv/bin/python bench/story_site.py                      # this checkout only
    .venv/bin/python bench/story_site.py --before ../old/src  # and an older checkout's src/

For each code version, in its own process: store the 20,000 newest flashes of
shared/corpus/flash (finews' adapters and stock tagger, then the store's write path, which
groups them into stories) in a SQLite file on this machine's disk, build the whole site
into a folder on the same disk, and report the largest story, the site's size, the largest
article page and how many pages pass 32 KB, and the build time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def measure(newest: int) -> dict[str, object]:
    sys.path.insert(0, str(HERE))
    from story_pairs import corpus

    from finews.process.pipeline import Processor
    from finews.site.build import SiteOptions, build_site
    from finews.store import Store

    process = Processor.default()
    flashes = sorted(corpus(), key=lambda a: (a.published, a.key))[-newest:]
    with tempfile.TemporaryDirectory(dir=HERE) as tmp:
        with Store.open(f"sqlite:///{tmp}/site.db") as store:
            started = time.perf_counter()
            for i in range(0, len(flashes), 500):
                store.save([process(a) for a in flashes[i : i + 500]])
            stored = time.perf_counter() - started
            with store.engine.connect() as conn:
                sizes = conn.exec_driver_sql(
                    "SELECT COUNT(*) FROM articles GROUP BY cluster_id ORDER BY 1 DESC"
                ).all()
            out = Path(tmp) / "site"
            started = time.perf_counter()
            build_site(store, out, SiteOptions(base_url="https://example.org/"), full=True)
            built = time.perf_counter() - started
        pages = [p for p in out.rglob("*") if p.is_file()]
        articles = [p.stat().st_size for p in out.glob("a/*/*.html")]
        return {
            "flashes": len(flashes),
            "store_seconds": round(stored, 1),
            "stories": len(sizes),
            "largest_story": sizes[0][0],
            "build_seconds": round(built, 2),
            "site_mb": round(sum(p.stat().st_size for p in pages) / 1e6, 1),
            "files": len(pages),
            "largest_article_kb": round(max(articles) / 1024, 1),
            "article_pages_over_32kb": sum(1 for s in articles if s > 32 * 1024),
        }


def run(src: Path, newest: int) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(newest)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", type=Path, help="src/ of an older checkout")
    parser.add_argument("--newest", type=int, default=20_000)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    versions = {"this code": HERE.parent / "src"}
    if args.before:
        versions = {"before": args.before.resolve(), **versions}
    for name, src in versions.items():
        print(f"{name:10} {json.dumps(run(src, args.newest), ensure_ascii=False)}", flush=True)


if __name__ == "__main__":
    main()
