"""Briefings (issue #14) on a fixed slice of a real day (tests/daydata.py): golden Markdown,
the rules it follows checked against the store independently, the periods, the summarizer
hook with a local script, and the command line."""

from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest

from conftest import run_cli
from daydata import DAY, NOW, day_store, trading_articles
from finews.briefing import periods
from finews.briefing.compose import EXTRACT_CHARS, GROUPS, is_company
from finews.briefing.service import Made, make
from finews.config import Settings, load_settings
from finews.model import BEIJING
from finews.store import Store

GOLDEN = Path(__file__).parent / "golden" / "briefing"
THE_DAY = date.fromisoformat(DAY)


@pytest.fixture(scope="module")
def day_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("briefing") / "finews.db"
    day_store(f"sqlite:///{path}").close()
    return path


@pytest.fixture
def day(day_db: Path) -> Store:
    store = Store.open(f"sqlite:///{day_db}", create=False)
    yield store
    store.close()


def briefing(store: Store, session: str, **settings: str) -> Made:
    env = {f"FINEWS_BRIEFING_{k.upper()}": v for k, v in settings.items()}
    return make(store, load_settings(env=env), THE_DAY, session, now=NOW)


@pytest.mark.parametrize("session", ["morning", "close"])
def test_golden_markdown(day: Store, session: str) -> None:
    """The Markdown of each session, byte for byte (reviewed by hand when it was made;
    UPDATE_GOLDEN=1 writes it anew after a deliberate change)."""
    text = briefing(day, session).markdown()
    golden = GOLDEN / f"{DAY}-{session}.md"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def _rows(store: Store) -> list[tuple[int, int, str, int, bool, str]]:
    with store.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.exec_driver_sql(
                "SELECT id, cluster_id, media, published_at, important, stocks FROM articles"
            )
        ]


@pytest.mark.parametrize("session", ["morning", "close"])
def test_the_briefing_follows_its_rules(day: Store, session: str) -> None:
    made = briefing(day, session)
    b = made.briefing
    p = b.period
    rows = _rows(day)
    in_period = [r for r in rows if p.since <= r[3] < p.until]
    told = {r[1] for r in in_period}
    assert b.articles == len(in_period) and b.stories == len(told)
    assert [g for g, _ in b.groups] == [g for g in GROUPS if g in dict(b.groups)]
    for group, stories in b.groups:
        assert 1 <= len(stories) <= 5
        scores = [s.score for s in stories]
        assert scores == sorted(scores, reverse=True), group
        for s in stories:
            assert s.id in told and s.group == group
            members = [r for r in rows if r[1] == s.id and r[3] < p.until]
            assert len(s.reports) == len(members)
            assert s.outlets == len({r[2] for r in members})
            assert len(s.extract) <= EXTRACT_CHARS and "【" not in s.extract
            assert s.headline and "电，" not in s.headline[:12]
    # no story left out of its group ranks above one shown in it
    shown = {s.id for s in b.top}
    assert len(shown) == len(b.top)
    # every important story, in time order
    flagged = {r[1] for r in in_period if r[4]}
    assert {s.id for s in b.important} == flagged
    times = [s.first.published_at for s in b.important]
    assert times == sorted(times)
    # the most mentioned companies: stories counted once per stock, from the stored tags
    counted: Counter[str] = Counter()
    for story in told:
        codes = {
            t["code"]
            for r in rows
            if r[1] == story and r[3] < p.until
            for t in json.loads(r[5])
            if is_company(t["code"])
        }
        counted.update(codes)
    assert [(s.code, s.stories) for s in b.stocks] == sorted(
        counted.items(), key=lambda kv: (-kv[1], kv[0])
    )[:10]
    # links go to this site's pages and to the outlets
    md = made.markdown()
    assert md.count("[本站](http://127.0.0.1:8000/a/") == len(b.top)


@pytest.mark.parametrize("session", ["morning", "close"])
def test_more_important_stories_than_fit_are_the_most_told_and_said_so(
    day: Store, session: str
) -> None:
    """Wave 13's walk: a close briefing listed the day's first 30 important stories and
    ended at 09:39, the afternoon's left out without a word.  With room for 2: the 2 most
    told (the briefing's rank), in time order, and the total said."""
    whole = briefing(day, session).briefing
    assert len(whole.important) == whole.important_total > 2
    made = briefing(day, session, important="2")
    b = made.briefing
    assert b.important_total == whole.important_total
    # the most told: every one scoring above the last that fits; those tied at it spread
    # over the period (the first of them in time among them), not the latest
    last = sorted(s.score for s in whole.important)[-2]
    above = {s.id for s in whole.important if s.score > last}
    tied = sorted(
        (s for s in whole.important if s.score == last), key=lambda s: s.first.published_at
    )
    shown = {s.id for s in b.important}
    assert above <= shown and len(shown) == 2
    assert shown - above <= {s.id for s in tied}
    if len(above) < 2:
        assert tied[0].id in shown
    times = [s.first.published_at for s in b.important]
    assert times == sorted(times)
    said = f"共 {b.important_total} 条重要消息，以下是报道最多的 2 条（按时间排列）。"
    assert said in made.markdown() and said in made.html()
    assert said not in briefing(day, session).markdown()
    assert made.as_dict()["important_total"] == b.important_total


