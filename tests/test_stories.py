"""Stories (issue #10) on real flashes: one story told once, and never a different story
hidden behind it.

The flashes are real (tests/data/flash/story_cases.jsonl, copied from shared/corpus with
their upstream payloads): a whole hour of half-year results from three outlets (templated
flashes of dozens of companies), a day of one index's running tally, and reprint pairs from
the labelled set of bench/quality/story_pairs.jsonl.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import run_cli
from finews.model import Article
from finews.process import dedup, story
from finews.site.build import SiteOptions, build_site
from finews.store import Store, clusters
from sitedata import story_case_articles

_CASES = Path(__file__).parent / "data" / "flash" / "story_cases.jsonl"


def case_articles(case: str) -> list[Article]:
    return story_case_articles(case)


def PROCESS_AGAIN(article: Article) -> Article:
    return article


def stories_of(store: Store) -> dict[int, list[tuple[str, str, str]]]:
    """story id → (source, upstream id, title) of its reports."""
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT cluster_id, source, upstream_id, title FROM articles ORDER BY published_at, id"
        ).all()
    found: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for cluster, source, upstream_id, title in rows:
        found[cluster].append((source, upstream_id, title))
    return found


def story_id(store: Store, key: tuple[str, str]) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.exec_driver_sql(
                "SELECT cluster_id FROM articles WHERE source = ? AND upstream_id = ?", key
            ).scalar_one()
        )


def subject(title: str) -> str:
    return title.split("：", 1)[0] if "：" in title else ""


def distinct_subjects(titles: list[str]) -> int:
    """Headline subjects naming different things (泡泡玛特王宁 = 泡泡玛特CEO王宁; 中信证券 is
    not 中信特钢): counted apart unless one contains the other or their first four
    characters agree."""
    kept: list[str] = []
    for s in (subject(t) for t in titles):
        if s and not any(s in k or k in s or s[:4] == k[:4] for k in kept):
            kept.append(s)
    return len(kept)


def company_of(title: str) -> str:
    return subject(title) or title[:4]


def save_in_time_order(store: Store, articles: list[Article]) -> None:
    for article in articles:  # one by one, as a poller stores them
        store.save([article])


def test_templated_results_of_different_companies_never_share_a_story(store: Store) -> None:
    hour = case_articles("earnings-hour")
    assert len(hour) > 80
    save_in_time_order(store, hour)
    found = stories_of(store)
    for members in found.values():
        assert distinct_subjects([t for _, _, t in members]) <= 1, members
    # and the same company's results from several outlets are one story
    by_company: dict[str, set[int]] = defaultdict(set)
    for cluster, members in found.items():
        for _, _, title in members:
            by_company[company_of(title)].add(cluster)
    # 江天化学 is no longer here: since the rare-words feature (docs/quality.md, Stories) its
    # 同花顺 flash (净利润5941.2万元) and 财联社's (同比增长22955.37%) share only the name as
    # rare words and are judged 0.74 < the threshold 0.83 (they were 0.83 ≥ 0.78 before), so
    # its three reports make two stories: a known miss, counted in the recall figures.
    for company in ("牧原股份", "金力永磁", "陕西能源", "科大讯飞"):
        assert len(by_company[company]) == 1, (company, by_company[company])
    assert max(len(m) for m in found.values()) <= 3


def test_an_index_past_two_thresholds_is_two_stories(store: Store) -> None:
    tally = case_articles("running-tally")
    save_in_time_order(store, tally)
    by_story: dict[int, set[str]] = defaultdict(set)
    for a in tally:
        if "扩大至" in a.title:
            by_story[story_id(store, a.key)].add(a.title.rsplit("至", 1)[-1])
    assert len(by_story) == 9  # 1% … 9%, each its own story
    assert all(len(figures) == 1 for figures in by_story.values()), by_story
    # the close, told as 大跌10% by one outlet and 收跌9.99% by two, is one story
    closes = [a for a in tally if "扩大至" not in a.title]
    assert len({story_id(store, a.key) for a in closes}) == 1
    two = [a for a in tally if a.title == "韩国综指跌幅扩大至2%"]
    three = [a for a in tally if a.title == "韩国综指跌幅扩大至3%"]
    assert {a.source for a in two} == {"eastmoney.fast", "ths.flash"}
    assert story_id(store, two[0].key) == story_id(store, two[1].key)
    assert story_id(store, two[0].key) != story_id(store, three[0].key)


@pytest.mark.parametrize(
    ("first", "second", "kind"),
    [
        (("eastmoney.fast", "202606223778044153"), ("cls.telegraph", "2405626"), "rewrite"),
        (("cls.telegraph", "2449383"), ("eastmoney.fast", "202608093835956454"), "rewrite"),
        (("eastmoney.fast", "202608073834985526"), ("cls.telegraph", "2448150"), "rewrite"),
        (("eastmoney.fast", "202605203743532324"), ("cls.telegraph", "2376763"), "short-long"),
        pytest.param(
            ("eastmoney.fast", "202608013828792655"),
            ("ths.flash", "678599150"),
            "short-long",
            # a known miss since the rare-words feature (docs/quality.md, Stories): the
            # one-line flash shares only 令对 and 轮袭 as rare words with the long report
            # (特朗普 and 伊朗 are common in this corpus): 0.78 < the threshold 0.83
            marks=pytest.mark.xfail(strict=True, reason="short flash, few rare words shared"),
        ),
    ],
)
def test_reprints_join_their_story(
    store: Store, first: tuple[str, str], second: tuple[str, str], kind: str
) -> None:
    """A rewrite with another lead, a short flash and the long report it came from."""
    by_key = {a.key: a for a in case_articles("pair")}
    save_in_time_order(store, sorted([by_key[first], by_key[second]], key=lambda a: a.published))
    assert story_id(store, first) == story_id(store, second), kind


def test_a_chain_whose_ends_share_nothing_is_not_one_story() -> None:
    """A ~ B and B ~ C but not A ~ C: C does not join A's story (average linkage with a
    floor, not single linkage).  A and C are real flashes; B is HAND-MADE from both texts."""
    hour = {a.title: a for a in case_articles("earnings-hour")}
    a = hour["牧原股份：上半年净亏损60.78亿元同比转亏 生猪销售价格同比出现较大幅度下降"]
    c = next(x for x in hour.values() if x.title.startswith("中信证券：上半年净利润同比增长69.6%"))
    b = replace(
        a,
        upstream_id="handmade-b",
        body_html=a.body_html + c.body_html,
    )
    fa, fb, fc = (story.facts(x) for x in (a, b, c))
    model = story.model()
    assert model.same_story(fa, fb) and not model.same_story(fa, fc)
    candidates = {1: (fa, 1), 2: (fb, 1)}
    assert clusters.choose(fc, candidates, {1: fa}, model) is None
    # single linkage would have chained C to A's story through B
    assert model.probability(fc, fb) > model.probability(fc, fa)


def test_a_story_only_takes_reports_within_its_window(store: Store) -> None:
    by_key = {a.key: a for a in case_articles("pair")}
    first = by_key[("cls.telegraph", "2449383")]
    late = replace(
        by_key[("eastmoney.fast", "202608093835956454")],
        published=first.published + timedelta(seconds=story.WINDOW + 60),
    )
    save_in_time_order(store, [first, late])
    assert story_id(store, first.key) != story_id(store, late.key)


def test_reprocess_regroups_a_store_clustered_by_the_old_code(tmp_path: Path) -> None:
    """A store whose stories were chained by the old judgement (every flash of the hour in
    one cluster, no facts stored: what migration 9 leaves) is regrouped by reprocess."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    hour = case_articles("earnings-hour")
    with Store.open(url) as store:
        store.save(hour)
        with store.engine.begin() as conn:
            first = conn.exec_driver_sql("SELECT MIN(id) FROM articles").scalar_one()
            conn.exec_driver_sql("UPDATE articles SET cluster_id = ?", (first,))
            conn.exec_driver_sql("UPDATE article_signatures SET facts = NULL")
        assert len(stories_of(store)) == 1
        assert store.stats()["stories_outdated"] == len(hour)
    result = run_cli("--db", url, "stats")
    assert "finews reprocess" in result.stderr
    assert run_cli("--db", url, "reprocess").returncode == 0
    with Store.open(url) as store:
        found = stories_of(store)
        assert store.stats()["stories_outdated"] == 0
    assert len(found) > 60
    assert all(distinct_subjects([t for _, _, t in m]) <= 1 for m in found.values())


