"""finews vs Hugo vs Jekyll: full site builds, and an incremental round.

One command, one run, side by side:  .venv/bin/python bench/site_build.py [SIZES…]
(default sizes 2000 20000).  For each size it loads that many real articles
(the 82,457 real flashes of shared/corpus/flash, replicated beyond that) into
a fresh SQLite store, then builds *the original page set* — a page per
article, a page per media, the home page with each media's five newest, a
feed — with Hugo (Debian's hugo) and Jekyll (Debian's jekyll + jekyll-feed,
from finews' own Jekyll export), and the finews site (which is a superset:
also day pages, paginated media pages, three feed formats per media,
sitemaps).  Every build runs in a fresh output folder after `sync`, under
/usr/bin/time for wall time and peak memory.  Jekyll is skipped where the
last size it ran projects past 10 minutes.  Finally: a 100,000-article store,
one full build, 100 new articles, one incremental build.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import articles

from finews.formats.jekyll import JekyllOptions
from finews.formats.slug import ascii_slug
from finews.outputs.jekyll_export import export_jekyll
from finews.store import Store

WORK = Path(__file__).resolve().parent / "_work"
FINEWS = str(Path(sys.executable).parent / "finews")
JEKYLL_LIMIT = 600.0


def timed(
    cmd: list[str], cwd: Path | None = None, timeout: float | None = None
) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of a command, measured by /usr/bin/time."""
    subprocess.run(["sync"], check=True)
    started = time.perf_counter()
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *cmd],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    peak_kb = int(result.stderr.strip().splitlines()[-1])
    return wall, peak_kb / 1024


def make_store(n: int) -> Path:
    db = WORK / f"store-{n}.db"
    if db.exists():
        return db
    with Store.open(f"sqlite:///{db}") as store:
        batch = []
        for a in articles(n):
            batch.append(a)
            if len(batch) == 2000:
                store.save(batch)
                batch = []
        store.save(batch)
    return db


HUGO_CONFIG = """baseURL = "http://127.0.0.1:8000/"
languageCode = "zh-CN"
title = "金融消息"
disableKinds = ["taxonomy", "section", "sitemap", "robotsTXT", "404"]
ignoreErrors = ["error-disable-taxonomy"]
[taxonomies]
category = "categories"
[outputs]
home = ["HTML", "RSS"]
term = ["HTML"]
page = ["HTML"]
[markup.goldmark.renderer]
unsafe = true
"""
HUGO_LAYOUTS = {
    "_default/baseof.html": '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
    '<title>{{ .Title }}</title></head><body>{{ block "main" . }}{{ end }}</body></html>',
    "_default/single.html": '{{ define "main" }}<article><h1>{{ .Title }}</h1>'
    '<p>{{ .Date.Format "2006-01-02 15:04:05 -0700" }} {{ range .Params.categories }}'
    '<a href="{{ "categories/" | relURL }}{{ . | urlize }}/">{{ . }}</a>{{ end }}</p>'
    '{{ .Content }}<p><a href="{{ "/" | relURL }}">返回首页</a></p></article>{{ end }}',
    "_default/term.html": '{{ define "main" }}<h1>{{ .Title }}</h1><ul>{{ range .Pages }}'
    '<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ .Date.Format "2006-01-02 15:04" }}</li>'
    "{{ end }}</ul>{{ end }}",
    "index.html": '{{ define "main" }}{{ range .Site.Taxonomies.categories }}'
    "<h2>{{ .Page.Title }}</h2>"
    '<ul>{{ range first 5 .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>'
    "{{ end }}</ul>{{ end }}{{ end }}",
}


def make_hugo(db: Path, n: int) -> Path:
    site = WORK / f"hugo-{n}"
    if (site / "content").exists():
        return site
    posts = site / "content" / "posts"
    posts.mkdir(parents=True)
    (site / "config.toml").write_text(HUGO_CONFIG, encoding="utf-8")
    for name, text in HUGO_LAYOUTS.items():
        (site / "layouts" / name).parent.mkdir(parents=True, exist_ok=True)
        (site / "layouts" / name).write_text(text, encoding="utf-8")
    with Store.open(f"sqlite:///{db}") as store:
        for i, a in enumerate(store.iter_articles()):
            title = a.title.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
            front = (
                f'---\ntitle: "{title}"\ndate: {a.published.isoformat()}\n'
                f'categories: ["{a.media}"]\nslug: "{ascii_slug(a.source)}-{i}"\n---\n'
            )
            (posts / f"{i}.md").write_text(front + a.body_html + "\n", encoding="utf-8")
    return site


