"""finews vs Hugo vs Jekyll: full site builds, and an incremental round.

One command, one run, side by side:  .venv/bin/python bench/site_build.py [SIZES…]
(default sizes 2000 20000).  For each size it loads that many real articles
(the 82,457 real flashes of shared/corpus/flash, replicated beyond that) into
a fresh SQLite store, then builds, each into a fresh folder after `sync`, under
/usr/bin/time for wall time and peak memory:
- the finews site;
- **the same page set with Hugo** (Debian's hugo): a page per article with its
  media, day and stock links and the other reports of its story; media pages
  paginated by 50; a page per day; a page per stock; the indexes of media, days
  and stocks; the home page; RSS, Atom and JSON Feed for the site, each media
  and each stock; sitemap; 404 (see HUGO_SAME_CONFIG) — the comparison the
  issue's target is about;
- *the original site's page set* with Hugo and with Jekyll (Debian's jekyll +
  jekyll-feed, fed by `finews export jekyll`): a page per article, a page per
  media, the home page with each media's five newest, one feed — the numbers
  the issue quotes.  Jekyll is skipped where the last size it ran projects past
  10 minutes.
Finally: a 100,000-article store, one full build, 100 new articles, one
incremental build.
"""

from __future__ import annotations

import argparse
import compileall
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

import finews
from finews.jekyll.export import export_jekyll
from finews.jekyll.slug import ascii_slug
from finews.jekyll.write import JekyllOptions
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
    global LAST_STDOUT
    LAST_STDOUT = result.stdout
    return wall, peak_kb / 1024


LAST_STDOUT = ""
"""What the last timed command printed."""


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


def hugo_site(site: Path, config: str, layouts: dict[str, str]) -> Path:
    """A Hugo site folder with its configuration and layouts; its posts folder."""
    posts = site / "content" / "posts"
    posts.mkdir(parents=True)
    (site / "config.toml").write_text(config, encoding="utf-8")
    for name, text in layouts.items():
        (site / "layouts" / name).parent.mkdir(parents=True, exist_ok=True)
        (site / "layouts" / name).write_text(text, encoding="utf-8")
    return posts


def make_hugo(db: Path, n: int) -> Path:
    site = WORK / f"hugo-{n}"
    if (site / "content").exists():
        return site
    posts = hugo_site(site, HUGO_CONFIG, HUGO_LAYOUTS)
    with Store.open(f"sqlite:///{db}") as store:
        for i, a in enumerate(store.iter_articles()):
            title = a.title.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
            front = (
                f'---\ntitle: "{title}"\ndate: {a.published.isoformat()}\n'
                f'categories: ["{a.media}"]\nslug: "{ascii_slug(a.source)}-{i}"\n---\n'
            )
            (posts / f"{i}.md").write_text(front + a.body_html + "\n", encoding="utf-8")
    return site