def test_export_and_stories_command_give_the_story(db_url: str) -> None:
    by_key = {a.key: a for a in case_articles("pair")}
    pair = [by_key[("cls.telegraph", "2449383")], by_key[("eastmoney.fast", "202608093835956454")]]
    other = by_key[("eastmoney.fast", "202608013828792655")]
    with Store.open(db_url) as store:
        save_in_time_order(store, sorted([*pair, other], key=lambda a: a.published))
    exported = run_cli("--db", db_url, "export", "json", "-")
    rows = {r["id"]: r for r in map(json.loads, exported.stdout.splitlines())}
    a, b = rows["cls.telegraph/2449383"], rows["eastmoney.fast/202608093835956454"]
    assert a["story"] == b["story"] and a["story_size"] == b["story_size"] == 2
    assert a["first_in_story"] and not b["first_in_story"]
    lone = rows["eastmoney.fast/202608013828792655"]
    assert lone["story_size"] == 1 and lone["first_in_story"]
    listed = run_cli("--db", db_url, "stories", "--since", "2026-05-01", "--json")
    top = json.loads(listed.stdout)["stories"][0]
    assert top["story"] == a["story"] and top["outlets"] == 2 and top["reports"] == 2
    assert [m["media"] for m in top["members"]] == ["财联社", "东方财富"]
    assert top["members"][0]["minutes_after_first"] == 0
    assert [m["id"] for m in top["members"]] == [
        "cls.telegraph/2449383",
        "eastmoney.fast/202608093835956454",
    ]
    assert top["path"] == f"story/{a['story']}/index.html"  # the site's story page
    text = run_cli("--db", db_url, "stories", "--since", "2026-05-01")
    assert "首发" in text.stdout and "2 家" in text.stdout
    assert "hottest" not in text.stderr  # all of them
    cut = run_cli("--db", db_url, "stories", "--since", "2026-05-01", "--limit", "1")
    assert cut.stdout.count("首发") == 1
    assert "the 1 hottest stories of the period (--limit N for more)" in cut.stderr
    # the later report's lag in the story page's words (晚 N 分钟 / 同一分钟), not "+N 分钟"
    assert re.search(r"晚 \d+ (分钟|小时)|同一分钟", text.stdout)
    assert not re.search(r"\+\d+ 分钟", text.stdout)
    # the default last 24 hours of a store of older news: where its news ends
    empty = run_cli("--db", db_url, "stories")
    assert empty.returncode == 0 and "the newest article is from 2026-08-" in empty.stderr
    # … and the period it suggests holds the store's last day of news (wave 13's walk: it
    # suggested the newest article's date, 6 articles of a store that ended after midnight)
    suggested = re.search(r'try --since "([^"]+)" \(its last 24 hours\)', empty.stderr)
    assert suggested, empty.stderr
    followed = run_cli("--db", db_url, "stories", "--since", suggested.group(1))
    assert followed.returncode == 0 and "首发" in followed.stdout, followed.stderr
    # a period before the store's news begins: no hint that points past --until
    before = run_cli("--db", db_url, "stories", "--since", "2020-01-01", "--until", "2020-01-02")
    assert before.stderr.strip() == "no stories in that period", before.stderr
    # a period that ends before it starts is a mistake, said as `finews search` says it
    backwards = run_cli("--db", db_url, "stories", "--since", "2026-08-10", "--until", "2026-08-01")
    assert backwards.returncode == 2 and "is not before --until" in backwards.stderr
    defaulted = run_cli("--db", db_url, "stories", "--until", "2026-08-01")  # since: 24h
    assert defaulted.returncode == 2, defaulted.stderr
    assert "--since (by default 24h) is not before --until 2026-08-01" in defaulted.stderr


