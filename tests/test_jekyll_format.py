"""The original site's post format: every real layout parses, the latest round-trips."""

from __future__ import annotations

import contextlib
import csv
import re
from dataclasses import replace
from datetime import datetime
from importlib.resources import files
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import BROKEN_REAL, DATA, JEKYLL_HANDMADE, JEKYLL_REAL, SEED
from finews.errors import JekyllFormatError
from finews.jekyll.read import parse_post, split_front_matter
from finews.jekyll.slug import ascii_slug, media_slug, original_slug
from finews.jekyll.write import JekyllOptions, post_filename, render_post
from finews.model import BEIJING, Article

OPTIONS = JekyllOptions()
REAL_POSTS = sorted(p for p in JEKYLL_REAL.rglob("*.md") if p != BROKEN_REAL)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_seed_round_trips_byte_for_byte() -> None:
    text = read(SEED)
    article = parse_post(text, str(SEED))
    assert render_post(article, OPTIONS).encode("utf-8") == SEED.read_bytes()


def test_seed_fields_recovered() -> None:
    a = parse_post(read(SEED), str(SEED))
    assert a.title == "打出金融科技“组合拳” 西安银行抗疫在行动"
    assert a.published == datetime(2021, 12, 29, 21, 45, 37, tzinfo=BEIJING)
    assert a.media == "财联社"
    assert a.upstream_id == "NW202112292230344237"
    assert a.category == ""  # the media's own slug: listed under the media
    assert a.body_html.startswith("<!-- EM_StockImg_Start -->")
    assert a.body_html.endswith('<p class="em_media">（文章来源：财联社）</p>')
    assert "infoCode=NW202112292230344237" in a.url


def test_latest_rolling_layout_round_trips() -> None:
    path = JEKYLL_HANDMADE / "2022-05-26-202205262391921712.md"
    text = read(path)
    a = parse_post(text, str(path))
    assert a.digest.startswith("据霍尼韦尔官网消息")
    assert a.body_html.startswith('<p style="display:none')
    assert a.media == "上海证券报"  # from the em_media paragraph, tags inside stripped
    assert a.upstream_id == "202205262391921712"
    assert render_post(a, OPTIONS) == text


@pytest.mark.parametrize("path", REAL_POSTS, ids=lambda p: p.name)
def test_every_real_post_parses_and_reexports_stably(path: Path) -> None:
    text = read(path)
    a = parse_post(text, str(path))
    assert a.title and a.upstream_id
    assert a.published.tzinfo is not None
    out = render_post(a, OPTIONS)
    again = parse_post(out, str(path))
    assert again == a  # nothing lost going through the latest layout
    assert render_post(again, OPTIONS) == out  # and the latest layout is a fixed point
    meta, _ = split_front_matter(out, "out")
    assert yaml.safe_load(out.split("---\n")[1])["title"] == a.title
    assert meta["date"].endswith("+0800")


def test_old_rolling_layouts_recover_everything() -> None:
    # back-links on two lines, relative ../ links, no zone in the date
    two_lines = JEKYLL_REAL / "_posts" / "2021-12-08-202112082206742097.md"
    a = parse_post(read(two_lines), str(two_lines))
    assert a.title == "北向资金净流入达30亿元"
    assert a.digest == "北向资金净流入达30亿元。"
    assert a.body_html == ""
    assert a.url == "http://hk.eastmoney.com/news/1533,202112082206742097.html"
    assert a.upstream_id == "202112082206742097"
    assert a.published == datetime(2021, 12, 8, 10, 40, 58, tzinfo=BEIJING)
    assert a.category == "emnews"
    # no back-links at all
    bare = JEKYLL_REAL / "_posts" / "2021-12-08-202112082206738071.md"
    b = parse_post(read(bare), str(bare))
    assert b.url.endswith("1533,202112082206738071.html")
    # the finews.zning.me domain
    zning = JEKYLL_REAL / "old_post" / "2021-12-08-202112082206672930.md"
    c = parse_post(read(zning), str(zning))
    assert c.upstream_id == "202112082206672930"
    # an empty <> link: the id comes from the file name
    empty = JEKYLL_REAL / "_posts" / "2021-12-08-202112082206870651.md"
    d = parse_post(read(empty), str(empty))
    assert d.url == "" and d.upstream_id == "202112082206870651"
    assert d.media == "东方财富Choice数据"


def test_old_layout_exports_in_latest_layout() -> None:
    path = JEKYLL_REAL / "old_post" / "2021-12-08-202112082206811771.md"
    out = render_post(parse_post(read(path), str(path)), OPTIONS)
    body = out.split("---\n", 2)[2]
    assert body.startswith("> 有研稀土今日官微消息")
    assert body.endswith(
        "<http://finance.eastmoney.com/news/1354,202112082206811771.html>\n\n"
        "[返回东财滚动新闻](//finews.withounder.com/emnews/)｜[返回首页](//finews.withounder.com/)"
    )


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("bad-unclosed.md", "not closed"),
        ("bad-nolink.md", "unknown layout"),
        ("bad-date.md", "bad date"),
        ("bad-nofrontmatter.md", "no front matter"),
    ],
)
def test_bad_posts_raise_a_clear_error(name: str, reason: str) -> None:
    path = JEKYLL_HANDMADE / name
    with pytest.raises(JekyllFormatError, match=reason) as info:
        parse_post(read(path), str(path))
    assert str(path) in str(info.value)


def test_real_post_with_empty_title_and_date_is_refused() -> None:
    with pytest.raises(JekyllFormatError, match="title"):
        parse_post(read(BROKEN_REAL), str(BROKEN_REAL))


