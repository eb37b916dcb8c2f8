"""The static site: golden output, incremental = full, links, feeds, atomic publishing."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import feedparser
import jinja2
import pytest
from sqlalchemy import text

from conftest import BACKENDS, backend_url
from finews.errors import OutputError
from finews.outputs.files import Staging
from finews.process.clean import CLEAN_REVISION
from finews.site import SiteOptions, build_site
from finews.site.build import TEMPLATES
from finews.site.manifest import MANIFEST_DIR
from finews.store import Store
from sitedata import BASE_URL, populate, real_articles, story_case_articles
from standin import real_fast_items

GOLDEN = Path(__file__).parent / "golden" / "site"
GOLDEN_STORIES = [
    ("eastmoney.fast", "202606223778044153"),
    ("cls.telegraph", "2405626"),
    ("cls.telegraph", "2449383"),
    ("eastmoney.fast", "202608093835956454"),
]
OPTIONS = SiteOptions(base_url=BASE_URL, page_size=10, feed_size=20)


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and MANIFEST_DIR not in p.parts
    }


def broken_links(root: Path) -> list[str]:
    """Relative links in HTML pages that point at no file."""
    missing = []
    for page in root.rglob("*.html"):
        if page.name == "404.html":
            continue
        for href in re.findall(r'href="([^"#?]+)"', page.read_text(encoding="utf-8")):
            if "://" in href or href.startswith(("mailto:", "/")):
                continue
            if not (page.parent / href).resolve().exists():
                missing.append(f"{page.relative_to(root)} -> {href}")
    return missing


def test_golden_output(tmp_path: Path, store: Store) -> None:
    """A fixed set of real articles builds to the committed tree, file by file.

    Regenerate after an intended change: REGENERATE_GOLDEN=1 pytest tests/test_site.py
    """
    populate(store, fast=12, posts=12)
    # two stories told by two outlets each (issue #10): story pages, heat, "也报道了此事"
    pairs = {a.key: a for a in story_case_articles("pair")}
    store.save([pairs[key] for key in GOLDEN_STORIES])
    out = tmp_path / "site"
    build_site(store, out, OPTIONS)
    built = tree(out)
    if os.environ.get("REGENERATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for name, data in built.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_bytes(data)
    expected = tree(GOLDEN)
    assert sorted(built) == sorted(expected)
    for name in expected:
        assert built[name] == expected[name], f"{name} differs from the golden tree"


def test_page_set_and_links(tmp_path: Path, store: Store) -> None:
    articles = populate(store)
    out = tmp_path / "site"
    report = build_site(store, out, OPTIONS)
    assert report.full and report.articles == len(articles)
    for name in [
        "index.html", "404.html", "atom.xml", "rss.xml", "feed.json", "sitemap.xml",
        "c/index.html", "d/index.html", "assets/style.css", "c/emnews/index.html",
        "c/cai-lian-she/index.html", "d/2021-12-08.html", "d/2026-06-16.html",
        "a/2021-12-29/jekyll.NW202112292230344237.html",
    ]:  # fmt: skip
        assert (out / name).is_file(), name
    assert broken_links(out) == []
    # pagination covers the whole history of a section, newest first on the index
    emnews = sorted((out / "c" / "emnews").glob("p*.html"))
    assert emnews, "the rolling-news section should have older pages"
    listed = set()
    for page in [*emnews, out / "c" / "emnews" / "index.html"]:
        listed |= set(re.findall(r'href="\.\./\.\./(a/[^"]+)"', page.read_text(encoding="utf-8")))
    assert len(listed) == sum(1 for a in articles if a.category == "emnews")
    home = (out / "index.html").read_text(encoding="utf-8")
    assert 'lang="zh-CN"' in home and "http" not in home.split("<body>")[1].split("</nav>")[0]
    article = (out / "a/2021-12-29/jekyll.NW202112292230344237.html").read_text(encoding="utf-8")
    assert "西安银行" in article and "(UTC+8)" in article and "<script" not in article
    assert "EM_StockImg" not in article and "webquoteklinepic" not in article
    assert 'href="../../c/cai-lian-she/index.html"' in article
    assert 'href="../../index.html"' in article


def test_feeds_are_valid(tmp_path: Path, store: Store) -> None:
    populate(store)
    out = tmp_path / "site"
    build_site(store, out, OPTIONS)
    for folder in [out, out / "c" / "emnews", out / "c" / "cai-lian-she"]:
        for name in ["atom.xml", "rss.xml"]:
            parsed = feedparser.parse((folder / name).read_bytes())
            assert not parsed.bozo, (folder / name, parsed.get("bozo_exception"))
            assert parsed.entries
            assert len(parsed.entries) <= OPTIONS.feed_size
            ids = [e.id for e in parsed.entries]
            assert len(set(ids)) == len(ids) and all(i.startswith("tag:finews,2021:") for i in ids)
            assert all(e.link.startswith(BASE_URL) for e in parsed.entries)
        atom = (folder / "atom.xml").read_text(encoding="utf-8")
        stamps = re.findall(r"<(?:updated|published)>([^<]+)<", atom)
        assert stamps and all(s.endswith("+08:00") for s in stamps)
        feed = json.loads((folder / "feed.json").read_text(encoding="utf-8"))
        assert feed["version"] == "https://jsonfeed.org/version/1.1"
        assert all({"id", "url", "content_html", "date_published"} <= set(i) for i in feed["items"])
        dates = [i["date_published"] for i in feed["items"]]
        assert dates == sorted(dates, reverse=True)
    top = feedparser.parse((out / "atom.xml").read_bytes())
    newest = real_fast_items()[0]  # the newest real 7×24 item is the newest article
    assert top.entries[0].id == f"tag:finews,2021:eastmoney.fast/{newest['code']}"
    assert top.entries[0].title == newest["title"]


def test_incremental_equals_full_after_add_update_delete_move(tmp_path: Path, store: Store) -> None:
    articles = populate(store, fast=30)
    inc = tmp_path / "inc"
    first = build_site(store, inc, OPTIONS)
    assert first.full
    again = build_site(store, inc, OPTIONS)
    assert not again.full and again.rendered == 0 and again.written == 0

    emnews = [a for a in articles if a.category == "emnews"]
    fast = [a for a in articles if a.source == "eastmoney.fast"]
    newcomers = [
        replace(a, upstream_id=a.upstream_id + "9", title=a.title + "（新）",
                published=a.published + timedelta(days=1))
        for a in fast[:3]
    ]  # fmt: skip
    store.save(newcomers)
    store.save([replace(emnews[5], title="更正后的标题", body_html="<p>更正</p>")])
    store.save([replace(fast[4], media="证券时报", category="")])  # moves to another section
    store.save([replace(fast[6], published=fast[6].published - timedelta(days=3))])  # another day
    store.delete([emnews[0].key, emnews[1].key, fast[10].key])
    report = build_site(store, inc, OPTIONS)
    assert not report.full
    assert 0 < report.rendered < first.rendered / 2
    assert report.deleted >= 3

    assert_same_as_full(store, inc, tmp_path / "full")

    # a second round: enough new articles to open new pages, and an old one deleted
    # (every later page of its section shifts)
    store.save(
        replace(a, upstream_id=a.upstream_id + "8", published=a.published + timedelta(days=2))
        for a in fast[:25]
    )
    store.delete([emnews[3].key])
    report = build_site(store, inc, OPTIONS)
    assert not report.full
    assert_same_as_full(store, inc, tmp_path / "full2")


def assert_same_as_full(store: Store, built: Path, scratch: Path) -> None:
    build_site(store, scratch, OPTIONS, full=True)
    a, b = tree(built), tree(scratch)
    assert sorted(a) == sorted(b)
    for name in b:
        assert a[name] == b[name], name
    assert broken_links(built) == []


def test_template_override_and_config_change_rebuild(tmp_path: Path, store: Store) -> None:
    populate(store, fast=5, posts=5)
    out = tmp_path / "site"
    build_site(store, out, OPTIONS)
    custom = tmp_path / "templates"
    custom.mkdir()
    (custom / "404.html").write_text("<p>自定义 404</p>\n", encoding="utf-8")
    report = build_site(store, out, replace(OPTIONS, templates=str(custom)))
    assert report.full  # templates changed: everything again
    assert (out / "404.html").read_text(encoding="utf-8") == "<p>自定义 404</p>\n"
    # edited in place, with the same length: templates are compiled once a process, and
    # the compiled code of the old text must not be used for the new
    (custom / "404.html").write_text("<p>自定义 405</p>\n", encoding="utf-8")
    build_site(store, out, replace(OPTIONS, templates=str(custom)))
    assert (out / "404.html").read_text(encoding="utf-8") == "<p>自定义 405</p>\n"


def test_a_template_looping_over_listing_items_prints_the_same(
    tmp_path: Path, store: Store
) -> None:
    """The packaged templates print a listing's lines, a sitemap's URLs and a feed's
    entries in one piece (``items.html``, ``urls.xml``, ``feed.entries``); user templates
    printing them one by one get the same pages (the feeds then rendered by Jinja2, not
    filled in as skeletons)."""
    populate(store, fast=12, posts=12)
    packaged = tmp_path / "packaged"
    build_site(store, packaged, OPTIONS)
    custom = tmp_path / "templates"
    custom.mkdir()
    for name, joined in [("macros.html", "items.html"), ("sitemap.xml", "urls.xml")]:
        source = (TEMPLATES / name).read_text(encoding="utf-8")
        branch = f"{{%- if {joined} is defined %}}{{{{ {joined} }}}}{{% else %}}"
        assert branch in source
        looping = source.replace(branch, "{%- if false %}{% else %}")
        (custom / name).write_text(looping, encoding="utf-8")
    for kind in ("atom", "rss"):  # feeds: a loop over entries instead of feed.entries
        source = (TEMPLATES / f"{kind}.xml").read_text(encoding="utf-8")
        assert "{{- feed.entries }}" in source
        loop = f"{{%- for e in entries %}}\n{{{{ e.{kind} }}}}\n{{%- endfor %}}"
        looping = source.replace("{{- feed.entries }}", loop)
        (custom / f"{kind}.xml").write_text(looping, encoding="utf-8")
    looped = tmp_path / "looped"
    build_site(store, looped, replace(OPTIONS, templates=str(custom)))
    expected, built = tree(packaged), tree(looped)
    pages = [name for name in expected if name.endswith((".html", "atom.xml", "rss.xml"))]
    pages += [name for name in expected if name.startswith("sitemaps/")]
    assert "s/index.html" in pages and "atom.xml" in pages and "rss.xml" in pages
    assert any(name.startswith("d/") for name in pages)
    for name in pages:
        assert built[name] == expected[name], name


def test_no_temporary_files_are_left(tmp_path: Path, store: Store) -> None:
    populate(store, fast=5, posts=5)
    out = tmp_path / "site"
    build_site(store, out, OPTIONS)
    assert not [p for p in out.rglob(".tmp-*")]


def test_a_new_site_appears_whole_or_not_at_all(tmp_path: Path, store: Store) -> None:
    """A site built into a new folder is staged beside it and renamed into place: a build
    that fails half-way leaves no folder (and no staging folder), not half a site."""
    populate(store, fast=5, posts=5)
    custom = tmp_path / "templates"
    custom.mkdir()
    # hand-written: a home page that fails, rendered after every article page is written
    (custom / "home.html").write_text("{{ no_such_function() }}\n", encoding="utf-8")
    place = tmp_path / "place"
    place.mkdir()
    out = place / "site"
    with pytest.raises(jinja2.UndefinedError):
        build_site(store, out, replace(OPTIONS, templates=str(custom)))
    assert not out.exists()
    assert list(place.iterdir()) == []
    # an empty folder is replaced by the finished site; the staging folder of a build
    # whose process is gone is removed
    out.mkdir()
    abandoned = place / ".site.building-999999999"
    (abandoned / "a").mkdir(parents=True)
    build_site(store, out, OPTIONS)
    assert (out / "index.html").exists() and not abandoned.exists()
    assert [p.name for p in place.iterdir()] == ["site"]
    # a folder that has files is updated in place, file by file (temporary file + rename)
    (out / "index.html").unlink()
    build_site(store, out, OPTIONS, full=True)
    assert (out / "index.html").exists()
    assert [p.name for p in place.iterdir()] == ["site"]


def test_a_site_another_build_published_first_is_left_alone(tmp_path: Path) -> None:
    """Two builds staged for one new folder: the second cannot rename over the first's
    site; it says so (OutputError) and removes its staging folder."""
    target = tmp_path / "site"
    staging = Staging(target)
    with pytest.raises(OutputError, match="could not publish"), staging as folder:
        (folder / "index.html").write_text("second\n", encoding="utf-8")
        target.mkdir()
        (target / "index.html").write_text("first\n", encoding="utf-8")
    assert (target / "index.html").read_text(encoding="utf-8") == "first\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


@pytest.mark.parametrize("kind", ["incremental", "full"])
def test_cli_build(tmp_path: Path, kind: str) -> None:
    from conftest import SEED, run_cli

    db = str(tmp_path / "f.db")
    run_cli("--db", db, "import", "jekyll", str(SEED))
    args = ["--db", db, "build", "--out", str(tmp_path / "site"), "--json"]
    result = run_cli(*args, *(["--full"] if kind == "full" else []))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["full"] and report["articles"] == 1
    assert (tmp_path / "site" / "index.html").exists()


def test_parallel_full_build_equals_single_process(tmp_path: Path, store: Store) -> None:
    populate(store)
    single, parallel = tmp_path / "one", tmp_path / "two"
    build_site(store, single, replace(OPTIONS, workers=1), full=True)
    report = build_site(store, parallel, replace(OPTIONS, workers=2), full=True)
    assert report.articles == store.count()
    assert tree(single) == tree(parallel)
    # the manifest a parallel build leaves makes the next build a no-op
    assert build_site(store, parallel, OPTIONS).rendered == 0
    # a parallel full build over an existing site (in place: temporary file + rename)
    (parallel / "index.html").unlink()
    again = build_site(store, parallel, replace(OPTIONS, workers=2), full=True)
    assert again.articles == store.count() and again.written == 1
    assert tree(single) == tree(parallel)


def test_pages_show_the_stored_body_and_clean_a_stale_one_again(
    tmp_path: Path, store: Store
) -> None:
    """The store keeps each body as published, stamped with the cleaner's revision: a
    build shows it as stored while the stamp is current and cleans the upstream body
    again when it is not (a row written by an older finews)."""
    populate(store)
    fresh = tmp_path / "fresh"
    build_site(store, fresh, OPTIONS, full=True)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE articles SET body_clean = '<p>old</p>', clean_revision = 0"))
    for workers in (1, 2):
        stale = tmp_path / f"stale-{workers}"
        build_site(store, stale, replace(OPTIONS, workers=workers), full=True)
        assert tree(stale) == tree(fresh)
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE articles SET body_clean = '<p>as stored</p>', clean_revision = :r"),
            {"r": CLEAN_REVISION},
        )
    for workers in (1, 2):
        stored = tmp_path / f"stored-{workers}"
        build_site(store, stored, replace(OPTIONS, workers=workers), full=True)
        pages = list((stored / "a").rglob("*.html"))
        assert pages and all("<p>as stored</p>" in p.read_text("utf-8") for p in pages)
        assert "&lt;p&gt;as stored&lt;/p&gt;" in (stored / "atom.xml").read_text("utf-8")


@pytest.mark.parametrize("backend", BACKENDS)
def test_workers_show_the_build_snapshot_even_when_the_store_moves(
    tmp_path: Path, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Workers read their rows through their own transactions, checked to show what the
    build's snapshot shows; an article stored while the build plans (after its snapshot,
    before the workers start) makes them take the rows from the build instead: the site
    is the snapshot's, whole."""
    url = backend_url(backend, tmp_path)
    store = Store.open(url)
    populate(store)
    single, quiet, moved = tmp_path / "one", tmp_path / "two", tmp_path / "three"
    build_site(store, single, replace(OPTIONS, workers=1), full=True)
    caplog.set_level(logging.INFO, logger="finews.site.build")
    build_site(store, quiet, replace(OPTIONS, workers=2), full=True)
    assert tree(quiet) == tree(single)
    assert "rows were sent" not in caplog.text

    template = real_articles(fast=41)[-1]
    late = [
        replace(template, upstream_id=f"late-{n}", title=f"规划时新到的消息 {n}") for n in (1, 2)
    ]

    class WriteWhilePlanning(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.args and record.args[0] == "home, indexes, feeds" and late:
                with Store.open(url) as writer:  # another process's store, as a poller's
                    writer.save([late.pop(0)])

    def build_while_writing(out: Path) -> int:
        caplog.clear()
        hook = WriteWhilePlanning()
        logging.getLogger("finews.site.build").addHandler(hook)
        try:
            report = build_site(store, out, replace(OPTIONS, workers=2), full=True)
        finally:
            logging.getLogger("finews.site.build").removeHandler(hook)
        assert "rows were sent" in caplog.text
        return report.articles

    # a new site (staged: listings do not wait for the article pages)
    assert build_while_writing(moved) == store.count() - 1
    assert tree(moved) == tree(single)
    assert build_site(store, moved, OPTIONS).articles == 1  # the next build adds it
    pages = [name for name, data in tree(moved).items() if "规划时新到的消息 1".encode() in data]
    assert any(name.startswith("a/") for name in pages)
    assert any(name.startswith("d/") for name in pages)
    # over a published site (in place: the listings after every article page)
    expected = tmp_path / "four"
    build_site(store, expected, replace(OPTIONS, workers=1), full=True)
    assert build_while_writing(moved) == store.count() - 1
    assert tree(moved) == tree(expected)
    store.close()


def test_stock_pages_and_also_reported_by(tmp_path: Path, store: Store) -> None:
    articles = populate(store, fast=40, posts=None)
    fast = [a for a in articles if a.source == "eastmoney.fast"]
    # the same real flash as a second outlet reprints it (hand-made reprint of real text)
    reprint = replace(
        fast[0],
        source="cls.telegraph",
        upstream_id="9000001",
        media="财联社",
        category="",
        digest="财联社6月16日电，" + fast[0].digest,
        published=fast[0].published + timedelta(minutes=2),
    )
    store.save([reprint])
    out = tmp_path / "site"
    build_site(store, out, OPTIONS)
    original = (out / "a" / "2026-06-16" / f"eastmoney.fast.{fast[0].upstream_id}.html").read_text(
        encoding="utf-8"
    )
    assert "也报道了此事" in original and "财联社：" in original
    # one entry per story on the home page
    home = (out / "index.html").read_text(encoding="utf-8")
    assert home.count(f"【{fast[0].title}】") == 1  # collapsed in the stream
    for outlet in ("c/emnews/index.html", "c/cai-lian-she/index.html"):  # but in each source's
        assert fast[0].title in (out / outlet).read_text(encoding="utf-8"), outlet
    # stock pages: every tagged stock has one, linked from the article and listed in the index
    seed_page = (out / "a/2021-12-29/jekyll.NW202112292230344237.html").read_text(encoding="utf-8")
    assert 'href="../../s/600928.SH/index.html"' in seed_page
    stock = (out / "s" / "600928.SH" / "index.html").read_text(encoding="utf-8")
    assert "西安银行" in stock and "打出金融科技" in stock
    assert (out / "s" / "600928.SH" / "atom.xml").exists()
    assert "600928.SH" in (out / "s" / "index.html").read_text(encoding="utf-8")
    assert broken_links(out) == []


def test_important_news_has_its_own_page_and_feeds(tmp_path: Path, store: Store) -> None:
    articles = populate(store)
    important = {f"{a.source}/{a.upstream_id}" for a in articles if a.important}
    assert important, "the real items include highlighted ones"
    out = tmp_path / "site"
    build_site(store, out, SiteOptions(base_url=BASE_URL))
    atom = feedparser.parse((out / "important" / "atom.xml").read_bytes())
    assert not atom.bozo
    ids = {e.id.removeprefix("tag:finews,2021:") for e in atom.entries}
    assert ids and ids <= important
    assert len(ids) == min(len(important), 50)
    page = (out / "important" / "index.html").read_text(encoding="utf-8")
    assert 'data-live="important"' in page and page.count('<li class="important">') == len(ids)


def test_a_section_leaves_out_its_own_outlet_line_by_line(tmp_path: Path, store: Store) -> None:
    """财联社's section names no outlet on its own lines, but names another outlet whose
    article declares the category 财联社 — in a full build and in an incremental one."""
    pairs = {a.key: a for a in story_case_articles("pair")}
    cls_flash = pairs[("cls.telegraph", "2449383")]
    store.save([cls_flash])
    guest = replace(
        cls_flash,
        source="eastmoney.fast",
        upstream_id="guest-in-cls",
        media="新华社",
        category="财联社",
        title="一篇自称属于财联社栏目的新华社稿件",
        digest="这是测试用的手写文本，与任何真实快讯都不同。",
        body_html="<p>这是测试用的手写文本，与任何真实快讯都不同。</p>",
        published=cls_flash.published - timedelta(days=3),
    )
    store.save([guest])
    out = tmp_path / "site"
    build_site(store, out, OPTIONS)
    page = (out / "c" / "cai-lian-she" / "index.html").read_text(encoding="utf-8")
    assert page.count('<span class="media">') == 1 and '<span class="media">新华社</span>' in page
    # a later report of 财联社: the incremental build keeps the guest's name, line by line
    store.save(
        [
            replace(
                cls_flash,
                upstream_id="later",
                published=cls_flash.published + timedelta(hours=30),
                title="财联社的另一条快讯",
                digest="另一条手写的测试快讯。",
                body_html="<p>另一条手写的测试快讯。</p>",
            )
        ]
    )
    build_site(store, out, OPTIONS)
    again = (out / "c" / "cai-lian-she" / "index.html").read_text(encoding="utf-8")
    assert again.count('<span class="media">') == 1 and "财联社的另一条快讯" in again