# The finews page set, built by Hugo: what finews builds, in Hugo's own terms.  Sections
# are the `categories` taxonomy (paginated by 50, with RSS, Atom and JSON Feed), days the
# `days` taxonomy (one page per day, every article), stocks the `stocks` taxonomy (the
# newest 100 articles, with the three feeds), the taxonomies' own list pages stand for
# finews' indexes of media, days and stocks; the home page lists the 30 newest and each
# media's five newest, with the three feeds; article pages show media, day and stock
# links and the other reports of the same story; sitemap and 404 page on.
HUGO_SAME_CONFIG = """baseURL = "http://127.0.0.1:8000/"
languageCode = "zh-CN"
title = "金融消息"
disableKinds = ["robotsTXT", "section"]
paginate = 50
[taxonomies]
category = "categories"
day = "days"
stock = "stocks"
[services.rss]
limit = 50
[mediaTypes."application/atom+xml"]
suffixes = ["xml"]
[mediaTypes."application/feed+json"]
suffixes = ["json"]
[outputFormats.Atom]
mediaType = "application/atom+xml"
baseName = "atom"
[outputFormats.JSONFeed]
mediaType = "application/feed+json"
baseName = "feed"
isPlainText = true
[outputs]
home = ["HTML", "RSS", "Atom", "JSONFeed"]
term = ["HTML", "RSS", "Atom", "JSONFeed"]
taxonomy = ["HTML"]
page = ["HTML"]
[markup.goldmark.renderer]
unsafe = true
"""
_ITEM = (
    '<li><time datetime="{{ .Date.Format "2006-01-02T15:04:05-07:00" }}">'
    '{{ .Date.Format "01-02 15:04" }}</time><a href="{{ .RelPermalink }}">{{ .Title }}</a>'
    "{{ range .Params.categories }}<span>{{ . }}</span>{{ end }}</li>"
)
_FEED_ITEMS = "{{ $pages := first 50 .Pages }}{{ if .IsHome }}"
_FEED_ITEMS += "{{ $pages = first 50 .Site.RegularPages }}"
_FEED_ITEMS += '{{ else if eq .Data.Plural "stocks" }}{{ $pages = first 20 .Pages }}{{ end }}'
HUGO_SAME_LAYOUTS = {
    "_default/baseof.html": '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>{{ .Title }} · {{ .Site.Title }}</title>"
    '<link rel="stylesheet" href="{{ "style.css" | relURL }}">'
    '{{ with .OutputFormats.Get "atom" }}<link rel="alternate" type="application/atom+xml" '
    'href="{{ .RelPermalink }}">{{ end }}</head><body><header><a href="{{ "/" | relURL }}">'
    '{{ .Site.Title }}</a></header><main>{{ block "main" . }}{{ end }}</main>'
    "<footer>finews</footer></body></html>",
    "_default/single.html": '{{ define "main" }}<article><h1>{{ .Title }}</h1><p class="meta">'
    '<time datetime="{{ .Date.Format "2006-01-02T15:04:05-07:00" }}">'
    '{{ .Date.Format "2006-01-02 15:04:05" }} (UTC+8)</time>'
    '{{ range .Params.categories }}<a href="{{ "categories/" | relURL }}{{ . | urlize }}/">'
    "{{ . }}</a>{{ end }}"
    '{{ range .Params.stocks }}<a href="{{ "stocks/" | relURL }}{{ . | urlize }}/">{{ . }}</a>'
    "{{ end }}</p>{{ .Content }}"
    '{{ with .Params.source }}<p>原文：<a href="{{ . }}">{{ . }}</a></p>{{ end }}'
    "{{ with .Params.also }}<section><h2>也报道了此事</h2><ul>{{ range . }}"
    '<li><a href="{{ .path | relURL }}">{{ .title }}</a></li>{{ end }}</ul></section>{{ end }}'
    '<p>{{ range .Params.categories }}<a href="{{ "categories/" | relURL }}{{ . | urlize }}/">'
    "返回{{ . }}</a>{{ end }}"
    '{{ range .Params.days }}<a href="{{ "days/" | relURL }}{{ . | urlize }}/">{{ . }}</a>'
    '{{ end }}<a href="{{ "/" | relURL }}">返回首页</a></p></article>{{ end }}',
    "_default/term.html": '{{ define "main" }}<h1>{{ .Title }}</h1><ul>'
    '{{ if eq .Data.Plural "categories" }}{{ range .Paginator.Pages }}' + _ITEM + "{{ end }}"
    '{{ else if eq .Data.Plural "stocks" }}{{ range first 100 .Pages }}' + _ITEM + "{{ end }}"
    "{{ else }}{{ range .Pages }}" + _ITEM + "{{ end }}{{ end }}</ul>"
    '{{ if eq .Data.Plural "categories" }}{{ with .Paginator }}'
    '{{ with .Prev }}<a href="{{ .URL }}">较新</a>{{ end }}'
    '{{ with .Next }}<a href="{{ .URL }}">较早</a>{{ end }}{{ end }}{{ end }}{{ end }}',
    "_default/taxonomy.html": '{{ define "main" }}<h1>{{ .Title }}</h1><ul>'
    '{{ range .Data.Terms.ByCount }}<li><a href="{{ .Page.RelPermalink }}">{{ .Page.Title }}'
    "</a> {{ .Count }}</li>{{ end }}</ul>{{ end }}",
    "index.html": '{{ define "main" }}<h1>最新消息</h1><ul>'
    '{{ range first 30 (where .Site.RegularPages "Type" "posts") }}' + _ITEM + "{{ end }}</ul>"
    "{{ range .Site.Taxonomies.categories }}<h2>{{ .Page.Title }}</h2>"
    "<ul>{{ range first 5 .Pages }}" + _ITEM + "{{ end }}</ul>{{ end }}{{ end }}",
    "_default/list.atom.xml": '<?xml version="1.0" encoding="utf-8"?>'
    '<feed xmlns="http://www.w3.org/2005/Atom"><title>{{ .Title }}</title>'
    "<id>{{ .Permalink }}</id>" + _FEED_ITEMS + "{{ range $pages }}<entry><id>{{ .Permalink }}"
    "</id><title>{{ .Title }}</title><updated>{{ .Date.Format "
    '"2006-01-02T15:04:05-07:00" }}</updated><link href="{{ .Permalink }}"/>'
    '<content type="html">{{ .Content | html }}</content></entry>{{ end }}</feed>',
    "_default/list.jsonfeed.json": '{"version":"https://jsonfeed.org/version/1.1",'
    '"title":{{ .Title | jsonify }},"items":[' + _FEED_ITEMS + "{{ range $i, $p := $pages }}"
    '{{ if $i }},{{ end }}{"id":{{ $p.Permalink | jsonify }},"title":{{ $p.Title | jsonify }},'
    '"content_html":{{ $p.Content | jsonify }},"date_published":'
    '{{ $p.Date.Format "2006-01-02T15:04:05-07:00" | jsonify }}}{{ end }}]}',
    "404.html": '{{ define "main" }}<h1>找不到这个页面</h1>{{ end }}',
}