def test_facts_survive_the_store(store: Store) -> None:
    article = case_articles("pair")[0]
    sig = dedup.signature(article)
    assert sig is not None and sig.facts is not None
    assert story.Facts.from_json(sig.facts.to_json()) == sig.facts


def test_the_signature_is_datasketchs_minhash() -> None:
    """dedup writes datasketch's MinHash out over numpy (no scipy import on the write path):
    every real flash of the test cases gets the values datasketch gives, so the buckets
    of a store written before stay comparable."""
    import zlib

    import numpy as np
    from datasketch import MinHash

    compared = 0
    cases = {json.loads(line)["case"] for line in _CASES.read_text("utf-8").splitlines()}
    for case in sorted(cases):
        for article in case_articles(case):
            lead = story.facts(article).lead
            if len(lead) < dedup.MIN_CHARS:
                continue
            grams = list({lead[i : i + dedup.N].encode() for i in range(len(lead) - dedup.N + 1)})
            reference = MinHash(num_perm=dedup.NUM_PERM, seed=dedup.SEED, hashfunc=zlib.crc32)
            reference.update_batch(grams)
            mine = dedup.minhash(grams)
            assert mine.dtype == np.uint64
            assert mine.tolist() == reference.hashvalues.tolist(), lead
            compared += 1
    assert compared >= 50


