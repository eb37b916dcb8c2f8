"""Import speed of `finews import jekyll`, in posts per second.

Replicates the real posts of tests/data/jekyll/real under new ids and times
(bodies unchanged), then times the real importer into a fresh SQLite file.
Run: .venv/bin/python bench/import_jekyll.py [N]
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from finews.jekyll.importer import import_jekyll
from finews.jekyll.read import parse_post
from finews.jekyll.write import JekyllOptions, post_filename, render_post
from finews.store import Store

REAL = Path(__file__).resolve().parents[1] / "tests" / "data" / "jekyll" / "real"


def main(n: int) -> None:
    real = []
    for p in sorted(REAL.rglob("*.md")):
        try:
            real.append(parse_post(p.read_text(encoding="utf-8"), str(p)))
        except Exception:  # the one real post with an empty title
            continue
    real.append(parse_post((REAL / "seed-2021-12-29-NW202112292230344237.txt").read_text(), "s"))
    with tempfile.TemporaryDirectory() as tmp:
        posts = Path(tmp) / "posts"
        posts.mkdir()
        for i in range(n):
            base = real[i % len(real)]
            new_id = f"{base.upstream_id[:8]}{i:010d}"
            a = replace(
                base,
                upstream_id=new_id,
                url=re.sub(r"(,|infoCode=)[0-9A-Z]+", rf"\g<1>{new_id}", base.url),
                published=base.published + timedelta(minutes=i),
            )
            (posts / post_filename(a)).write_text(render_post(a, JekyllOptions()), "utf-8")
        size = sum(p.stat().st_size for p in posts.iterdir())
        store = Store.open(f"sqlite:///{tmp}/bench.db")
        t0 = time.perf_counter()
        report = import_jekyll(store, [posts])
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = import_jekyll(store, [posts])
        second = time.perf_counter() - t0
        store.close()
    print(f"posts: {n} ({size / 1e6:.1f} MB)")
    print(f"first import:  {first:.2f} s  {n / first:,.0f} posts/s  {dict(report.saved.counts)}")
    print(f"re-import:     {second:.2f} s  {n / second:,.0f} posts/s  {dict(again.saved.counts)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