def test_groups_sort_the_kinds_of_news(day: Store) -> None:
    """A company's filing, the statistics bureau, a foreign leader, a sector's move: each
    where a reader looks for it."""
    stories = {s.headline: s.group for s in briefing(day, "day").briefing.top}
    assert stories["宁波韵升：已向香港联交所递交H股发行上市申请"] == "公司"
    assert stories["国家统计局：5月份一二三线城市商品住宅销售价格同比降幅总体收窄"] == "宏观"
    assert stories["特朗普否认美将给伊朗巨资"] == "海外"
    assert stories["电网设备板块异动拉升 中国西电2连板"] == "市场"


def test_periods_tile_time() -> None:
    """Every article is in exactly one morning or close briefing."""
    morning = periods.period(THE_DAY, "morning")
    close = periods.period(THE_DAY, "close")
    tomorrow = periods.period(date(2026, 6, 17), "morning")
    assert morning.until == close.since and close.until == tomorrow.since
    assert datetime.fromtimestamp(morning.since, BEIJING).isoformat() == (
        "2026-06-15T15:30:00+08:00"
    )
    assert periods.period(THE_DAY, "close", "09:00", "15:00").until - close.until == -1800
    at = datetime.fromisoformat("2026-06-16T12:00:00+08:00").timestamp()
    assert periods.latest(at) == morning
    assert periods.latest(at + 4 * 3600) == close
    early = datetime.fromisoformat("2026-06-16T07:00:00+08:00").timestamp()
    assert periods.latest(early) == periods.period(date(2026, 6, 15), "close")


SUMMARIZER = """\
import sys
text = sys.stdin.read()
heads = [line for line in text.splitlines() if line.startswith("1. **")]
print(f"本期共 {len(heads)} 组要闻，首条：" + heads[0][5:].rstrip("*"))
"""


def test_the_summarizer_hook_reads_the_markdown_and_its_summary_leads(
    day: Store, tmp_path: Path
) -> None:
    script = tmp_path / "summarize.py"
    script.write_text(SUMMARIZER, encoding="utf-8")
    plain = briefing(day, "close")
    made = briefing(day, "close", summarizer=f"{sys.executable} {script}")
    groups = len(plain.briefing.groups)
    first = plain.briefing.groups[0][1][0].headline
    assert made.briefing.summary == f"本期共 {groups} 组要闻，首条：{first}"
    md = made.markdown()
    assert md.index("## 摘要") < md.index("## 要闻")
    assert md.replace(f"## 摘要\n\n{made.briefing.summary}\n\n", "") == plain.markdown()
    assert made.briefing.summary in made.html()


@pytest.mark.parametrize(
    ("script", "said"),
    [
        ("import sys; sys.exit(3)", "exited 3"),
        ("import time; time.sleep(5)", "took more than"),
        ("pass", "printed nothing"),
    ],
)
def test_a_failing_summarizer_leaves_the_briefing_whole(
    day: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture, script: str, said: str
) -> None:
    path = tmp_path / "bad.py"
    path.write_text(script, encoding="utf-8")
    made = briefing(day, "close", summarizer=f"{sys.executable} {path}", summarizer_timeout="1")
    assert made.briefing.summary == ""
    assert made.markdown() == briefing(day, "close").markdown()
    assert said in caplog.text


def test_no_summarizer_runs_unless_one_is_set(day: Store, tmp_path: Path) -> None:
    assert load_settings(env={}).briefing.summarizer == ""
    missing = briefing(day, "close", summarizer=str(tmp_path / "no-such-command"))
    assert missing.briefing.summary == ""