def _story_of_links(store: Store, page: str) -> list[int]:
    """The story of every article a page or feed links to, in order."""
    found = []
    with store.engine.connect() as conn:
        stories = {
            f"{s}.{u}": c
            for s, u, c in conn.exec_driver_sql(
                "SELECT source, upstream_id, cluster_id FROM articles"
            )
        }
    # a stream line links its article twice (its time and its headline): counted once
    pattern = r"a/\d{4}-\d{2}-\d{2}/([^\"<]+?)\.html"
    if '<a class="time"' in page:
        pattern = r'<a class="time" href="[^"]*?' + pattern
    for name in re.findall(pattern, page):
        found.append(stories[name])
    return found


def test_the_site_tells_each_story_once(tmp_path: Path, store: Store) -> None:
    hour = case_articles("earnings-hour")
    first = hour[0]
    # HAND-MADE: the first real flash of the hour reprinted by twelve made-up outlets
    reprints = [
        replace(
            first,
            source=f"handmade.outlet{n}",
            upstream_id=f"r{n}",
            media=f"转载{n}",
            published=first.published + timedelta(minutes=n),
        )
        for n in range(1, 13)
    ]
    save_in_time_order(store, sorted(hour + reprints, key=lambda a: a.published))
    big = story_id(store, first.key)
    assert {story_id(store, r.key) for r in reprints} == {big}
    out = tmp_path / "site"
    options = SiteOptions(base_url="https://example.org/", page_size=20, feed_size=30)
    build_site(store, out, options)
    lists = ["index.html", "atom.xml", "rss.xml", "important/index.html", "important/atom.xml"]
    lists += [str(p.relative_to(out)) for p in out.glob("s/*/*") if p.suffix in {".html", ".xml"}]
    for name in lists:
        text = (out / name).read_text(encoding="utf-8")
        if name == "index.html":  # the stream, not the per-outlet boxes below it
            text = text.split("<h2>各来源最新</h2>")[0]
        linked = _story_of_links(store, text)
        assert linked and len(linked) == len(set(linked)), name
    home = (out / "index.html").read_text(encoding="utf-8")
    # the outlets that carried it, the first two by time, and how many (issue #12)
    assert f'href="story/{big}/index.html">{first.media}、转载1等 13 家报道</a>' in home
    story_page = (out / "story" / str(big) / "index.html").read_text(encoding="utf-8")
    times = re.findall(r'<time datetime="([^"]+)"', story_page)
    assert len(times) == 13 and times == sorted(times)
    assert story_page.count(">首发<") == 1 and "晚 12 分钟" in story_page
    # each report's line carries its stock chips, as every list's lines do (#12), linked to
    # stock pages the build wrote
    assert first.stocks
    for tag in first.stocks:
        chip = f'<a class="chip" href="../../s/{tag.code}/index.html"'
        assert story_page.count(chip) == 13, tag.code
        assert (out / "s" / tag.code / "index.html").exists()
    page = next(out.glob(f"a/*/{first.source}.{first.upstream_id}.html")).read_text("utf-8")
    also = page.split('<section class="also">', 1)[1]
    assert also.count("<li>") == 10 and f"story/{big}/index.html" in also
    assert "此事共 13 篇报道（13 家媒体）" in also
    assert len(page.encode()) < 32_000
    # a fourteenth report: the incremental build equals a full one
    store.save(
        [replace(reprints[0], upstream_id="r14", published=first.published + timedelta(minutes=20))]
    )
    build_site(store, out, options)
    full = tmp_path / "full"
    build_site(store, full, options, full=True)
    for path in full.rglob("*"):
        if path.is_file() and ".finews" not in path.parts:
            assert path.read_bytes() == (out / path.relative_to(full)).read_bytes(), path


