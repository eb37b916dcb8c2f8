"""Stock tagging and reprint clustering on real articles (real posts, real 7×24 items)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import JEKYLL_HANDMADE, SEED, run_cli
from finews.jekyll.read import parse_post
from finews.model import Article, StockTag
from finews.outputs.files import replaced_when_complete
from finews.process.pipeline import Processor
from finews.process.stocks import StockTagger, load_directory
from finews.store import Store
from sitedata import real_articles
from standin import real_fast_items

TAGGER = StockTagger(load_directory())


def text_article(text: str, **kw: object) -> Article:
    """A real 7×24 item with its text replaced (the sentences below are hand-written)."""
    base = real_articles(fast=1, posts=0)[0]
    fields: dict[str, object] = {"title": "", "digest": "", "stocks": ()}
    fields.update(kw)
    return replace(base, body_html=f"<p>{text}</p>", **fields)  # type: ignore[arg-type]


def codes(article: Article) -> dict[str, str]:
    return {s.code: s.origin for s in TAGGER.tag(article).stocks}


def test_markers_in_real_eastmoney_html() -> None:
    seed = parse_post(SEED.read_text(encoding="utf-8"), str(SEED))
    assert codes(seed) == {"600928.SH": "marker"}
    latest = JEKYLL_HANDMADE / "2022-05-26-202205262391921712.md"
    post = parse_post(latest.read_text(encoding="utf-8"), str(latest))
    tags = codes(post)
    assert tags["NIO.US"] == "marker"  # data-code="106,NIO"
    assert not any(code.startswith("BK") for code in tags)  # sector boards are not stocks


def test_upstream_code_forms() -> None:
    from finews.process.stockcodes import from_eastmoney, from_prefixed, from_sina

    assert from_eastmoney("1.600519") == "600519.SH"
    assert from_eastmoney("0.000001") == "000001.SZ"
    assert from_eastmoney("0.430047") == "430047.BJ"
    assert from_eastmoney("116.00700") == "00700.HK"
    assert from_eastmoney("105.AAPL") == "AAPL.US"
    assert from_eastmoney("90.BK0800") is None and from_eastmoney("garbage") is None
    assert from_eastmoney("1.000001") == "000001.SH"  # 上证指数
    assert from_eastmoney("0.399006") == "399006.SZ"  # 创业板指
    # funds and convertible bonds Eastmoney tags by theme (real values of the corpus)
    for fund in ("0.161631", "0.159945", "1.513880", "1.515980", "1.113050", "0.123100"):
        assert from_eastmoney(fund) is None, fund
    assert from_prefixed("SZ000001") == "000001.SZ" and from_prefixed("sh600519") == "600519.SH"
    assert from_sina("cn", "sh600030") == "600030.SH"
    assert from_sina("hk", "06030") == "06030.HK"
    assert from_sina("us", "jpm") == "JPM.US"
    assert from_sina("fund", "510300") is None


def test_codes_in_text_only_when_marked_as_codes() -> None:
    assert codes(text_article("贵州茅台(600519)股价创新高"))["600519.SH"] in {"code", "name"}
    assert codes(text_article("平安银行 SZ000001 公告")) == {"000001.SZ": "code"}
    assert "000001.SZ" in codes(text_article("代码：000001 今日复牌"))
    assert codes(text_article("成交额600519元，涨幅300750")) == {}
    assert codes(text_article("指数 000001.SH 上涨")) == {}  # an index, not 平安银行


def test_names_that_are_ordinary_words() -> None:
    assert codes(text_article("连云港港口吞吐量创新高，太阳能装机大增，机器人产业提速")) == {}
    assert codes(text_article("连云港(601008)涨停")) == {"601008.SH": "code"}
    assert "601988.SH" not in codes(text_article("中国银行业协会发布报告"))
    assert "601988.SH" in codes(text_article("中国银行发布公告"))
    # a sentence of the real 同花顺 flash of 华春莹 on 东盟 (wave 8's walk: tagged 动力源)
    assert codes(text_article("中国始终是全球经济“稳定锚”和“动力源”，中国的发展将")) == {}
    assert codes(text_article("动力源(600405)涨停")) == {"600405.SH": "code"}
    # wave 13's walk: 数字人 (920670.BJ) inside 数字人民币, 鄂尔多斯 (600295.SH) the city
    assert codes(text_article("中国人民银行新增8家数字人民币业务运营机构")) == {}
    assert codes(text_article("推进内蒙古鄂尔多斯、陕西榆林等地建设")) == {}
    assert codes(text_article("鄂尔多斯(600295)涨停")) == {"600295.SH": "code"}
    # a name followed by 国际 is its namesake (a 财联社 flash of 2026-08-17): 中国黄金国际 is
    # 2099.HK, not 中国黄金 600916.SH; 国际化 is still the company (财联社, 2026-08-07)
    quoted = "截至发稿，紫金黄金国际(02259.HK)涨4.39%，中国黄金国际(02099.HK)涨3.26%"
    assert "600916.SH" not in codes(text_article(quoted))
    assert "600916.SH" in codes(text_article("中国黄金发布公告"))
    assert "601211.SH" in codes(text_article("国泰君安国际拟私有化退市 国泰海通国际化战略步伐加快"))
    # ... and so is a business it names (the review of wave 15)
    assert "002594.SZ" in codes(text_article("比亚迪国际市场销量同比增长"))
    assert "601111.SH" in codes(text_article("中国国航国际航线恢复"))
    # an upstream tag confirms an ambiguous name
    confirmed = text_article("机器人涨停", stocks=(StockTag("300024.SZ", "", "upstream"),))
    assert codes(confirmed) == {"300024.SZ": "upstream"}


def test_a_fund_tagged_by_theme_is_no_stock_even_when_stored_before() -> None:
    """Eastmoney tags AI flashes with an AI fund (0.161631) and others with ETFs and
    bonds, with no name anywhere: the adapter no longer reads them, and tags stored before
    are dropped when the store is processed again (``finews reprocess``) — unless an
    upstream named it."""
    stored = text_article(
        "广东省新增14款已完成登记的生成式人工智能服务",
        stocks=(
            StockTag("161631.SZ", "", "upstream"),
            StockTag("513880.SH", "", "upstream"),
            StockTag("600519.SH", "", "upstream"),
            StockTag("980030.SZ", "消费电子", "upstream"),
        ),
    )
    assert codes(stored) == {"600519.SH": "upstream", "980030.SZ": "upstream"}


def test_real_fast_items_keep_upstream_tags_and_add_text_ones() -> None:
    processor = Processor(TAGGER)
    seen_text = 0
    for article in real_articles(fast=150, posts=0):
        tagged = processor(article)
        upstream = {s.code for s in article.stocks}
        assert upstream <= {s.code for s in tagged.stocks}
        seen_text += sum(1 for s in tagged.stocks if s.origin in {"name", "code"})
    assert seen_text > 5


@pytest.mark.parametrize(
    "body",
    [
        '<span data-code="garbage|x|y">x</span><span data-code=",,,">y</span>',
        "<div>" * 5000 + "平安银行" + "</div>" * 5000,
        "<p>" + "平安银行公告。" * 200_000 + "</p>",  # a 4 MB body
        '<p>\udcff broken <a href="javascript:alert(1)">x</a></p>',
    ],
)
def test_bad_bodies_are_tagged_without_crashing(body: str) -> None:
    base = text_article("")
    tagged = Processor(TAGGER)(replace(base, body_html=body))
    assert isinstance(tagged.stocks, tuple)


def flash(item: dict[str, object], **kw: object) -> Article:
    from finews.sources.eastmoney import normalise_fast

    return replace(normalise_fast(item, "https://finance.eastmoney.com"), **kw)  # type: ignore[arg-type]


def cluster_of(store: Store, article: Article) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.exec_driver_sql(
                "SELECT cluster_id FROM articles WHERE source = ? AND upstream_id = ?", article.key
            ).scalar_one()
        )


def test_reprints_share_a_cluster_and_other_stories_do_not(store: Store) -> None:
    items = real_fast_items()
    original = flash(items[0])
    # the same real story as another outlet would reprint it: dateline, credit, a longer text
    reprint = replace(
        original,
        source="cls.telegraph",
        upstream_id="9000001",
        title="",
        digest="财联社6月16日电，" + original.digest + "（证券时报）",
        published=original.published + timedelta(minutes=3),
    )
    other = flash(items[1])
    late = replace(reprint, upstream_id="9000002", published=original.published + timedelta(days=5))
    store.save([original, other])
    store.save([reprint, late])
    assert cluster_of(store, reprint) == cluster_of(store, original)
    assert cluster_of(store, other) != cluster_of(store, original)
    assert cluster_of(store, late) != cluster_of(store, original)  # outside the time window


def test_real_flash_stream_clusters_few(store: Store) -> None:
    articles = [flash(i) for i in real_fast_items()]
    store.save(articles)
    with store.engine.connect() as conn:
        clusters = conn.exec_driver_sql(
            "SELECT COUNT(DISTINCT cluster_id) FROM articles"
        ).scalar_one()
    # one outlet's own stream is mostly distinct stories
    assert clusters >= len(articles) * 0.9


def test_cli_stocks_reprocess_and_export_json(tmp_path: Path) -> None:
    db = str(tmp_path / "f.db")
    run_cli(
        "--db",
        db,
        "import",
        "jekyll",
        str(SEED),
        str(JEKYLL_HANDMADE / "2022-05-26-202205262391921712.md"),
    )
    result = run_cli("--db", db, "stocks", "600928", "--json")
    assert result.returncode == 0, result.stderr
    timeline = json.loads(result.stdout)
    assert timeline["name"] == "西安银行" and timeline["articles"][0]["origin"] == "marker"
    assert (
        json.loads(run_cli("--db", db, "stocks", "西安银行", "--json").stdout)["code"]
        == "600928.SH"
    )
    unknown = run_cli("--db", db, "stocks", "不存在的公司")
    assert unknown.returncode == 2 and "unknown stock" in unknown.stderr  # a usage error
    assert run_cli("--db", db, "reprocess").returncode == 0
    again = run_cli("--db", db, "reprocess", "--reindex")
    assert again.returncode == 0 and "search index written again" in again.stdout
    assert json.loads(run_cli("--db", db, "stocks", "600928", "--json").stdout)["articles"]
    lines = run_cli("--db", db, "export", "json", "-").stdout.splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 2
    assert {
        "id",
        "source",
        "media",
        "title",
        "time",
        "url",
        "stocks",
        "cluster",
        "canonical",
        "important",
    } <= set(records[0])
    assert all(r["canonical"] for r in records)  # two different stories: each stands alone
    assert any(s["code"] == "600928.SH" for r in records for s in r["stocks"])
    # into a file: the same lines, and a line saying how many went where
    target = tmp_path / "articles.jsonl"
    target.write_text("an older export\n", encoding="utf-8")
    to_file = run_cli("--db", db, "export", "json", str(target))
    assert to_file.returncode == 0, to_file.stderr
    assert to_file.stdout.strip() == f"2 articles written to {target}"
    assert target.read_text(encoding="utf-8").splitlines() == lines
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp")) == []
    typo = run_cli("--db", db, "export", "json", str(tmp_path / "nosuch" / "a.jsonl"))
    assert typo.returncode == 1 and not (tmp_path / "nosuch").exists()
    assert typo.stderr.startswith(f"error: No such file or directory: {tmp_path / 'nosuch'}")


def test_an_export_stopped_half_way_leaves_the_previous_file(tmp_path: Path) -> None:
    """What `export json` writes a file through: the old file stays whole until the new one
    is complete, and a failed one leaves no temporary file behind."""
    target = tmp_path / "articles.jsonl"
    target.write_text("the previous export\n", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt), replaced_when_complete(target) as handle:
        handle.write("the first line of a new one\n")
        raise KeyboardInterrupt  # Ctrl-C half-way
    assert target.read_text(encoding="utf-8") == "the previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["articles.jsonl"]
    with replaced_when_complete(target) as handle:
        handle.write("a whole new one\n")
    assert target.read_text(encoding="utf-8") == "a whole new one\n"
    assert [p.name for p in tmp_path.iterdir()] == ["articles.jsonl"]
    # what the replaced file was stays so (the wave 12 review: a 0600 export became 0644,
    # a link became a file, and /dev/stdout was "replaced" by a file in /dev)
    target.chmod(0o600)
    with replaced_when_complete(target) as handle:
        handle.write("private\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    link = tmp_path / "latest.jsonl"
    link.symlink_to(target.name)
    with replaced_when_complete(link) as handle:
        handle.write("through the link\n")
    assert link.is_symlink() and target.read_text(encoding="utf-8") == "through the link\n"
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    reader = subprocess.Popen(["cat", str(pipe)], stdout=subprocess.PIPE, text=True)
    with replaced_when_complete(pipe) as handle:
        handle.write("into a pipe\n")
    assert reader.communicate(timeout=10)[0] == "into a pipe\n"
    assert pipe.exists() and stat.S_ISFIFO(pipe.stat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["articles.jsonl", "latest.jsonl", "pipe"]


def test_a_damaged_installed_stock_list_falls_back_to_the_packaged_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A list `stocks --refresh` installed and something damaged since (here two bytes of
    text) would leave every article untagged: the packaged list tags, and a warning says
    why."""
    damaged = tmp_path / "a_shares.csv"
    damaged.write_text("vm\n", encoding="utf-8")
    with caplog.at_level("WARNING"):
        directory = load_directory(damaged)
    assert directory.display.get("300750.SZ") == "宁德时代"
    assert "installed stock list is not usable" in caplog.text
    good = tmp_path / "good.csv"
    good.write_text("ts_code,name\n600519.SH,贵州茅台\n", encoding="utf-8")  # hand-written
    assert set(load_directory(good).display) >= {"600519.SH"}
    assert "300750.SZ" not in load_directory(good).display
    # read once a process, and again when the file changes (`stocks --refresh` while
    # `serve` is up)
    good.write_text("ts_code,name\n300750.SZ,宁德时代\n", encoding="utf-8")  # hand-written
    assert set(load_directory(good).display) >= {"300750.SZ"}
