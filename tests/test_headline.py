"""Headlines of untitled flashes (issue #12), over real flashes: the 200 bundled 财联社 flashes
of the demo (src/finews/data/demo/cls.jsonl.gz) and the real flashes in tests/data/flash/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from finews.demo.upstreams import bundled
from finews.process.headline import LIMIT, headline, strip_dateline
from finews.sources import cls

DATA = Path(__file__).parent / "data" / "flash"
DATELINE = re.compile(r"^[^，,。]{0,16}?\d{1,2}月\d{1,2}日(电|讯)")
ASCII_WORD = re.compile(r"[A-Za-z0-9]")


def real_texts() -> list[str]:
    texts = [str(item.get("content") or item.get("brief") or "") for item in bundled("cls")]
    for name in ("cls_search.jsonl", "search_meaning.jsonl"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            texts.append(str(record.get("content") or record.get("brief") or ""))
    return [t for t in texts if t.strip()]


TEXTS = real_texts()


def test_the_corpus_has_both_kinds() -> None:
    bracketed = [t for t in TEXTS if t.startswith("【")]
    dated = [t for t in TEXTS if DATELINE.match(t)]
    assert len(bracketed) >= 10 and len(dated) >= 50


@pytest.mark.parametrize("text", [t for t in TEXTS if t.startswith("【")][:40])
def test_a_bracketed_headline_is_taken_as_it_is(text: str) -> None:
    assert headline(text) == text[1 : text.index("】")].strip()


@pytest.mark.parametrize("text", [t for t in TEXTS if not t.startswith("【")])
def test_an_untitled_flash_gets_its_first_sentence_cut_at_a_boundary(text: str) -> None:
    title = headline(text)
    assert title, text
    assert not DATELINE.match(title), title  # never the bare "财联社X月X日电，"
    assert not title.startswith(("，", ",")), title
    body = " ".join(strip_dateline(text).split())
    if title.endswith("…"):
        stem = title[:-1]
        assert len(stem) <= LIMIT
        assert body.startswith(stem), (stem, body)
        following = body[len(stem)]
        # never inside an ASCII word or a number (10:30, 2,670, 78.978)
        assert not (ASCII_WORD.match(stem[-1]) and re.match(r"[A-Za-z0-9:.,]", following)), (
            stem,
            following,
        )
        assert stem.count("（") == stem.count("）"), stem  # no aside cut open
    else:
        assert len(title) <= LIMIT
        assert body.startswith(title), (title, body)
        # the whole first sentence: the text goes on with its end, or ends
        rest = body[len(title) :]
        assert rest == "" or rest[0] in "。！？!?；;.", (title, rest[:5])


def test_known_flashes() -> None:
    """Checked by reading them: real 财联社 texts of 2026-06-16."""
    assert headline("财联社6月16日电，布伦特原油期货跌幅扩大至5%，报78.978美元/桶。") == (
        "布伦特原油期货跌幅扩大至5%，报78.978美元/桶"
    )
    assert headline(
        "财联社6月16日电，中韩半导体ETF华泰柏瑞(513310)将于2026年6月17日开市起至当日10:30停牌。"
    ) == ("中韩半导体ETF华泰柏瑞(513310)将于2026年6月17日开市起至当日…")
    long = (
        "财联社6月16日电，投资者大举加杠杆押注SpaceX，该股上市首日杠杆交易成交额突破10亿美元，"
        "市场争相放大对这宗史上最大IPO的押注规模，凸显散户投资者极高的参与热情。"
    )
    assert headline(long) == "投资者大举加杠杆押注SpaceX，该股上市首日杠杆交易成交额突破10亿美元…"
    # a dateline with nothing after it is all there is
    assert headline("财联社6月16日电") == "财联社6月16日电"


def test_the_cls_adapter_titles_untitled_flashes() -> None:
    untitled = [item for item in bundled("cls") if not item.get("title")]
    assert untitled
    for item in untitled:
        article = cls.normalise(item)
        assert not article.title.startswith("财联社"), article.title
        assert article.title == headline(str(item["content"]))