def _pages(root: Path) -> set[str]:
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and ".finews" not in p.parts
    }


def _same_as_full(store: Store, out: Path, tmp_path: Path, options: SiteOptions) -> None:
    """An incremental build into ``out`` gives what a full build gives, file for file."""
    build_site(store, out, options)
    full = tmp_path / "full"
    build_site(store, full, options, full=True)
    produced = _pages(full)
    assert _pages(out) == produced
    for name in produced:
        assert (out / name).read_bytes() == (full / name).read_bytes(), name


def test_a_report_that_leaves_its_story_leaves_no_page_behind(tmp_path: Path, store: Store) -> None:
    """B is updated into another story (its text became another flash's): the incremental
    build drops the story page and A's "也报道了此事", as a full build has them."""
    by_key = {a.key: a for a in case_articles("pair")}
    a = by_key[("cls.telegraph", "2449383")]
    b = by_key[("eastmoney.fast", "202608093835956454")]
    other = by_key[("eastmoney.fast", "202608013828792655")]
    save_in_time_order(store, [a, b])
    assert story_id(store, a.key) == story_id(store, b.key)
    out = tmp_path / "site"
    options = SiteOptions(base_url="https://example.org/")
    build_site(store, out, options)
    assert (out / "story" / str(story_id(store, a.key)) / "index.html").exists()
    store.save([replace(b, title=other.title, body_html=other.body_html, digest=other.digest)])
    assert story_id(store, a.key) != story_id(store, b.key)
    _same_as_full(store, out, tmp_path, options)
    assert not list(out.glob("story/*/index.html"))


def test_reprocess_then_an_incremental_build_equals_a_full_one(
    tmp_path: Path, store: Store
) -> None:
    """The later report stored first starts the story; reprocess (oldest first) gives the
    story the earlier report's id: the old story page goes."""
    by_key = {a.key: a for a in case_articles("pair")}
    a = by_key[("cls.telegraph", "2449383")]
    b = by_key[("eastmoney.fast", "202608093835956454")]
    first, later = sorted([a, b], key=lambda x: x.published)
    store.save([later])
    store.save([first])
    before = story_id(store, first.key)
    out = tmp_path / "site"
    options = SiteOptions(base_url="https://example.org/")
    build_site(store, out, options)
    store.reprocess(PROCESS_AGAIN)
    assert story_id(store, first.key) == story_id(store, later.key) != before
    _same_as_full(store, out, tmp_path, options)