def make_hugo_same(db: Path, n: int) -> Path:
    """A Hugo site that builds finews' own page set from the same articles."""
    from finews.store import sitequeries as q

    site = WORK / f"hugo-same-{n}"
    if (site / "content").exists():
        return site
    posts = hugo_site(site, HUGO_SAME_CONFIG, HUGO_SAME_LAYOUTS)
    # days: a page each, no feeds (as in finews)
    (site / "content" / "days").mkdir(parents=True)
    (site / "content" / "days" / "_index.md").write_text(
        '{"title": "days", "cascade": {"outputs": ["HTML"]}}\n', encoding="utf-8"
    )
    (site / "static").mkdir()
    (site / "static" / "style.css").write_text("body{font-family:sans-serif}\n")
    with Store.open(f"sqlite:///{db}") as store, store.snapshot() as conn:
        items = q.all_items(conn)
        slug_of = {it.id: f"{ascii_slug(it.source)}-{it.id}" for it in items}
        clusters: dict[int, list[int]] = {}
        for it in items:
            clusters.setdefault(it.cluster, []).append(it.id)
        title_of = {it.id: it.title for it in items}
        cluster_of = {it.id: it.cluster for it in items}
        for row_id, a, _, _ in q.iter_all_articles(conn):
            also = [
                {"title": title_of[i], "path": f"/posts/{slug_of[i]}/"}
                for i in clusters.get(cluster_of[row_id], [])
                if i != row_id
            ]
            day = a.published_beijing.strftime("%Y-%m-%d")
            front = {
                "title": a.title.replace("\n", " "),
                "date": a.published.isoformat(),
                "categories": [a.category or a.media or a.source],
                "days": [day],
                "stocks": [s.code for s in a.stocks],
                "slug": slug_of[row_id],
                "source": a.url,
                "also": also,
            }
            text = json.dumps(front, ensure_ascii=False) + "\n\n" + a.body_html + "\n"
            (posts / f"{row_id}.md").write_text(text, encoding="utf-8")
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


OUT = WORK
"""Where the builds write (--out-root).  By default a tmpfs (/dev/shm): on this machine's
ext4 disk, creating tens of thousands of files minutes after others were deleted spends up
to a third of a build in the kernel skipping recently freed inodes (perf: ext4_create →
recently_deleted), by an amount that changed from run to run and from tool to tool with
where their folders landed; in memory every tool writes the same way."""
SETTLE = 65.0
"""Seconds between removing the last outputs and the next builds, on a disk (see OUT)."""


def fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run(["sync"], check=True)
    return path


def median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    """Median wall time and median peak memory of a tool's runs."""
    walls = sorted(w for w, _ in runs)
    mems = sorted(m for _, m in runs)
    return walls[len(walls) // 2], mems[len(mems) // 2]


def files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file() and ".finews" not in p.parts)


def incremental(n: int, new: int) -> None:
    db = make_store(n)
    out = fresh(OUT / f"finews-out-inc-{n}")
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
    wall, mem = timed([FINEWS, "--db", str(db), "build", "--out", str(out), "--json"])
    print(
        f"finews incremental build, {new} new into {n:,}: {wall:.2f} s, {mem:.0f} MB "
        f"({LAST_STDOUT and json.loads(LAST_STDOUT)['seconds']:.2f} s of it inside the process: "
        "what a round of `finews run` pays)"
    )
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


