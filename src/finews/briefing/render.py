"""A briefing as Markdown (the golden form: webhooks, MCP resources, the summarizer's input)
and as HTML (``finews briefing --html`` and the site's ``/briefing/<date>/``).  Pure."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from jinja2 import Environment, PackageLoader, select_autoescape

from finews.briefing.compose import Briefing, BriefStory, clock
from finews.model import BEIJING
from finews.store.stories import Report

Link = Callable[[Report], str]


def _md(text: str) -> str:
    """Text safe inside Markdown: no markup or link syntax of its own."""
    for mark in ("\\", "[", "]", "*", "_", "`", "<", ">", "#", "|"):
        text = text.replace(mark, "\\" + mark)
    return " ".join(text.split())


def _span(b: Briefing) -> str:
    fmt = "%Y-%m-%d %H:%M"
    since = datetime.fromtimestamp(b.period.since, BEIJING).strftime(fmt)
    until = datetime.fromtimestamp(b.period.until, BEIJING).strftime(fmt)
    return f"{since} 至 {until}（北京时间）"


def heat_label(s: BriefStory) -> str:
    """``3 家报道`` (outlets), ``2 条报道`` (one outlet twice), as the site's heat chips —
    and nothing for a story of one report (the site shows no heat for those either)."""
    if len(s.reports) < 2:
        return ""
    return f"{s.outlets} 家报道" if s.outlets > 1 else f"{len(s.reports)} 条报道"


def when_line(s: BriefStory, day: date | None = None) -> str:
    """``07:56 财联社 首发 · 3 家报道 · 重要``; a story of one report: ``07:56 财联社``; a
    report of another date than the briefing's ``day``: ``06-15 21:59 财联社``."""
    first = s.first
    heat = heat_label(s)
    told = f" 首发 · {heat}" if heat else ""
    flag = " · 重要" if s.important else ""
    return f"{clock(first.published_at, day)} {first.media}{told}{flag}"


def important_shown(b: Briefing) -> str:
    """What the list of important stories leaves out, when it does: 共 106 条重要消息，
    以下是报道最多的 30 条（按时间排列）。"""
    return (
        f"共 {b.important_total} 条重要消息，以下是报道最多的 {len(b.important)} 条（按时间排列）。"
    )


def stock_label(code: str, name: str) -> str:
    return f"{name} {code}" if name else code


def markdown(b: Briefing, link: Link, site_title: str = "金融消息", empty_note: str = "") -> str:
    """The briefing as Markdown; ``empty_note``: said after "本时段没有消息。" (the MCP
    resource tells an agent where the store's news ends: wave 10)."""
    lines = [
        f"# {site_title} {b.period.title}",
        "",
        f"{_span(b)} · {b.articles} 条消息 · {b.stories} 个事件",
        "",
    ]
    if b.summary:
        lines += ["## 摘要", "", b.summary.strip(), ""]
    lines += ["## 要闻", ""]
    if not b.groups:
        lines += [f"本时段没有消息。{empty_note}", ""]
    for group, stories in b.groups:
        lines += [f"### {group}", ""]
        for n, s in enumerate(stories, 1):
            first = s.first
            lines.append(f"{n}. **{_md(s.headline)}**")
            lines.append(f"   {_md(when_line(s, b.period.day))}")
            if s.extract:
                lines.append(f"   {_md(s.extract)}")
            if s.stocks:
                lines.append("   股票：" + "、".join(_md(stock_label(c, n)) for c, n in s.stocks))
            links = [f"[本站]({link(first)})"] + [
                f"[{_md(r.media)}]({r.url})" for r in s.outlet_links()
            ]
            lines.append("   链接：" + " · ".join(links))
            lines.append("")
    lines += ["## 重要消息", ""]
    if not b.important:
        lines += ["本时段没有标为重要的消息。", ""]
    elif len(b.important) < b.important_total:
        lines += [important_shown(b), ""]
    for s in b.important:
        first = s.first
        item = f"[{_md(s.headline)}]({link(first)})"
        lines.append(f"- {clock(first.published_at, b.period.day)} {item}（{_md(first.media)}）")
    if b.important:
        lines.append("")
    lines += ["## 热门股票", ""]
    if not b.stocks:
        lines += ["本时段的消息没有标注个股。", ""]
    else:
        lines += ["| 股票 | 事件数 |", "| --- | --- |"]
        lines += [f"| {_md(stock_label(s.code, s.name))} | {s.stories} |" for s in b.stocks]
        lines.append("")
    lines.append("由 finews 从已存储的消息中摘录生成，未经模型改写；每条均附原文链接。")
    return "\n".join(lines) + "\n"


_ENV = Environment(
    loader=PackageLoader("finews", "briefing/templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.globals.update(
    clock=clock, heat_label=heat_label, stock_label=stock_label, important_shown=important_shown
)


def html_body(b: Briefing, link: Link, story_link: Callable[[int], str]) -> str:
    """The briefing as an HTML fragment (an ``<article>``): for the site's page and the
    standalone document."""
    return _ENV.get_template("briefing_body.html").render(
        b=b, link=link, story_link=story_link, span=_span(b)
    )


def html_document(
    b: Briefing, link: Link, story_link: Callable[[int], str], site_title: str = "金融消息"
) -> str:
    """A whole HTML document with its own styles (no external resources)."""
    return _ENV.get_template("briefing_page.html").render(
        title=f"{site_title} {b.period.title}", body=html_body(b, link, story_link)
    )