def test_a_story_outlives_its_first_report(store: Store) -> None:
    """Deleting the report a story started with moves the others under the earliest of
    them: a reused row id never puts a new article into an old story."""
    by_key = {a.key: a for a in case_articles("pair")}
    a = by_key[("cls.telegraph", "2449383")]
    b = by_key[("eastmoney.fast", "202608093835956454")]
    first, later = sorted([a, b], key=lambda x: x.published)
    save_in_time_order(store, [first, later])
    started = story_id(store, first.key)
    store.delete([first.key])
    with store.engine.connect() as conn:
        later_id = conn.exec_driver_sql(
            "SELECT id FROM articles WHERE source = ? AND upstream_id = ?", later.key
        ).scalar_one()
    assert story_id(store, later.key) == later_id != started
    unrelated = by_key[("eastmoney.fast", "202608013828792655")]
    store.save([unrelated])
    assert story_id(store, unrelated.key) != story_id(store, later.key)


def test_the_window_counts_from_the_first_report_even_without_its_facts() -> None:
    by_key = {a.key: a for a in case_articles("pair")}
    a = story.facts(by_key[("cls.telegraph", "2449383")])
    b = story.facts(by_key[("eastmoney.fast", "202608093835956454")])
    model = story.model()
    assert clusters.choose(b, {1: (a, 7)}, {}, model) == 7
    began = b.published - story.WINDOW - 60  # story 7 began more than a window before b
    assert clusters.choose(b, {1: (a, 7)}, {}, model, {7: began}) is None