JEKYLL_FILES = {
    "_config.yml": "title: 金融消息\nurl: http://127.0.0.1:8000\nplugins:\n  - jekyll-feed\n"
    "markdown: kramdown\n",
    "_layouts/default.html": '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
    "<title>{{ page.title }}</title>{% feed_meta %}</head><body>{{ content }}</body></html>",
    "_layouts/post.html": "---\nlayout: default\n---\n<article><h1>{{ page.title }}</h1>"
    '<p>{{ page.date | date: "%Y-%m-%d %H:%M:%S %z" }}</p>{{ content }}</article>',
    "_layouts/page.html": "---\nlayout: default\n---\n<h1>{{ page.title }}</h1>{{ content }}",
    "index.html": "---\nlayout: default\ntitle: 金融消息\n---\n{% for c in site.categories %}"
    "<h2>{{ c[0] }}</h2><ul>{% for post in c[1] limit:5 %}"
    '<li><a href="{{ post.url | relative_url }}">{{ post.title }}</a></li>{% endfor %}</ul>'
    "{% endfor %}",
}


def make_jekyll(db: Path, n: int) -> Path:
    site = WORK / f"jekyll-{n}"
    if (site / "_posts").exists():
        return site
    with Store.open(f"sqlite:///{db}") as store:
        export_jekyll(store, site, JekyllOptions(site_url=""))
    for name, text in JEKYLL_FILES.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text, encoding="utf-8")
    return site


def fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run(["sync"], check=True)
    return path


def incremental(n: int, new: int) -> None:
    db = make_store(n)
    out = fresh(WORK / f"finews-out-inc-{n}")
    wall, mem = timed([FINEWS, "--db", str(db), "build", "--out", str(out), "--full"])
    print(f"finews full build, {n:,} articles: {wall:.2f} s, {mem:.0f} MB")
    with Store.open(f"sqlite:///{db}") as store:
        newest = list(store.iter_articles(newest_first=True))[:new]
        stamp = int(time.time())
        store.save(
            replace(
                a,
                upstream_id=f"{a.upstream_id}n{stamp}",
                published=a.published + timedelta(hours=1),
            )
            for a in newest
        )
    wall, mem = timed([FINEWS, "--db", str(db), "build", "--out", str(out)])
    print(f"finews incremental build, {new} new into {n:,}: {wall:.2f} s, {mem:.0f} MB")
    inner = subprocess.run(
        [FINEWS, "--db", str(db), "build", "--out", str(out), "--json"],
        capture_output=True,
        text=True,
    )
    seconds = json.loads(inner.stdout)["seconds"]
    print(f"  (then a build with nothing new: {seconds:.2f} s inside the process)")
    with Store.open(f"sqlite:///{db}") as store:
        # remove the added ones again so that the next run starts from the same store
        store.delete(
            [a.key for a in store.iter_articles() if re.search(r"n\d{10}$", a.upstream_id)]
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[2000, 20000])
    parser.add_argument("--incremental", type=int, default=100_000, help="0 to skip")
    parser.add_argument(
        "--jekyll-max", type=int, default=20_000, help="largest size Jekyll is tried at"
    )
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    rows = []
    jekyll_rate = None
    for n in args.sizes:
        db = make_store(n)
        hugo_site, jekyll_site = make_hugo(db, n), make_jekyll(db, n)
        out = fresh(WORK / f"finews-out-{n}")
        f_wall, f_mem = timed([FINEWS, "--db", str(db), "build", "--out", str(out), "--full"])
        h_out = fresh(WORK / f"hugo-out-{n}")
        h_wall, h_mem = timed(["hugo", "--quiet", "-s", str(hugo_site), "-d", str(h_out)])
        pages = sum(1 for _ in out.rglob("*.html"))
        h_pages = sum(1 for _ in h_out.rglob("*.html"))
        row = [n, f_wall, f_mem, pages, h_wall, h_mem, h_pages]
        if n <= args.jekyll_max and (jekyll_rate is None or jekyll_rate * n <= JEKYLL_LIMIT):
            j_out = fresh(WORK / f"jekyll-out-{n}")
            try:
                j_wall, j_mem = timed(
                    ["jekyll", "build", "--quiet", "-s", str(jekyll_site), "-d", str(j_out)],
                    timeout=JEKYLL_LIMIT,
                )
                jekyll_rate = j_wall / n
                row += [j_wall, j_mem]
            except subprocess.TimeoutExpired:
                row += [None, None]
                jekyll_rate = JEKYLL_LIMIT / n
        else:
            row += [None, None]
        rows.append(row)
        print_table(rows)
    if args.incremental:
        incremental(args.incremental, 100)


def print_table(rows: list[list[object]]) -> None:
    print(
        "| articles | finews s | finews MB | finews pages | Hugo s | Hugo MB | Hugo pages "
        "| Jekyll s | Jekyll MB | finews/Hugo time | finews/Hugo memory | finews/Jekyll time |"
    )
    print("|" + " --- |" * 13)
    for n, fw, fm, fp, hw, hm, hp, jw, jm in rows:  # type: ignore[misc]
        jekyll = f"{jw:.1f} | {jm:.0f}" if jw else "not run (> 10 min projected) | –"
        ratio_j = f"{fw / jw:.3f}" if jw else "–"
        print(
            f"| {n:,} | {fw:.2f} | {fm:.0f} | {fp:,} | {hw:.2f} | {hm:.0f} | {hp:,} | {jekyll} "
            f"| {fw / hw:.2f} | {fm / hm:.2f} | {ratio_j} |"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    os.environ.setdefault("FINEWS_CONFIG", "/dev/null")
    main()
