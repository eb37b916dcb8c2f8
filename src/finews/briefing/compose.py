"""An extractive briefing (issue #14): the period's top stories, grouped, each told in its own
words.  No model and no network: everything here is selection and cutting.  Pure: rows in
(:mod:`finews.store.briefreads`), a :class:`Briefing` out.

- **Stories** are the store's (issue #10): a story is all reports sharing a ``cluster_id``.
- **Rank**: ``2·outlets + reports + 2·important`` (how widely it was told counts twice, a
  reprint once, an upstream's 加红 as much as a second outlet), then the newest.  The period
  decides which stories come in (a report in it); their reports after the period are left
  out, so a briefing made late says what was known at its end.
- **Groups** 宏观 / 市场 / 公司 / 海外: the upstreams' own labels (财联社 subjects such as
  环球市场情报 or 经济数据及解读, 同花顺 tags such as 公告, 华尔街见闻 channels) count most,
  then the tagged A-share companies, then words of the headline and extract.  Each group shows
  its best ``per_group`` stories.
- **Extract**: the first two sentences of the story's first report that has two (the
  headline in 【】 and the dateline "财联社6月16日电，" removed), at most 200 characters.
- **Important**: every story with an important (加红) report, in time order.
- **Stocks**: the A-share companies the period's stories are tagged with (not funds or
  boards), by how many stories name them.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from finews.briefing.periods import Period
from finews.model import BEIJING
from finews.process.text import body_text as plain_body
from finews.store.briefreads import Row
from finews.store.stories import Report, Story, report_of

GROUPS = ("宏观", "市场", "公司", "海外")

EXTRACT_CHARS = 200
_SENTENCE = re.compile(r"[^。！？!?]+[。！？!?]+[”』」）)]*|[^。！？!?]+$")
_HEADLINE = re.compile(r"^\s*【[^】]{0,120}】\s*")
_DATELINE = re.compile(
    r"^[^，。,：:|｜]{0,24}?\d{1,2}月\d{1,2}日(?:晚间|早间|盘中|凌晨)?(?:电|讯|消息)?\s*[，,：:|｜]\s*"
)

_LABEL_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("海外", ("环球", "美股", "美国", "美联储", "海外", "中东", "俄乌", "欧洲", "中概股", "外盘")),
    ("宏观", ("宏观", "经济数据", "货币政策", "人民币", "促消费", "财政", "政策", "基建投资")),
    ("公司", ("公告", "停复牌", "互动平台", "机构调研", "IPO", "公司", "业绩", "财报")),
    ("市场", ("盘面", "期货", "异动", "资金动向", "策略", "原油", "大宗商品", "债市", "汇市")),
)
_WORD_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "宏观",
        (
            "央行", "人民银行", "国务院", "发改委", "财政部", "统计局", "商务部", "工信部",
            "证监会", "金融监管总局", "外汇局", "国新办", "住建部", "海关总署", "CPI", "PPI",
            "GDP", "PMI", "社融", "信贷", "M2", "LPR", "MLF", "逆回购", "降准", "降息",
            "国债", "专项债", "经济数据", "国民经济",
        ),
    ),
    (
        "海外",
        (
            "美联储", "美国", "美股", "美元", "美债", "特朗普", "白宫", "欧洲", "欧盟", "欧央行",
            "英国", "日本", "日央行", "韩国", "印度", "俄罗斯", "乌克兰", "伊朗", "以色列",
            "中东", "沙特", "纳斯达克", "纳指", "道指", "标普", "日经", "外媒", "海外",
            "国际油价", "非洲", "巴西", "加拿大", "澳大利亚", "越南", "土耳其",
        ),
    ),
    (
        "市场",
        (
            "沪指", "深成指", "创业板指", "科创50", "北证50", "收评", "午评", "收盘", "开盘",
            "涨停", "跌停", "板块", "指数", "期货", "期指", "债市", "汇率", "北向", "成交额",
            "涨超", "跌超", "竞价", "主力资金", "龙虎榜", "ETF",
        ),
    ),
    (
        "公司",
        (
            "公告", "董事", "股东", "回购", "增持", "减持", "中标", "签约", "净利润", "营收",
            "上市", "IPO", "H股", "募资", "收购", "重组",
        ),
    ),
)  # fmt: skip
# each group's marks as one pattern: a build composes thousands of stories, and testing the
# words one by one (``any(w in text …)``) was a fifth of a briefing's time
_LABEL_PATTERNS = tuple(
    (group, re.compile("|".join(map(re.escape, marks)))) for group, marks in _LABEL_GROUPS
)
_WORD_PATTERNS = tuple(
    (group, re.compile("|".join(map(re.escape, words)))) for group, words in _WORD_GROUPS
)
_LABEL_KEYS = ('"subjects"', '"tag', '"channels"', '"category"')
"""What a payload must contain for :func:`labels` to find anything (read before parsing)."""
_IGNORED_LABELS = {"A股", "港股", "美股"}
"""同花顺 tags most flashes with the markets they may matter to (财政部's bonds as 美股):
they tell nothing of a flash's kind."""


@dataclass(frozen=True)
class StockCount:
    code: str
    name: str
    stories: int


@dataclass(frozen=True)
class BriefStory(Story):
    """A story of the store (its reports oldest first: ``first``, ``outlets``,
    ``important`` as everywhere) with what the briefing says of it."""

    headline: str = ""
    extract: str = ""
    group: str = ""
    stocks: tuple[tuple[str, str], ...] = ()
    """(code, name) of the A-share companies its reports are tagged with"""

    @property
    def score(self) -> int:
        return 2 * self.outlets + len(self.reports) + 2 * int(self.important)

    def outlet_reports(self) -> list[Report]:
        """The first report of each outlet, in time order (the links a reader follows)."""
        seen: set[str] = set()
        found = []
        for r in self.reports:
            if r.media not in seen:
                seen.add(r.media)
                found.append(r)
        return found

    def outlet_links(self) -> list[Report]:
        """Those of :meth:`outlet_reports` with a web address to link to (an imported post
        may have none; anything but http(s) is not linked, as on the article pages)."""
        return [r for r in self.outlet_reports() if r.url.startswith(("http://", "https://"))]


@dataclass(frozen=True)
class Briefing:
    period: Period
    groups: tuple[tuple[str, tuple[BriefStory, ...]], ...]
    important: tuple[BriefStory, ...]
    stocks: tuple[StockCount, ...]
    articles: int
    """reports published in the period"""
    stories: int
    """stories with a report in the period"""
    important_total: int = 0
    """important stories in the period; ``important`` lists at most 30 of them"""
    summary: str = ""
    """what the configured summarizer said of it (empty: none)"""

    @property
    def top(self) -> list[BriefStory]:
        return [s for _, stories in self.groups for s in stories]


def is_company(code: str) -> bool:
    """An A-share company's code (not a fund, an index or a board): 600519.SH, 000001.SZ,
    300750.SZ, 688981.SH, 830799.BJ."""
    number, _, market = code.partition(".")
    if len(number) != 6 or not number.isdigit():
        return False
    if market == "SH":
        return number[0] == "6"
    if market == "SZ":
        return number[:2] in {"00", "30"}
    return market == "BJ" and number[0] in {"4", "8", "9"}


def labels(raw: str) -> list[str]:
    """The upstream's own labels of an item: 财联社 ``subjects``, 同花顺 ``tags``, 新浪
    ``tag``, 华尔街见闻 ``channels``, a ``category``; nothing when the payload has none."""
    if not raw or raw[0] != "{" or not any(key in raw for key in _LABEL_KEYS):
        return []
    try:
        payload = json.loads(raw)
    except ValueError:
        return []
    if not isinstance(payload, dict):
        return []
    found: list[str] = []
    for key, name in (("subjects", "subject_name"), ("tags", "name"), ("tag", "name")):
        for entry in payload.get(key) or []:
            if isinstance(entry, dict) and isinstance(entry.get(name), str):
                found.append(entry[name])
    for channel in payload.get("channels") or []:
        if isinstance(channel, str):
            found.append(channel.replace("-channel", ""))
    if isinstance(payload.get("category"), str) and payload["category"]:
        found.append(payload["category"])
    return [label for label in found if label not in _IGNORED_LABELS]


def plain(row: Row) -> str:
    """The report's digest and body as one plain text."""
    body = plain_body(row.body_html)
    digest = html.unescape(row.digest)
    if digest and not body.startswith(digest[:20]):
        return f"{digest}\n{body}".strip()
    return body or digest


def clean_line(text: str) -> str:
    """A paragraph without its 【headline】 and its dateline (财联社6月16日电，)."""
    return _DATELINE.sub("", _HEADLINE.sub("", " ".join(text.split()))).strip()


def sentences(text: str) -> list[str]:
    """The text's sentences, each once (a digest repeated by the body is read once)."""
    found: list[str] = []
    for paragraph in text.split("\n"):
        for s in _SENTENCE.findall(clean_line(paragraph)):
            s = s.strip()
            if s and s not in found:
                found.append(s)
    return found


def extract(texts: Iterable[str], headline: str) -> str:
    """The first two sentences of the first text that has two (else the longest text's
    first), without a sentence that only repeats the headline; at most EXTRACT_CHARS."""
    best: list[str] = []
    for text in texts:
        bare = headline.strip().rstrip("。！？!?")
        found = [s for s in sentences(text) if s.rstrip("。！？!?") != bare]
        if len(found) >= 2:
            best = found
            break
        if len("".join(found)) > len("".join(best)):
            best = found
    joined = "".join(best[:2])
    return joined if len(joined) <= EXTRACT_CHARS else joined[: EXTRACT_CHARS - 1] + "…"


def classify(story_labels: Sequence[str], text: str, companies: int, market_words: bool) -> str:
    """The story's group: labels count 3, tagged companies 2 (a list of four or more with
    market words is a market move, not company news), words of the text 1 each kind; a tie
    goes to the narrower group (公司, then 宏观, 海外, 市场)."""
    score: Counter[str] = Counter()
    for label in story_labels:
        for group, marks in _LABEL_PATTERNS:
            if marks.search(label):
                score[group] += 3
                break
    if companies >= 4 and market_words:
        score["市场"] += 3
    elif companies:
        score["公司"] += 2
    for group, words in _WORD_PATTERNS:
        if words.search(text):
            score[group] += 1
    if not score:
        return "市场"
    best = max(score.values())
    return next(g for g in ("公司", "宏观", "海外", "市场") if score[g] == best)


def _stock_tags(row: Row) -> list[tuple[str, str]]:
    try:
        tags = json.loads(row.stocks or "[]")
    except ValueError:
        return []
    return [(t["code"], t.get("name", "")) for t in tags if is_company(t.get("code", ""))]


def _story(story_id: int, rows: Sequence[Row]) -> BriefStory:
    first = rows[0]
    headline = clean_line(first.title) or first.title.strip()
    if not headline:
        headline = (sentences(plain(first)) or [first.media])[0][:60]
    texts = [plain(r) for r in rows]
    stocks: dict[str, str] = {}
    story_labels: list[str] = []
    for r in rows:
        for code, name in _stock_tags(r):
            if not stocks.get(code):
                stocks[code] = name
        story_labels += labels(r.raw)
    summary = extract(texts, headline)
    text = f"{headline}\n{summary}"
    market_words = any(w in text for w in ("涨停", "跌停", "板块", "涨幅", "跌幅", "午评", "收评"))
    return BriefStory(
        id=story_id,
        headline=headline,
        extract=summary,
        group=classify(story_labels, text, len(stocks), market_words),
        reports=tuple(report_of(r) for r in rows),
        stocks=tuple(sorted(stocks.items())),
    )


def _most_told(stories: list[BriefStory], room: int) -> list[BriefStory]:
    """The important stories a briefing lists when more are flagged than fit: the most told
    (``stories`` is in rank order) — not the period's first (wave 13's walk: a close briefing
    ended at 09:39); those tied at the last score that fits spread evenly over the period,
    not its latest (wave 13's review: 42 tied at the top of a day, the 30 shown all after
    13:40)."""
    ranked = [s for s in stories if s.important]
    if len(ranked) <= room:
        return ranked
    if room <= 0:
        return []
    last = ranked[room - 1].score
    sure = [s for s in ranked if s.score > last]
    tied = sorted(
        (s for s in ranked if s.score == last), key=lambda s: (s.first.published_at, s.id)
    )
    left = room - len(sure)
    return sure + [tied[i * len(tied) // left] for i in range(left)]


def compose(
    rows: Sequence[Row],
    period: Period,
    *,
    per_group: int = 5,
    important: int = 30,
    stocks: int = 10,
    names: dict[str, str] | None = None,
) -> Briefing:
    """The briefing of a period from every report of its stories (oldest first)."""
    by_story: dict[int, list[Row]] = {}
    for r in rows:
        by_story.setdefault(r.story, []).append(r)
    told = {
        sid: members
        for sid, members in by_story.items()
        if any(period.since <= r.published_at < period.until for r in members)
    }
    stories = [_story(sid, members) for sid, members in told.items()]
    stories.sort(key=lambda s: (-s.score, -s.reports[-1].published_at, s.id))
    grouped: dict[str, list[BriefStory]] = {g: [] for g in GROUPS}
    for s in stories:
        if len(grouped[s.group]) < per_group:
            grouped[s.group].append(s)
    flagged = sorted(_most_told(stories, important), key=lambda s: (s.first.published_at, s.id))
    important_total = sum(1 for s in stories if s.important)
    counts: Counter[str] = Counter()
    named: dict[str, str] = dict(names or {})
    for s in stories:
        for code, name in s.stocks:
            counts[code] += 1
            if name and not named.get(code):
                named[code] = name
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:stocks]
    return Briefing(
        period=period,
        groups=tuple((g, tuple(grouped[g])) for g in GROUPS if grouped[g]),
        important=tuple(flagged),
        important_total=important_total,
        stocks=tuple(StockCount(c, named.get(c, ""), n) for c, n in ranked),
        articles=sum(
            1 for members in told.values() for r in members if r.published_at >= period.since
        ),
        stories=len(told),
    )


def clock(published_at: int, day: date | None = None) -> str:
    """``07:56`` (Beijing time) on the briefing's ``day``, ``06-15 21:59`` on another: a
    morning briefing holds the evening before, Monday's the whole weekend (wave 12's walk:
    Saturday's 10:34 read as Monday morning's)."""
    when = datetime.fromtimestamp(published_at, BEIJING)
    return when.strftime("%H:%M" if day is None or when.date() == day else "%m-%d %H:%M")


def as_dict(b: Briefing, link: Any) -> dict[str, Any]:
    """The briefing as plain data (``--json``); ``link(report)`` gives a report's site URL."""

    def report(r: Report) -> dict[str, Any]:
        return {
            "id": f"{r.source}/{r.upstream_id}",
            "title": r.title,
            "time": datetime.fromtimestamp(r.published_at, BEIJING).isoformat(),
            "outlet": r.media,
            "url": r.url,
            "link": link(r),
            "important": r.important,
        }

    def story(s: BriefStory) -> dict[str, Any]:
        return {
            "story": s.id,
            "headline": s.headline,
            "extract": s.extract,
            "group": s.group,
            "outlets": s.outlets,
            "reports": len(s.reports),
            "important": s.important,
            "score": s.score,
            "first": report(s.first),
            "stocks": [{"code": c, "name": n} for c, n in s.stocks],
            "links": [report(r) for r in s.outlet_reports()],
        }

    p = b.period
    return {
        "date": p.day.isoformat(),
        "session": p.session,
        "since": datetime.fromtimestamp(p.since, BEIJING).isoformat(),
        "until": datetime.fromtimestamp(p.until, BEIJING).isoformat(),
        "articles": b.articles,
        "stories": b.stories,
        "summary": b.summary,
        "groups": [{"group": g, "stories": [story(s) for s in ss]} for g, ss in b.groups],
        "important": [story(s) for s in b.important],
        "important_total": b.important_total,
        "stocks": [{"code": s.code, "name": s.name, "stories": s.stories} for s in b.stocks],
    }
