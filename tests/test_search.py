"""Full-text search in Chinese on real articles, in a real SQLite store (issue #6)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from conftest import BACKENDS, DATA, backend_url, run_cli
from finews.model import BEIJING, Article, StockTag
from finews.process.pipeline import Processor
from finews.process.text import article_text
from finews.search.query import parse
from finews.search.service import parse_time, search
from finews.store import Store
from finews.store.fulltext import Filters
from sitedata import populate

SEED_ID = "NW202112292230344237"


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every test of this file that uses the store runs on SQLite and on PostgreSQL."""
    return backend_url(request.param, tmp_path)


def cls_flashes() -> list[Article]:
    """Seven real 财联社 flashes (tests/data/flash/cls_search.jsonl), as stored articles."""
    out = []
    for line in (DATA / "flash" / "cls_search.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        out.append(
            Article(
                source="cls.telegraph",
                upstream_id=r["id"],
                title=r["title"],
                published=datetime.fromisoformat(r["datetime"]),
                media="财联社",
                url=r["shareurl"],
                digest=r["brief"],
                body_html=f"<p>{r['content']}</p>",
                important=r["level"] in {"A", "B"},
                raw=json.dumps(r["raw"], ensure_ascii=False),
            )
        )
    return out


@pytest.fixture
def filled(store: Store) -> Store:
    populate(store)
    processor = Processor.default()
    store.save([processor(a) for a in cls_flashes()])
    return store


def ids(store: Store, query: str, **kw: object) -> list[str]:
    return [r.article.upstream_id for r in search(store, query, limit=100, **kw).results]  # type: ignore[arg-type]


def titles(store: Store, query: str) -> list[str]:
    return [r.article.title for r in search(store, query, limit=100).results]


def test_the_seed_is_the_first_hit_for_its_bank_and_its_subject(filled: Store) -> None:
    found = search(filled, "西安银行 抗疫")
    assert found.results[0].article.upstream_id == SEED_ID
    assert "<mark>西安银行</mark>" in found.results[0].title_html
    assert "<mark>" in found.results[0].snippet_html


def test_two_character_words_four_character_names_english_and_mixed(filled: Store) -> None:
    assert SEED_ID in ids(filled, "银行")  # a word inside 西安银行
    assert SEED_ID in ids(filled, "西安银行")
    assert ids(filled, "NVIDIA") and ids(filled, "nvidia") == ids(filled, "NVIDIA")
    mixed = titles(filled, "A股 解禁")
    assert mixed and all("解禁" in t for t in mixed)
    # the title counts more than the body: the flash titled with the word comes first
    assert "解禁" in titles(filled, "解禁")[0]


def test_a_stock_code_finds_articles_that_only_name_the_company(filled: Store) -> None:
    seed = filled.get("jekyll", SEED_ID)
    assert seed is not None and "600928" not in seed.title + article_text(seed)
    assert "600928.SH" in {s.code for s in seed.stocks}
    for query in ("600928", "600928.SH", "sh600928"):
        assert SEED_ID in ids(filled, query), query


def test_aliases_find_each_other(filled: Store) -> None:
    # the real flashes use one name or the other, never both
    says_nvidia = {a.upstream_id for a in cls_flashes() if "NVIDIA" in a.digest}
    says_yingweida = {a.upstream_id for a in cls_flashes() if "英伟达" in a.digest}
    assert says_nvidia and says_yingweida and not says_nvidia & says_yingweida
    for query in ("NVIDIA", "英伟达", "NVDA", "nvidia"):
        assert says_nvidia | says_yingweida <= set(ids(filled, query)), query
    pboc_only = {a.upstream_id for a in cls_flashes() if "中国人民银行" in a.title + a.digest}
    assert pboc_only and pboc_only <= set(ids(filled, "央行"))
    assert {"2373493"} <= set(ids(filled, "人民银行"))  # says 央行 only