def test_the_command_line(day_db: Path, tmp_path: Path) -> None:
    db = ["--db", str(day_db)]
    md = run_cli(*db, "briefing", "--date", DAY, "--session", "close")
    assert md.returncode == 0, md.stderr
    assert md.stdout == (GOLDEN / f"{DAY}-close.md").read_text(encoding="utf-8")
    as_json = run_cli(*db, "briefing", "--date", DAY, "--session", "close", "--json")
    data = json.loads(as_json.stdout)
    assert data["session"] == "close" and data["since"] == f"{DAY}T08:00:00+08:00"
    assert [g["group"] for g in data["groups"]] == [g for g in GROUPS if g in md.stdout]
    page = run_cli(*db, "briefing", "--date", DAY, "--session", "morning", "--html")
    assert page.stdout.startswith("<!doctype html>") and "早报" in page.stdout
    assert not re.search(r"<(?:script|link|img)\b", page.stdout)  # self-contained
    for args, message in [
        (["--session", "noon"], "'noon' is not one of morning, close, day"),
        (["--date", "2026-02-30"], "not a date: '2026-02-30'"),
        (["--date", "9999-12-31", "--session", "day"], "a year from 1900 to 9998"),
        (["--json", "--html"], "--json, --markdown and --html are one or another: give one"),
    ]:
        bad = run_cli(*db, "briefing", *args)
        assert bad.returncode == 2 and message in bad.stderr, bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1


def test_a_briefing_of_a_store_of_older_news_says_where_to_read(
    day_db: Path, tmp_path: Path
) -> None:
    """The MCP's latest briefing said where a store's news ends; the command printed only
    本时段没有消息。 (wave 13's walk).  It now says it in the briefing, as the MCP resource
    does, naming the day that holds the news: with one more flash just after midnight, still
    the day before, not the newest one's."""
    import shutil
    from dataclasses import replace

    db = tmp_path / "older.db"
    shutil.copy(day_db, db)
    latest = run_cli("--db", str(db), "briefing")
    assert latest.returncode == 0 and not latest.stderr, latest.stderr
    assert f"本时段没有消息。存储中最新的消息在 {DAY} " in latest.stdout
    assert f"试 --date {DAY} --session day。" in latest.stdout
    with Store.open(f"sqlite:///{db}", create=False) as store:
        first = next(store.iter_articles(newest_first=True))
        late = datetime.fromisoformat(f"{DAY}T00:10:00+08:00").replace(day=THE_DAY.day + 1)
        store.save([replace(first, upstream_id=f"{first.upstream_id}-late", published=late)])
    after_midnight = run_cli("--db", str(db), "briefing").stdout
    said = re.search(
        r"存储中最新的消息在 (\S+ \S+)（北京时间）：试 --date (\S+) --session day", after_midnight
    )
    assert said and said.groups() == (f"{late:%Y-%m-%d %H:%M}", DAY), after_midnight
    followed = run_cli("--db", str(db), "briefing", "--date", DAY, "--session", "day")
    assert "本时段没有消息。" not in followed.stdout and not followed.stderr


def test_the_site_pages_follow_the_settings_times(day: Store, tmp_path: Path) -> None:
    from finews.site import SiteOptions, build_site

    settings = load_settings(
        env={"FINEWS_BRIEFING_MORNING": "09:00", "FINEWS_BRIEFING_CLOSE": "15:00"}
    )
    out = tmp_path / "site"
    build_site(day, out, SiteOptions.from_settings(settings))
    page = (out / "briefing" / DAY / "index.html").read_text(encoding="utf-8")
    assert "2026-06-15 15:00 至 2026-06-16 09:00（北京时间）" in page
    assert "2026-06-16 09:00 至 2026-06-16 15:00（北京时间）" in page
    expected = make(day, settings, THE_DAY, "close", now=NOW).briefing
    assert f"{expected.articles} 条消息 · {expected.stories} 个事件" in page


# -- trading days (the new-user walk): a real slice around two weekends and 端午 2026 ---------


@pytest.fixture(scope="module")
def trading_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("trading") / "finews.db"
    store = Store.open(f"sqlite:///{path}")
    store.save(trading_articles())
    store.close()
    return path


@pytest.fixture
def trading(trading_db: Path) -> Store:
    store = Store.open(f"sqlite:///{trading_db}", create=False)
    yield store
    store.close()


def beijing(text: str) -> int:
    return int(datetime.fromisoformat(f"{text}+08:00").timestamp())


def stored(store: Store, since: str, until: str) -> dict[str, int]:
    """upstream id → published_at of the stored flashes in [since, until) (Beijing times)."""
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT upstream_id, published_at FROM articles").all()
    return {u: int(t) for u, t in rows if beijing(since) <= t < beijing(until)}


def shown(made: Made) -> set[str]:
    return {r.upstream_id for s in made.briefing.top for r in s.reports}