def test_titles_that_broke_the_original_yaml_are_written_validly() -> None:
    base = parse_post(read(SEED), str(SEED))
    for title in ['他说"买入"', "back\\slash", "line\nbreak", "# 不是注释", "  spaces  "]:
        out = render_post(replace(base, title=title), OPTIONS)
        front = yaml.safe_load(out.split("---\n")[1])
        assert front["title"] == title
        assert parse_post(out, "x").title == title.strip()


def test_media_names_that_are_not_plain_yaml_are_quoted() -> None:
    base = parse_post(read(SEED), str(SEED))
    out = render_post(replace(base, media="*ST国华", category=""), OPTIONS)
    front = yaml.safe_load(out.split("---\n")[1])
    assert front["tags"] == "*ST国华新闻"
    assert parse_post(out, "x").media == "*ST国华"


def test_slugs_match_the_original() -> None:
    assert original_slug("财联社") == "cailianshe"
    assert original_slug("中国银行") == "zhongguoyinxing"
    assert original_slug("证券时报") == "zhengquanshibao"
    assert original_slug("东方财富Choice数据") == "dongfangcaifuChoiceshuju"
    assert ascii_slug("东方财富Choice数据") == "dong-fang-cai-fu-choice-shu-ju"
    assert media_slug("财联社", ascii_only=True) == "cai-lian-she"
    assert media_slug("../..") == "media"


def test_post_filename() -> None:
    a = parse_post(read(SEED), str(SEED))
    assert post_filename(a) == "2021-12-29-NW202112292230344237.md"
    assert post_filename(replace(a, source="cls.telegraph", upstream_id="2370637")) == (
        "2021-12-29-cls-2370637.md"
    )
    assert post_filename(replace(a, upstream_id="../../etc/passwd")) == "2021-12-29-etc_passwd.md"


# -- categories and tags: bare exactly when YAML reads the bare form back (issue #13) --------

MEDIA_NAMES = DATA / "jekyll" / "media_names.txt"
PSYCH_NUMBER = re.compile(r"^[-+]?[0-9][0-9_,]*(?:\.[0-9_]*)?$")


def _company_names() -> list[str]:
    with (files("finews") / "data" / "a_shares.csv").open(encoding="utf-8") as handle:
        return [row["name"] for row in csv.DictReader(handle)]


def _bare_reads_back(key: str, value: str) -> bool:
    """The oracle: the original scripts wrote ``key: value`` bare; YAML 1.1 (PyYAML; Ruby's
    Psych also reads ``1,000`` as a number) must read that line back as the same string."""
    if PSYCH_NUMBER.match(value):
        return False
    try:
        return bool(yaml.safe_load(f"{key}: {value}\n") == {key: value})
    except yaml.YAMLError:
        return False


def _check_media(base: Article, media: str, *, exact: bool = True) -> bool:
    """Render ``media`` as a post's media; True when something had to be quoted.  With
    ``exact``, bare exactly when the oracle says bare reads back; without, bare only then
    (our reader may want more quoted: a ``#`` after a digit)."""
    out = render_post(replace(base, media=media, category=""), OPTIONS)
    header = out.split("---\n")[1]
    lines = dict(line.split(": ", 1) for line in header.splitlines() if ": " in line)
    quoted = False
    for key, value in (("categories", media_slug(media)), ("tags", f"{media}新闻")):
        if lines[key] == value:
            assert _bare_reads_back(key, value), (media, key)
        elif _bare_reads_back(key, value) and exact:
            raise AssertionError(f"{media}: {key} quoted, but bare reads back")  # original's form
        else:
            quoted = True
        assert yaml.safe_load(header)[key] == value, (media, key)
    back = parse_post(out, "x")
    assert back.media == media and back.category == "", media
    assert render_post(back, OPTIONS) == out, media
    return quoted


def test_every_corpus_media_and_company_name_is_bare_exactly_when_yaml_reads_it_back() -> None:
    media = [n for n in MEDIA_NAMES.read_text(encoding="utf-8").splitlines() if n]
    companies = _company_names()
    assert "21世纪经济报道" in media and len(companies) > 5000
    base = parse_post(read(SEED), str(SEED))
    quoted = {name for name in [*media, *companies] if _check_media(base, name)}
    # the digit-first names stay bare, as the original wrote them
    out = render_post(replace(base, media="21世纪经济报道", category=""), OPTIONS)
    assert "categories: 21shijijingjibaodao\ntags: 21世纪经济报道新闻\n" in out
    assert "21世纪经济报道" not in quoted
    assert {n for n in quoted if not n.startswith("*")} == set(), quoted  # only aliases


YAML_SPECIAL = list("0123456789aZy新闻#:*&-?!%@`|>[]{},~.'\" \t\x85\u2028\u3000")


@given(
    st.text(
        # a post is UTF-8: a lone surrogate (Cs) cannot be in a media name read from one
        st.one_of(st.sampled_from(YAML_SPECIAL), st.characters(exclude_categories=("Cs",))),
        min_size=1,
        max_size=12,
    ).filter(lambda t: t.strip() == t and "\n" not in t)
)
@settings(max_examples=300, deadline=None)
def test_any_media_name_reads_back_the_same(media: str) -> None:
    base = Article(
        source="jekyll",
        upstream_id="NW1",
        title="t",
        published=datetime(2021, 12, 29, 21, 45, 37, tzinfo=BEIJING),
        media=media,
        body_html="<p>x</p>",
    )
    with contextlib.suppress(JekyllFormatError):  # refused outright, never misread
        _check_media(base, media, exact=False)