HOSTILE = [
    '"',
    '""',
    "'",
    "*",
    "银行*",
    "OR",
    "银行 OR 保险",
    "NEAR(银行 保险)",
    "NOT",
    "AND AND",
    "(",
    ")",
    "((银行",
    "{title}: 银行",
    "title:银行",
    "^银行",
    "-",
    "--银行",
    "-银行",
    '"银行',
    "银行\x00保险",
    "\\",
    "😀 银行",
    "%_%",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "银" * 600,
    "　",
    "",
]
"""Queries a search box receives by mistake or on purpose: FTS5 and tsquery syntax, quotes,
control characters, markup, a very long word, nothing."""


def test_hostile_queries_never_fail(filled: Store) -> None:
    """Every query of HOSTILE on one store (one store per backend, not per query: a filled
    store takes a second or two to make, the searches milliseconds)."""
    failures = []
    for hostile in HOSTILE:
        try:
            found = search(filled, hostile)
        except Exception as exc:  # named with its query below
            failures.append(f"{hostile[:40]!r}: {type(exc).__name__}: {exc}")
            continue
        if found.total < len(found.results):
            failures.append(f"{hostile[:40]!r}: total {found.total} < {len(found.results)} shown")
        if any("<script>" in r.title_html + r.snippet_html for r in found.results):
            failures.append(f"{hostile[:40]!r}: markup shown as markup")
    assert not failures, "\n".join(failures)


def test_exclusions_and_phrases(filled: Store) -> None:
    everything = set(ids(filled, "财联社"))
    kept = search(filled, "财联社 -解禁", limit=100).results
    assert kept and {r.article.upstream_id for r in kept} < everything
    assert all("解禁" not in r.article.title + article_text(r.article) for r in kept)
    assert ids(filled, '"限售股 解禁"')


def test_filters(filled: Store) -> None:
    only_cls = ids(filled, "财联社", filters=Filters(source="cls.telegraph"))
    assert only_cls and all(i.isdigit() for i in only_cls)
    by_stock = ids(filled, "银行", filters=Filters(stock="600928"))
    assert by_stock == [SEED_ID]
    since = parse_time("2026-06-01")
    recent = search(filled, "财联社", Filters(since=since), limit=100).results
    assert recent and all(r.article.published.timestamp() >= since for r in recent)
    important = search(filled, "财联社", Filters(important=True), limit=100).results
    assert all(r.article.important for r in important)


def test_a_stock_filtered_total_is_what_the_pages_hold(filled: Store) -> None:
    """The count of a stock-filtered search starts from the stock's articles (wave 3 of
    #11): the same number as the matches the pages hold, with any other filter too."""
    for query in ("银行", "西安银行", "财联社", "银行 -西安"):
        for filters in (Filters(stock="600928"), Filters(stock="600928", source="cls.telegraph")):
            found = search(filled, query, filters, limit=100)
            assert found.total == len(found.results)
    assert search(filled, "银行", Filters(stock="600928")).total == 1


def test_the_index_follows_updates_deletes_and_reprocessing(store: Store) -> None:
    flash = cls_flashes()[0]
    store.save([flash])
    assert ids(store, "解禁") == [flash.upstream_id]
    store.save(
        [replace(flash, title="完全不同的标题", digest="新的摘要", body_html="<p>新的正文</p>")]
    )
    assert ids(store, "解禁") == []
    assert ids(store, "摘要") == [flash.upstream_id]
    store.reprocess(lambda a: replace(a, stocks=(StockTag("600928.SH", "西安银行", "name"),)))
    assert ids(store, "600928") == [flash.upstream_id]
    store.delete([flash.key])
    assert ids(store, "摘要") == []
    index_table = "article_search" if store.dialect == "postgresql" else "article_fts"
    with store.engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {index_table}")).scalar_one() == 0


