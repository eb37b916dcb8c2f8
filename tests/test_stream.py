"""Stream lines (issue #12), over real flashes: what a reader reads without clicking.

Real items: the demo's bundled 财联社 flashes (src/finews/data/demo/cls.jsonl.gz) through the
real adapter, and an Eastmoney item of tests/data/flash/search_meaning.jsonl tagged 03750.HK.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from daydata import day_articles
from finews.demo.upstreams import bundled
from finews.model import Article
from finews.process.headline import shown_text
from finews.process.text import adds_to
from finews.site import paths
from finews.site.article import article_parts
from finews.site.formats import iso_time
from finews.site.stream import (
    FOLD_AT,
    LINE_END,
    day_label,
    stock_pairs,
    stream_line,
    with_days,
)
from finews.sources import cls, eastmoney

DATA = Path(__file__).parent / "data" / "flash"


def view(a: Article) -> dict[str, Any]:
    ts = int(a.published.timestamp())
    return {
        "title": a.title,
        "path": paths.article_path(a.source, a.upstream_id, ts),
        "iso": iso_time(ts),
        "media": a.media,
        "important": a.important,
        "digest": a.digest,
        "stocks": json.dumps([s.as_dict() for s in a.stocks], ensure_ascii=False),
    }


def text_of(line: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", line))


def flashes() -> list[Article]:
    return [cls.normalise(item) for item in bundled("cls")]


def test_an_untitled_flash_reads_as_its_text_once() -> None:
    # (a few briefs were edited after the content the title comes from: those keep a headline)
    untitled = [
        a
        for item, a in zip(bundled("cls"), flashes(), strict=True)
        if not item["title"] and item["brief"] == item["content"]
    ]
    assert len(untitled) > 20
    for a in untitled:
        line = stream_line(view(a)).join("../", True)
        shown = text_of(line)
        words = a.digest.split("电，", 1)[-1].strip()
        assert words in shown, (words, shown)  # the whole text, no click needed
        assert shown.count(a.title.removesuffix("…")) == 1  # the headline is not repeated
        assert 'class="headline"' not in line
        assert "财联社6月16日电" not in shown  # the dateline: the line's time and outlet say it
        assert line.endswith(LINE_END)


def test_a_titled_flash_has_its_headline_in_bold_and_its_text_without_it() -> None:
    titled = [a for a in flashes() if a.digest.startswith(f"【{a.title}】")]
    assert len(titled) > 20
    for a in titled:
        line = stream_line(view(a)).join("", True)
        assert f'class="headline" href="{view(a)["path"]}">【{html.escape(a.title, False)}】' in (
            line.replace("&#34;", '"').replace("&#39;", "'")
        )
        assert text_of(line).count(f"【{a.title}】") == 1


def test_long_text_folds_in_place_without_script() -> None:
    long = [a for a in flashes() if len(shown_text(a.title, a.digest)[1]) > FOLD_AT]
    short = [a for a in flashes() if 0 < len(shown_text(a.title, a.digest)[1]) <= FOLD_AT]
    assert long and short
    for a in long:
        line = stream_line(view(a)).join("", True)
        assert '<details class="text"><summary>' in line
    for a in short:
        assert '<p class="text">' in stream_line(view(a)).join("", True)


def test_chips_have_names_for_hong_kong_codes() -> None:
    lines = (DATA / "search_meaning.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[17])
    a = eastmoney.normalise_fast(record["raw"], "https://finance.eastmoney.com/")
    codes = [code for code, _ in stock_pairs(a.stocks)]
    assert "03750.HK" in codes and "300750.SZ" in codes
    line = stream_line(view(a)).join("../../", True)
    chip = 'href="../../s/03750.HK/index.html" title="03750.HK">宁德时代<small>03750.HK</small>'
    assert chip in line
    assert 'href="../../s/300750.SZ/index.html"' in line


def test_importance_and_media() -> None:
    important = next(a for a in flashes() if a.important)
    line = stream_line(view(important)).join("", True)
    assert line.startswith('<li class="important">')
    assert '<span class="media">财联社</span>' in line
    assert '<span class="media">' not in stream_line(view(important)).join("", False)


def test_hostile_text_is_escaped() -> None:
    a = flashes()[0]
    hostile = view(a) | {
        "title": '<script>alert(1)</script>"',
        "digest": '【<script>alert(1)</script>"】<img src=x onerror=alert(2)>',
        "stocks": '[{"code": "\\"><script>", "name": "<b>"}]',
    }
    line = stream_line(hostile).join("", True)
    assert "<script>" not in line and "<img" not in line and "<b>" not in line


def test_date_separators() -> None:
    views = [view(a) for a in flashes()[:3]]
    views[2] = views[2] | {"iso": "2026-06-15T23:59:00+08:00"}
    lines = [stream_line(v).join("", True) for v in views]
    joined = str(with_days(lines, [v["iso"][:10] for v in views]))
    assert joined.count('<li class="day"') == 2
    assert day_label("2026-06-16") == "2026年6月16日 星期二"
    assert joined.index("2026年6月15日") > joined.index(lines[1])


def test_a_reworded_brief_is_not_printed_above_its_body() -> None:
    """财联社 keeps a flash's first wording as its brief and edits the content later: the real
    flash 2400753 of 2026-06-16 (tests/data/flash/briefing_2026-06-16.jsonl) has a brief
    that is not its content's start (a figure and the sectors changed).  Its page shows the
    text once: the body, the later edit (issue #12)."""
    stored = next(a for a in day_articles() if a.upstream_id == "2400753")
    # since wave 8 the digest of a telegraph is its content; an article stored before kept
    # the upstream's brief as its digest: the page must still show the text once
    a = replace(stored, digest=json.loads(stored.raw)["brief"])
    body = a.body_html
    assert not body.startswith(f"<p>{a.digest}")  # not the body's start: a rewording
    path = paths.article_path(a.source, a.upstream_id, int(a.published.timestamp()))
    parts = article_parts(a, path, "财联社", "cls", [], body)
    assert parts["lead"] == ""
    shown = text_of(str(parts["body"]))
    assert "指数分化，创业板指拉升涨逾1%" in shown and shown.count("沪指跌0.23%") == 1
    # HAND-MADE: a digest that is a text of its own (a summary saying what the flash's body
    # does not) is kept above the body
    summary = "分析师认为，资金集中流入科技成长方向，短线情绪回暖但量能仍待确认。"
    assert adds_to(summary, text_of(body))
    kept = article_parts(replace(a, digest=summary), path, "财联社", "cls", [], body)
    assert summary in text_of(str(kept["lead"]))


def test_a_long_telegraph_is_read_whole_in_the_stream() -> None:
    """财联社's ``brief`` stops at 300 characters: the real telegraph 2400656 of 2026-06-16
    (tests/data/flash/briefing_2026-06-16.jsonl) has 378.  The stream printed the brief,
    cut mid-sentence, and 展开全文 had nothing more to unfold; a reader of 财联社电报 reads
    the whole telegraph in the stream."""
    a = next(a for a in day_articles() if a.upstream_id == "2400656")
    item = json.loads(a.raw)
    assert len(item["brief"]) == 300 and len(item["content"]) > 300
    assert item["content"].startswith(item["brief"])
    shown = text_of(stream_line(view(a)).join("", show_media=True))
    ending = item["content"].strip()[-20:]
    assert ending in shown, shown[-80:]


def test_a_headline_that_opens_with_its_own_brackets_is_not_bracketed_twice() -> None:
    """The real telegraph 2401400 (the demo's bundled 财联社 flashes) is titled
    【机构龙虎榜解读】PCB+CPO+…: its line printed 【【机构龙虎榜解读】PCB+CPO…】."""
    a = next(a for a in flashes() if a.upstream_id == "2401400")
    assert a.title.startswith("【机构龙虎榜解读】")
    shown = text_of(stream_line(view(a)).join("", show_media=True))
    assert "【【" not in shown and shown.count("【机构龙虎榜解读】") == 1


def test_a_title_cut_short_of_the_texts_own_headline_prints_the_headline_once() -> None:
    """HAND-MADE from the real telegraph 2026-08-20 22:22 (纳斯达克综合指数跌幅扩大至1%):
    a title that lost its last character (as an upstream's cut title does) above a text that
    opens with the whole 【headline】 printed both, the cut one first.  The line prints the
    whole headline once, then the text without its dateline."""
    text = (
        "【纳斯达克综合指数跌幅扩大至1%】财联社8月20日电，纳斯达克综合指数跌幅扩大至1%，"
        "报26070.99点；道琼斯指数跌0.79%，标普500指数跌0.43%。"
    )
    a = replace(next(iter(flashes())), title="纳斯达克综合指数跌幅扩大至1", digest=text)
    shown = text_of(stream_line(view(a)).join("", show_media=True))
    assert "【纳斯达克综合指数跌幅扩大至1%】" in shown
    assert shown.count("【") == 1 and "财联社8月20日电" not in shown
    # a text opening with a shorter form of the title loses it too (and its dateline)
    headline, rest = shown_text(
        "央行开展MLF操作 利率维持不变", "【央行开展MLF操作】财联社8月20日电，央行今日…"
    )
    assert headline and rest == "央行今日…"