def every_story() -> Settings:
    """Every story of the period in the top lists, so that what a briefing holds can be
    listed."""
    return load_settings(env={"FINEWS_BRIEFING_PER_GROUP": "50"})


def test_a_monday_morning_holds_friday_afternoon_and_the_weekend(trading: Store) -> None:
    friday_afternoon = stored(trading, "2026-05-29T16:00", "2026-05-29T16:30")
    weekend = stored(trading, "2026-05-30T00:00", "2026-06-01T00:00")
    friday_close = stored(trading, "2026-05-29T08:00", "2026-05-29T15:30")
    assert friday_afternoon and weekend and friday_close  # the slice has each
    made = make(trading, every_story(), date(2026, 6, 1), "morning", now=NOW)
    assert made.briefing.period.since == beijing("2026-05-29T15:30")
    assert "2026-05-29 15:30 至 2026-06-01 08:00（北京时间）" in made.markdown()
    expected = stored(trading, "2026-05-29T15:30", "2026-06-01T08:00")
    assert shown(made) == set(expected) and made.briefing.articles == len(expected)
    assert set(friday_afternoon) | set(weekend) <= shown(made)
    assert not set(friday_close) & shown(made)  # Friday's close briefing has those
    close = make(trading, every_story(), date(2026, 5, 29), "close", now=NOW)
    assert shown(close) == set(friday_close)
    # each item's time says its date when it is not the briefing's (wave 12's walk: a
    # Saturday 10:34 read as Monday morning's), in the Markdown and on the page alike
    times = re.findall(r"^   ((?:\d\d-\d\d )?\d\d:\d\d) ", made.markdown(), re.M)
    firsts = [s.first.published_at for _, group in made.briefing.groups for s in group]
    assert len(times) == len(firsts) > 0
    for shown_time, first in zip(times, firsts, strict=True):
        when = datetime.fromtimestamp(first, BEIJING)
        monday = when.date() == date(2026, 6, 1)
        assert shown_time == when.strftime("%H:%M" if monday else "%m-%d %H:%M")
    assert any(" " in t for t in times)  # the weekend's carry their dates
    page = made.html()
    assert '<p class="when">05-30 ' in page or "<time>05-30 " in page


def test_no_close_briefing_on_a_saturday(trading: Store, trading_db: Path) -> None:
    saturday = date(2026, 5, 30)
    assert stored(trading, "2026-05-30T08:00", "2026-05-30T15:30")  # it has news
    for session in ("close", "morning"):
        with pytest.raises(periods.NotTradingDay, match=r"2026-05-30 \(周六\).*2026-06-01"):
            make(trading, load_settings(env={}), saturday, session, now=NOW)
    # the whole day's overview is still there
    assert make(trading, load_settings(env={}), saturday, "day", now=NOW).briefing.articles
    # at the weekend the latest briefing is Friday's close
    at_noon = beijing("2026-05-30T12:00")
    assert periods.latest(at_noon) == periods.period(date(2026, 5, 29), "close")
    assert periods.latest(beijing("2026-06-01T07:59")).day == date(2026, 5, 29)
    assert periods.latest(beijing("2026-06-01T08:00")) == periods.period(
        date(2026, 6, 1), "morning"
    )
    bad = run_cli("--db", str(trading_db), "briefing", "--date", "2026-05-30", "--session", "close")
    assert bad.returncode == 2, bad.stderr
    assert bad.stderr.startswith("error: 2026-05-30 (周六) is not a trading day: no close")
    assert "the morning briefing of 2026-06-01" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and not bad.stdout