def test_shared_rare_words_weigh_more_than_a_shared_template() -> None:
    """The rare-words feature (corpus IDF of character pairs, ``data/story_bigrams.tsv``):
    the templated half-year results of two different companies share many character pairs
    (上半年, 净利润, 同比增长 …) but few rare ones; a reprint shares the rare words of its
    event (印花税, 北极中欧快航, 天合光能 …)."""
    weights, unlisted = story._idf_table()
    assert weights["公司"] == weights["同比"] == 0.0  # in most flashes: no weight
    assert unlisted > story.RARE_IDF  # a pair rarer than the table's floor counts
    pairs = case_articles("pair")
    by_key = {a.key: story.facts(a) for a in pairs}
    reprints = [
        story.rare_shared(by_key[first], by_key[second])
        for first, second in [
            (("eastmoney.fast", "202605203743532324"), ("cls.telegraph", "2376763")),
            (("eastmoney.fast", "202608013828792655"), ("ths.flash", "678599150")),
            (("eastmoney.fast", "202608073834985526"), ("cls.telegraph", "2448150")),
            (("cls.telegraph", "2449383"), ("eastmoney.fast", "202608093835956454")),
            (("cls.telegraph", "2458607"), ("eastmoney.fast", "202608193846484161")),
        ]
    ]
    hour = [story.facts(a) for a in case_articles("earnings-hour")]
    templated = sorted(
        story.rare_shared(x, y)
        for i, x in enumerate(hour)
        for y in hour[i + 1 :]
        if x.subject and y.subject and story._subjects_differ(x.subject, y.subject)
    )
    assert len(templated) > 100
    shared_pairs = sorted(
        len(x.text2 & y.text2)
        for i, x in enumerate(hour)
        for y in hour[i + 1 :]
        if x.subject and y.subject and story._subjects_differ(x.subject, y.subject)
    )
    assert shared_pairs[len(shared_pairs) // 2] >= 5  # they do share wording
    assert templated[len(templated) // 2] < min(reprints)
    assert templated[int(len(templated) * 0.9)] < min(reprints)


def test_lags_count_the_minutes_the_page_shows_and_ties_keep_one_order() -> None:
    """15:45:50 → 15:46:10 reads as a minute later on the page (not 0), the same minute as
    同一分钟; two outlets out in the same second are named in the order of the story page
    (time, then row id), not by name."""
    from finews.site.stories import lag_label, outlet_order

    at = 1_781_000_000 - 1_781_000_000 % 60  # the start of a minute
    assert lag_label(at + 50, at + 70) == "晚 1 分钟"
    assert lag_label(at + 5, at + 50) == "同一分钟"
    assert lag_label(at + 59, at + 120) == "晚 2 分钟"
    assert lag_label(at, at + 3 * 3600 + 60) == "晚 3 小时 1 分钟"
    assert outlet_order({"东方财富": (at, 9), "财联社": (at, 4), "同花顺": (at + 1, 1)}) == (
        "财联社",
        "东方财富",
        "同花顺",
    )


def test_a_copy_of_a_report_lands_in_its_story(store: Store) -> None:
    """Wave 9's walk: 东方财富 reported IBM's surge at 14:34 (IBM暴涨12%！…), 财联社 and
    东方财富 then sent the same report at 14:45:46.  财联社's joined the 14:34 story; 东方财富's
    copy of it, compared with that story's two reports (its twin, and its own outlet's
    differently worded first one), fell below the story's mean and started a story of its own
    beside its twin (story.TWIN)."""
    save_in_time_order(store, case_articles("twin"))
    found = stories_of(store)
    assert len(found) == 1, found


def test_one_text_under_two_headlines_is_one_story(store: Store) -> None:
    """Wave 12's walk: 财联社's untitled telegraph and 东方财富's copy of it under a headline
    of its own (【英伟达股价上涨1.05%】…), the same second, stood side by side on the home
    page as two stories: the model gave 0.76 (a short template's words are common ones,
    so no rare word is shared).  The same normalised lead within ten minutes is one story
    (story.same_lead); another tally in the same words is not."""
    arts = case_articles("copy")
    assert {a.source for a in arts} == {"cls.telegraph", "eastmoney.fast"}
    fa, fb = (story.facts(a) for a in arts)
    assert fa.title != fb.title and fa.lead == fb.lead
    assert story.same_lead(fa, fb) and story.model().same_story(fa, fb)
    save_in_time_order(store, arts)
    assert len(stories_of(store)) == 1
    # the next tally in the same words: another lead, another story
    a = arts[0]
    later = replace(
        a,
        upstream_id=f"{a.upstream_id}-later",
        published=a.published + timedelta(minutes=5),
        title=a.title.replace("1.05%", "1.52%").replace("227.525", "228.580"),
        digest=a.digest.replace("1.05%", "1.52%").replace("227.525", "228.580"),
        body_html=a.body_html.replace("1.05%", "1.52%").replace("227.525", "228.580"),
    )
    assert not story.same_lead(story.facts(later), fb)
    assert not story.model().same_story(story.facts(later), fb)
    # nor a figure the normalised lead cannot tell apart: 1.05% and 10.5% both read 105
    tenfold = replace(
        a,
        upstream_id=f"{a.upstream_id}-tenfold",
        title=a.title.replace("1.05%", "10.5%"),
        digest=a.digest.replace("1.05%", "10.5%"),
        body_html=a.body_html.replace("1.05%", "10.5%"),
    )
    assert story.facts(tenfold).lead == fb.lead
    assert not story.same_lead(story.facts(tenfold), fb)
    # nor the same words an hour on (a template's next day, a repeat): the rule is for copies
    hour = replace(fa, published=fa.published + 3600)
    assert not story.same_lead(hour, fb)


def test_one_fixing_told_by_two_outlets_is_one_story(store: Store) -> None:
    """同花顺 and 财联社 gave the same morning's central parity, 人民币兑美元中间价报6.7898, 30 s
    apart in differently worded short texts: the model alone gave 0.49.  The price has no
    unit; since wave 11 a number written to two decimals or more is a figure the two agree on
    — and one that differs is a conflict (another day's fixing, another tally)."""
    arts = case_articles("fixing")
    fa, fb = (story.facts(a) for a in arts)
    assert story.Figure(6.7898, "num", 4) in fa.headline_figures
    assert story.Figure(6.7898, "num", 4) in fb.figures
    assert story.model().same_story(fa, fb)
    save_in_time_order(store, arts)
    assert len(stories_of(store)) == 1
    # another fixing in the same words is a conflict, not an agreement
    a = arts[0]
    other = story.facts(
        replace(
            a,
            title=a.title.replace("6.7898", "6.7917"),
            body_html=a.body_html.replace("6.7898", "6.7917"),
            digest=a.digest.replace("6.7898", "6.7917"),
        )
    )
    conflict, agree = story._figures_compare(other, fb)
    assert conflict >= 1 and agree == 0
    # a precise number with a unit stays that unit's figure, once; a code is no figure
    assert story.figures("报7.1234元，代码600519，涨0.25%") == (
        story.Figure(7.1234, "money", 4),
        story.Figure(0.25, "%", 2),
    )
    assert story.figures("营收1,234.56亿元，收报3,456.78，2026.06.16") == (
        story.Figure(1234.56e8, "money", 2),
        story.Figure(3456.78, "num", 2),
    )


def test_another_outlets_report_is_judged_past_one_outlets_templates(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An hour of half-year results (2026-08-17 16:00–17:00, every flash of the three outlets
    saying 净利润 early on): 新联电子's report by 财联社, 东方财富 and 同花顺 in three wordings was
    two stories — the same outlet's templated flashes of other companies shared more of a
    lead and took every one of the 12 places (a trader's walk, wave 15).  Reports of other
    outlets are judged past those places (clusters.OTHER_OUTLETS)."""
    arts = sorted(case_articles("results-crowd"), key=lambda a: a.published)
    assert len(arts) > 50

    def xinlian(target: Store) -> set[int]:
        save_in_time_order(target, arts)
        return {
            story_id(target, (a.source, a.upstream_id))
            for a in arts
            if a.title.startswith("新联电子")
        }

    assert len(xinlian(store)) == 1
    # the same hour with the 12 places alone splits it (so this test can fail)
    monkeypatch.setattr(clusters, "OTHER_OUTLETS", 0)
    clusters._statements.cache_clear()
    try:
        with Store.open(f"sqlite:///{tmp_path / 'twelve.db'}") as twelve:
            assert len(xinlian(twelve)) == 2
    finally:
        monkeypatch.undo()
        clusters._statements.cache_clear()


def test_the_midday_and_the_close_review_are_two_stories(store: Store) -> None:
    """财联社's 午评 (科创50指数半日涨超3%) and its 收评 of that afternoon share the market's
    words and figures (p 0.87): a trader's walk found the close hidden under the midday
    review (wave 15).  Reviews of another session or another market are other news."""
    arts = case_articles("sessions")
    midday, close = sorted((story.facts(a) for a in arts), key=lambda f: f.published)
    assert (midday.subject, close.subject) == ("午评", "收评")
    assert story.market_reviews_differ(midday, close)
    assert not story.model().same_story(midday, close)
    save_in_time_order(store, arts)
    assert len(stories_of(store)) == 2
    # the same session of two markets differs too; of one market, it is for the model
    a = min(arts, key=lambda x: x.published)
    hong_kong = story.facts(replace(a, title="港股" + a.title))
    a_shares = story.facts(replace(a, title="A股" + a.title))
    assert story.market_reviews_differ(hong_kong, a_shares)
    assert not story.market_reviews_differ(a_shares, story.facts(replace(a, title="A股" + a.title)))
    assert not story.market_reviews_differ(midday, midday)


def test_one_headline_from_two_outlets_within_minutes_is_one_story(store: Store) -> None:
    """财联社 and 同花顺 both headlined 韩国总统李在明会见王毅 70 s apart, over texts that share
    a quarter of their 3-grams (the model alone: 0.77 < 0.83); story.SAME_HEADLINE_WITHIN."""
    arts = case_articles("same-headline")
    fa, fb = (story.facts(a) for a in arts)
    assert story.same_headline(fa, fb)
    save_in_time_order(store, arts)
    assert len(stories_of(store)) == 1
    # the same headline a day later is another day's news, not this story
    later = replace(
        arts[1], upstream_id="a-day-later", published=arts[1].published + timedelta(days=1)
    )
    assert not story.same_headline(fa, story.facts(later))