def finews_only(db: Path, n: int, repeat: int) -> None:
    """``repeat`` full finews builds of the ``n``-article store, each into a fresh folder."""
    outs = [fresh(OUT / f"finews-out-{n}-{k}") for k in range(repeat)]
    if not str(OUT).startswith("/dev/shm"):
        time.sleep(SETTLE)
    runs = []
    for k, out in enumerate(outs):
        runs.append(timed([FINEWS, "--db", str(db), "build", "--out", str(out), "--full"]))
        print(f"  {n:,} run {k + 1}: finews {runs[-1][0]:.2f} s, {runs[-1][1]:.0f} MB", flush=True)
    wall, mem = median(runs)
    print(f"| {n:,} | {wall:.2f} | {mem:.0f} | {files(outs[0]):,} |  (median of {repeat})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[2000, 20000])
    parser.add_argument("--incremental", type=int, default=100_000, help="0 to skip")
    parser.add_argument(
        "--out-root",
        default="/dev/shm/finews-bench" if Path("/dev/shm").is_dir() else str(WORK),
        help="folder the builds write into (default: a tmpfs, see OUT)",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="builds per tool and size (medians reported)"
    )
    parser.add_argument(
        "--jekyll-max", type=int, default=20_000, help="largest size Jekyll is tried at"
    )
    parser.add_argument(
        "--finews-only",
        action="store_true",
        help="finews' full builds alone (no Hugo, no Jekyll: a machine without them, or "
        "finews against an earlier finews)",
    )
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    # finews as installed: pip compiles a wheel's modules to bytecode, while this editable
    # checkout (and PYTHONDONTWRITEBYTECODE on this machine) would compile them on every
    # start, 0.2 s of each command (Hugo and Jekyll start from their installed forms too)
    compileall.compile_dir(Path(finews.__file__).parent, quiet=1)
    global OUT
    OUT = Path(args.out_root)
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"builds write into {OUT}", flush=True)
    rows = []
    jekyll_rate = None
    if args.finews_only:
        for n in args.sizes:
            finews_only(make_store(n), n, args.repeat)
        return
    for n in args.sizes:
        db = make_store(n)
        hugo_site, jekyll_site = make_hugo(db, n), make_jekyll(db, n)
        same_site = make_hugo_same(db, n)
        # every repetition builds into folders of its own, all removed before the first
        # (see SETTLE); the three builds take turns, so a slow minute of this shared
        # machine falls on all of them
        runs = range(args.repeat)
        outs = [fresh(OUT / f"finews-out-{n}-{k}") for k in runs]
        s_outs = [fresh(OUT / f"hugo-same-out-{n}-{k}") for k in runs]
        h_outs = [fresh(OUT / f"hugo-out-{n}-{k}") for k in runs]
        if not str(OUT).startswith("/dev/shm"):
            time.sleep(SETTLE)
        f_runs, s_runs, h_runs = [], [], []
        for k in runs:
            f_runs.append(
                timed([FINEWS, "--db", str(db), "build", "--out", str(outs[k]), "--full"])
            )
            s_runs.append(timed(["hugo", "--quiet", "-s", str(same_site), "-d", str(s_outs[k])]))
            h_runs.append(timed(["hugo", "--quiet", "-s", str(hugo_site), "-d", str(h_outs[k])]))
            print(
                f"  {n:,} run {k + 1}: finews {f_runs[-1][0]:.2f} s, Hugo (same set) "
                f"{s_runs[-1][0]:.2f} s = {f_runs[-1][0] / s_runs[-1][0]:.2f}×, Hugo (original) "
                f"{h_runs[-1][0]:.2f} s",
                flush=True,
            )
        (f_wall, f_mem), (s_wall, s_mem), (h_wall, h_mem) = (
            median(f_runs),
            median(s_runs),
            median(h_runs),
        )
        out, s_out, h_out = outs[0], s_outs[0], h_outs[0]
        row = [n, f_wall, f_mem, files(out), s_wall, s_mem, files(s_out)]
        row += [h_wall, h_mem, files(h_out)]
        if n <= args.jekyll_max and (jekyll_rate is None or jekyll_rate * n <= JEKYLL_LIMIT):
            j_out = fresh(OUT / f"jekyll-out-{n}")
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
        "\nmedians; finews and Hugo build the same page set (finews'); Hugo (original) and"
        " Jekyll build the original site's smaller set\n"
    )
    print(
        "| articles | finews s | finews MB | finews files | Hugo s | Hugo MB | Hugo files "
        "| finews/Hugo time | finews/Hugo memory | Hugo (original) s | Hugo (original) MB "
        "| Hugo (original) files | Jekyll s | Jekyll MB | finews/Jekyll time |"
    )
    print("|" + " --- |" * 15)
    for n, fw, fm, fp, sw, sm, sp, hw, hm, hp, jw, jm in rows:  # type: ignore[misc]
        jekyll = f"{jw:.1f} | {jm:.0f}" if jw else "not run (> 10 min projected) | –"
        ratio_j = f"{fw / jw:.3f}" if jw else "–"
        print(
            f"| {n:,} | {fw:.2f} | {fm:.0f} | {fp:,} | {sw:.2f} | {sm:.0f} | {sp:,} "
            f"| **{fw / sw:.2f}** | **{fm / sm:.2f}** | {hw:.2f} | {hm:.0f} | {hp:,} "
            f"| {jekyll} | {ratio_j} |"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    os.environ.setdefault("FINEWS_CONFIG", "/dev/null")
    main()