def test_a_holiday_in_the_data_file_is_skipped(trading: Store, tmp_path: Path) -> None:
    from finews import tradingdays
    from finews.run.subscribers import ended_periods
    from finews.site import SiteOptions, build_site

    holiday = date(2026, 6, 19)
    assert tradingdays.calendar().why_closed(holiday) == "端午节"  # from the data file
    with pytest.raises(periods.NotTradingDay, match=r"2026-06-19 \(端午节\).*2026-06-22"):
        make(trading, load_settings(env={}), holiday, "close", now=NOW)
    made = make(trading, every_story(), date(2026, 6, 22), "morning", now=NOW)
    assert made.briefing.period.since == beijing("2026-06-18T15:30")
    thursday_evening = stored(trading, "2026-06-18T15:30", "2026-06-19T00:00")
    after = stored(trading, "2026-06-20T00:00", "2026-06-22T00:00")
    assert thursday_evening and after and set(thursday_evening) | set(after) <= shown(made)
    assert shown(made) == set(stored(trading, "2026-06-18T15:30", "2026-06-22T08:00"))
    # a subscriber gets nothing on the holiday, Monday's morning at 08:00
    both = ("morning", "close")
    assert ended_periods(beijing("2026-06-19T15:31"), both, "08:00", "15:30") == []
    assert ended_periods(beijing("2026-06-19T08:01"), both, "08:00", "15:30") == []
    assert ended_periods(beijing("2026-06-22T08:01"), both, "08:00", "15:30") == [
        periods.period(date(2026, 6, 22), "morning")
    ]

    # the site: a page per trading day, none for the weekends and the holiday; the pagers go
    # from trading day to trading day and the index lists trading days only
    out = tmp_path / "site"
    build_site(trading, out, SiteOptions())
    pages = sorted(p.name for p in (out / "briefing").iterdir() if p.is_dir())
    told_days = {
        datetime.fromtimestamp(t, BEIJING).date()
        for t in stored(trading, "2026-01-01T00:00", "2027-01-01T00:00").values()
    }
    assert {date(2026, 5, 30), date(2026, 5, 31), date(2026, 6, 20)} <= told_days
    assert pages and all(tradingdays.is_trading_day(date.fromisoformat(p)) for p in pages)
    for closed in ("2026-05-30", "2026-05-31", "2026-06-19", "2026-06-20", "2026-06-21"):
        assert closed not in pages
    assert {"2026-05-29", "2026-06-01", "2026-06-18", "2026-06-22"} <= set(pages)
    monday = (out / "briefing" / "2026-06-22" / "index.html").read_text(encoding="utf-8")
    assert re.search(
        r'<a rel="prev" href="[./]*briefing/2026-06-18/index.html">← 6月18日</a>', monday
    )
    assert "2026-06-18 15:30 至 2026-06-22 08:00（北京时间）" in monday
    index = (out / "briefing" / "index.html").read_text(encoding="utf-8")
    listed = re.findall(r"briefing/(\d{4}-\d{2}-\d{2})/index.html", index)
    assert listed == sorted(pages, reverse=True)


# -- the briefing's lines (the new-user walk) -------------------------------------------------


def test_single_report_items_have_no_heat_line(day: Store) -> None:
    """A story of one report shows its time and outlet only: no 首发, no "1 条报道" (the
    site shows heat only for stories told more than once); a story of several keeps
    首发 · N 家报道 / N 条报道, linked to its page."""
    for session in ("morning", "close"):
        made = briefing(day, session)
        stories = made.briefing.top
        single = [s for s in stories if len(s.reports) == 1]
        several = [s for s in stories if len(s.reports) > 1]
        assert single and several, session  # both kinds in the real slice
        html_lines = re.findall(r'<p class="when">(.*?)</p>', made.html())
        md = made.markdown().splitlines()
        md_lines = [md[i + 1] for i, line in enumerate(md) if re.match(r"\d+\. \*\*", line)]
        assert len(html_lines) == len(md_lines) == len(stories)
        for s, html_line, md_line in zip(stories, html_lines, md_lines, strict=True):
            for line in (html_line, md_line):
                assert line.strip().startswith(
                    f"{datetime.fromtimestamp(s.first.published_at, BEIJING):%H:%M}"
                )
                if len(s.reports) == 1:
                    assert "首发" not in line and "报道" not in line, line
                else:
                    heat = f"{s.outlets} 家报道" if s.outlets > 1 else f"{len(s.reports)} 条报道"
                    assert "首发 · " in line and heat in line, line
            if len(s.reports) > 1:
                assert f'href="http://127.0.0.1:8000/story/{s.id}/index.html">' in html_line
            assert ("· 重要" in md_line) == s.important


def test_no_empty_source_line(store: Store) -> None:
    """Posts of the original site imported without their article's address: no "原文：" line
    with nothing after it — as on the article pages, the line goes when there is nothing to
    link (and only http(s) addresses are links)."""
    from sitedata import populate

    populate(store, fast=0)
    made = make(store, every_story(), date(2021, 12, 8), "close", now=NOW)
    stories = made.briefing.top
    linked = [s for s in stories if any(r.url.startswith("http") for r in s.reports)]
    assert len(linked) < len(stories)  # the real posts have some without an address
    html = made.html()
    lines = re.findall(r'<p class="links">(.*?)</p>', html)
    assert len(lines) == len(linked)
    assert all(line.startswith('原文：<a href="http') for line in lines)
    assert "原文：</p>" not in html
    md = made.markdown()
    assert md.count("   链接：[本站](") == len(stories)  # the site's own page is always there
    assert "]()" not in md