def test_reprocess_reindex_writes_every_articles_index_again(store: Store) -> None:
    """A store whose index lacks an article (as one written before a dictionary word
    existed lacks that word): plain reprocessing leaves the index of an article whose
    stocks did not change alone; ``reindex`` writes it again (wave 16)."""
    from finews.store import fulltext

    flash = cls_flashes()[0]
    store.save([flash])
    with store.engine.begin() as conn:
        article_id = conn.execute(text("SELECT id FROM articles")).scalar_one()
        fulltext.unindex(conn, [article_id])
    assert ids(store, "解禁") == []
    store.reprocess(lambda a: a)
    assert ids(store, "解禁") == []
    store.reprocess(lambda a: a, reindex=True)
    assert ids(store, "解禁") == [flash.upstream_id]


def test_ranking_prefers_recent_articles_among_equals(store: Store) -> None:
    """Two articles equal but for their age: the newer one ranks first."""
    base = cls_flashes()[0]
    old = replace(base, upstream_id="old", published=datetime(2020, 1, 1, tzinfo=BEIJING))
    new = replace(base, upstream_id="new")
    store.save([old, new])
    assert ids(store, "解禁") == ["new", "old"]


def test_query_parsing_is_plain_text() -> None:
    assert parse("a OR b").fts() == '"a" AND "OR" AND "b"'
    assert parse('say "hi').fts() == '"say" AND "hi"'
    assert parse("。。。").fts() is None
    assert parse('"').fts() is None
    assert parse("-银行").fts() is None  # only an exclusion: nothing to look for


def test_a_v4_database_gets_its_index_when_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = Store.open(url)
    store.save(cls_flashes())
    with store.engine.begin() as conn:  # back to how version 4 left it
        conn.execute(text("DROP TABLE article_fts"))
        conn.execute(text("DROP TABLE source_status"))
        conn.execute(text("DROP INDEX ix_articles_search"))
        conn.execute(text("DELETE FROM schema_migrations WHERE version = 5"))
    store.close()
    reopened = Store.open(url)
    assert ids(reopened, "解禁")
    assert reopened.source_status()["cls.telegraph"]["articles"] == 7
    reopened.close()


