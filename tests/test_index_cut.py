"""The index's cut (:mod:`finews.search.blockcut`) gives jieba's search-mode words exactly.

The store segments every article's title, text and tags for the search index; the cut
written out for speed (#10) must index the same words jieba would, or a search would find
other articles than before.  Compared on every text of the real flashes and posts under
tests/data, and on strings made to reach the corners of jieba's cut (hand-written here).
"""

from __future__ import annotations

import json
from pathlib import Path

from finews.errors import JekyllFormatError
from finews.jekyll.read import parse_post
from finews.search import blockcut, segment

DATA = Path(__file__).parent / "data"

# hand-written corner cases: empty, spaces and \r\n between blocks, runs of single Latin
# letters and digits (jieba joins them), symbols inside blocks, characters outside the
# blocks' class (emoji, full-width digits and letters), long unknown runs
CORNERS = [
    "",
    " ",
    "\r\n",
    "a\r\nb",
    "ABC123 def",
    "A股B股C++ #1",
    "😀中国平安😀",
    "１２３％的增长",
    "3.5%的增长—－",
    "中_国-平.安",
    "#&%.-+",
    "x" * 50,
    "中" * 40,
    "\u3000全角\u3000空格",
    "SK海力士 A股 5.5% 美国5月CPI数据公布",
]


def texts() -> list[str]:
    """Title and text of every real flash (财联社, 东方财富, 同花顺) and post of the test data."""
    found: list[str] = []
    for path in sorted((DATA / "flash").glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            r = json.loads(line)
            found += [str(r.get("title") or ""), str(r.get("content") or r.get("brief") or "")]
    for line in (DATA / "eastmoney" / "fast_2026-06-16.jsonl").read_text("utf-8").splitlines():
        r = json.loads(line)
        found += [str(r.get("title") or ""), str(r.get("summary") or "")]
    for path in sorted((DATA / "jekyll" / "real").rglob("*.md")):
        try:
            post = parse_post(path.read_text("utf-8"), str(path))
        except JekyllFormatError:
            continue  # the one real post without a title (tests/data/README.md)
        found += [post.title, post.body_html]
    return [t for t in found if t]


def test_the_index_cut_is_jiebas_search_mode_word_for_word() -> None:
    tokenizer = segment.tokenizer()
    cut = blockcut.SearchCut(tokenizer)
    every = texts() + CORNERS
    assert len(every) > 600
    for text in every:
        assert list(cut.cut(text)) == list(tokenizer.cut_for_search(text, HMM=False)), text


def test_index_text_is_unchanged_by_the_faster_cut() -> None:
    """What the index stores: jieba's words that have a letter, a digit or an ideograph,
    as :func:`segment.index_text` kept them before (the second round reads remembered
    blocks)."""
    tokenizer = segment.tokenizer()
    cut = blockcut.SearchCut(tokenizer)
    every = texts() + CORNERS
    for text in every + every:
        old = " ".join(segment._words(tokenizer.cut_for_search(text, HMM=False))) if text else ""
        assert segment.index_text(text) == old == cut.indexed(text), text
    assert cut.indexed_block.cache_info().hits > 0


def test_between_equal_routes_the_longer_word_wins_as_in_jieba() -> None:
    """A hand-made dictionary where every route weighs the same (each word's frequency and
    the total are 1, so every weight is log 1 = 0): jieba takes the longest word at each
    point, and so must the written-out cut."""
    import jieba

    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ = {
        w: 1 for w in ("中", "国", "中国", "平", "安", "平安", "国平", "中国平安", "银", "行")
    }
    tokenizer.FREQ.update({"中国平": 0, "银行": 1, "银行股": 0})  # prefixes count 0
    tokenizer.total = 1
    tokenizer.initialized = True  # no dictionary file: these words only
    cut = blockcut.SearchCut(tokenizer)
    for text in ("中国平安", "中国平安银行", "平安中国", "国平安", "中国平安银行股 A股"):
        expected = list(tokenizer.cut_for_search(text, HMM=False))
        assert list(cut.cut(text)) == expected, text
    assert list(cut.cut("中国平安")) == ["中国", "国平", "平安", "中国平安"]