def test_cli_search(tmp_path: Path, store: Store, db_url: str) -> None:
    populate(store)
    env = {"FINEWS_DB": db_url}
    result = run_cli("search", "西安银行", "抗疫", "--json", env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["results"][0]["id"] == SEED_ID
    assert data["results"][0]["path"].startswith("a/2021-12-29/")
    # the keys the other faces give an article and its story (wave 13's walk)
    first = data["results"][0]
    assert first["article"] == f"{first['source']}/{SEED_ID}"
    assert first["story"] == first["cluster"] and isinstance(first["story"], int)
    plain = run_cli("search", "西安银行", env=env)
    assert plain.returncode == 0 and "西安银行" in plain.stdout and "of 1 articles" in plain.stderr
    bad = run_cli("search", "银行", "--since", "yesterday-ish", env=env)
    assert bad.returncode == 2 and "not a time" in bad.stderr
    nothing = run_cli("search", "'\"(", env=env)
    assert nothing.returncode == 0 and "no articles" in nothing.stderr
    # -word leaves a word out, typed as its own argument too (docs/search.md); what looks
    # like a mistyped option is refused with one line
    without = run_cli("search", "西安银行", "-抗疫", "--json", env=env)
    assert without.returncode == 0, without.stderr
    assert SEED_ID not in {r["id"] for r in json.loads(without.stdout)["results"]}
    unknown = run_cli("search", "银行", "--stock", "西安", env=env)
    assert unknown.returncode == 2 and "unknown stock '西安'" in unknown.stderr, unknown.stderr
    named = run_cli("search", "抗疫", "--stock", "西安银行", "--json", env=env)
    assert SEED_ID in {r["id"] for r in json.loads(named.stdout)["results"]}, named.stderr
    blank = run_cli("search", "  ", env=env)
    assert blank.returncode == 2 and "give a word to search for" in blank.stderr
    backwards = run_cli("search", "银行", "--since", "2026-08-20", "--until", "2026-08-01", env=env)
    assert backwards.returncode == 2 and "is not before --until" in backwards.stderr
    zoned = run_cli("search", "西安银行", "--since", "2021-12-29 00:00+08:00", "--json", env=env)
    assert zoned.returncode == 0 and SEED_ID in zoned.stdout, zoned.stderr
    refused = run_cli("search", "西安银行", "--limt", "3", env=env)
    assert refused.returncode == 2 and "No such option: --limt" in refused.stderr
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    typo = run_cli("search", "--sinse", "7d", "银行", env=env)
    assert typo.returncode == 2
    assert "No such option: --sinse (Possible options: --since)" in typo.stderr
    latin = run_cli("search", "西安银行", "-Micron", "--json", env=env)  # an exclusion too
    assert latin.returncode == 0 and SEED_ID in latin.stdout, latin.stderr


def test_snippets_lose_the_dateline_and_never_cut_a_number_in_two() -> None:
    """Wave 9's walk: "财联社5月22日电，" opened a third of the snippets (the result's time and
    outlet say it, as a stream line's do), and 83 of 2,000 ended inside a number
    ("比亚迪2002…", "概率为0.…"); wave 10's screenshots, a window opening on a comma.  Every
    window over the real texts of these flashes."""
    import re as regex

    from finews.search.snippet import snippet

    texts = [
        article_text(a)
        for a in cls_flashes()
        + [a for name in ("cls", "eastmoney", "ths") for a in _bundled_articles(name)]
    ]
    edges = 0
    for flash in texts:
        plain = " ".join(flash.split())
        for width in (60, 90, 120):
            for term in dict.fromkeys(regex.findall(r"[\u4e00-\u9fff]{2}", plain)[::7]):
                marked = snippet(plain, [term], width)
                shown = regex.sub(r"<[^>]+>", "", marked).replace("&amp;", "&")
                assert not regex.match(r"(?:【[^】]*】)?\s*财联社\d+月\d+日电", shown), shown
                body = shown.removeprefix("…").removesuffix("…")
                where = plain.find(body)
                if where < 0:
                    continue  # the dateline went, or entities: the edges are checked below
                end = where + len(body)
                if shown.endswith("…"):
                    edges += 1
                    assert not _inside_a_run(plain, end), (term, shown)
                if shown.startswith("…"):
                    edges += 1
                    assert not _inside_a_run(plain, where), (term, shown)
                    # nor does it open on a comma (wave 10: "…，属于股票交易…")
                    assert shown[1] not in "，。、；：,;:", (term, shown)
    assert edges > 500  # the property was exercised


def _inside_a_run(text: str, at: int) -> bool:
    """Whether a cut at ``at`` splits a number or a Latin word of at most 16 characters
    (a longer run, a URL or a name run together, may be cut: finews.process.text.MAX_RUN)."""
    import re as regex

    for run in regex.finditer(r"[0-9A-Za-z.,%]+", text):
        if run.start() < at < run.end():
            return len(run.group()) <= 16
    return False


def _bundled_articles(name: str) -> list[Article]:
    from finews.demo.upstreams import bundled
    from finews.errors import InputError
    from finews.sources import cls, eastmoney, ths

    def em(item: dict[str, object]) -> Article:
        return eastmoney.normalise_fast(item, "https://finance.eastmoney.com/a/")

    adapter = {"cls": cls.normalise, "ths": ths.normalise, "eastmoney": em}[name]
    out = []
    for item in bundled(name):
        try:
            out.append(adapter(item))
        except InputError:  # a record that is not an article: not this test's
            continue
    return out


def test_the_command_line_prints_an_untitled_flash_once(tmp_path: Path) -> None:
    """Wave 9's walk: `finews search` printed an untitled flash's headline (its text's
    start) and then the same text under it; the search page and the stream print it once."""
    flash = next(a for a in _bundled_articles("cls") if a.upstream_id == "2401657")
    db = tmp_path / "s.db"
    with Store.open(f"sqlite:///{db}") as store:
        store.save([Processor.default()(flash)])
    done = run_cli("--db", str(db), "search", "--local", "布伦特原油")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, done.stdout
    assert "布伦特原油期货跌幅扩大至5%，报78.978美元/桶" in lines[0]
    assert "财联社6月16日电" not in done.stdout


def test_the_command_line_names_an_unknown_source_or_outlet(tmp_path: Path) -> None:
    """``finews search --source bloomberg`` said "no articles found … (try without)"; like
    the MCP tools (wave 10), it says what is known instead, and exits 2."""
    from daydata import day_store

    db = tmp_path / "day.db"
    day_store(f"sqlite:///{db}").close()
    for option, value, said in (
        ("--source", "bloomberg", "unknown source 'bloomberg' (sources are ids: cls.telegraph"),
        ("--media", "财联", "unknown media '财联' (did you mean 财联社?)"),
    ):
        result = run_cli("--db", str(db), "search", "央行", option, value, "--local")
        assert result.returncode == 2 and said in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    fine = run_cli("--db", str(db), "search", "央行", "--media", "财联社", "--local", "--json")
    assert fine.returncode == 0 and json.loads(fine.stdout)["results"]


def test_the_command_line_answers_a_traders_typing(tmp_path: Path) -> None:
    """Wave 15's walk: only words to leave out said "no articles found"; a page past the
    last said "no articles found past the first 100" of 69; --since past the store's news
    did not say where it ends; a company's other name (腾讯, Tesla) was an unknown stock, and
    a Hong Kong code without its leading zeros (9988) no stock at all."""
    from daydata import day_store

    db = tmp_path / "day.db"
    day_store(f"sqlite:///{db}").close()

    def search_(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli("--db", str(db), "search", "--local", *args)

    excluded = search_("--", "-央行", "-美联储")
    assert excluded.returncode == 2 and "only says what to leave out" in excluded.stderr
    total = json.loads(search_("央行", "--json").stdout)["total"]
    assert total > 0
    past = search_("央行", "--offset", "10000")
    assert past.returncode == 0
    counted = f"{total} article" + ("s" if total != 1 else "")
    assert f"only {counted}: --offset 10000 is past the last of them" in past.stderr
    late = search_("央行", "--since", "24h")
    assert late.returncode == 0 and "the newest article is from 2026-06-1" in late.stderr
    assert '--since "2026-06-1' in late.stderr, late.stderr
    typed = (
        ("腾讯", "00700.HK"),
        ("Tesla", "TSLA.US"),
        ("茅台", "600519.SH"),
        ("9988", "09988.HK"),
    )
    for name, code in typed:
        said = search_("zzqqzz", "--stock", name)  # no article: the message names the filter
        assert said.returncode == 0, said.stderr
        assert f"no articles found with --stock {code} (try without)" in said.stderr
    two = search_("央行", "--stock", "CATL")
    assert two.returncode == 2
    assert "宁德时代 300750.SZ, 宁德时代 03750.HK" in two.stderr, two.stderr
    # a name other listings' names begin with is theirs too (the review of wave 15: 万科 had
    # become the H share alone); another company's name that begins so is not (腾讯音乐)
    vanke = search_("央行", "--stock", "万科")
    assert vanke.returncode == 2 and "万科A 000002.SZ" in vanke.stderr, vanke.stderr
    assert "万科企业 02202.HK" in vanke.stderr
    left_out = search_("--", '-"美联储 降息"')
    assert left_out.returncode == 2 and "only says what to leave out" in left_out.stderr


def test_every_face_reads_a_company_name_as_the_command_line_does() -> None:
    """The page and the API passed CATL (an A and an H share) to the store as a code and
    answered 0; they refuse it as the command line does (the review of wave 15)."""
    from finews.search.filters import UnknownStock, stock_filter

    assert stock_filter("腾讯") == "00700.HK" and stock_filter("７００") == "00700.HK"
    for ambiguous in ("CATL", "万科"):
        with pytest.raises(UnknownStock):
            stock_filter(ambiguous)
