"""The index's cut (:mod:`finews.search.blockcut`) gives jieba's search-mode words exactly.

The store segments every article's title, text and tags for the search index; the cut
written out for speed (#10) must index the same words jieba would, or a search would find
other articles than before.  Compared on every text of the real flashes and posts under
tests/data, and on strings made to reach the corners of jieba's cut (hand-written here).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

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
    cut = blockcut.SearchCut(tokenizer.FREQ.get, tokenizer.total)
    every = texts() + CORNERS
    assert len(every) > 600
    for text in every:
        assert list(cut.cut(text)) == list(tokenizer.cut_for_search(text, HMM=False)), text


def test_index_text_is_unchanged_by_the_faster_cut() -> None:
    """What the index stores: jieba's words that have a letter, a digit or an ideograph,
    as :func:`segment.index_text` kept them before (the second round reads remembered
    blocks)."""
    tokenizer = segment.tokenizer()
    cut = blockcut.SearchCut(tokenizer.FREQ.get, tokenizer.total)
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
    cut = blockcut.SearchCut(tokenizer.FREQ.get, tokenizer.total)
    for text in ("中国平安", "中国平安银行", "平安中国", "国平安", "中国平安银行股 A股"):
        expected = list(tokenizer.cut_for_search(text, HMM=False))
        assert list(cut.cut(text)) == expected, text
    assert list(cut.cut("中国平安")) == ["中国", "国平", "平安", "中国平安"]


# a fresh process storing real articles through the real store, as `finews fetch` does
_STORE_SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[1])
from finews.search import segment
from finews.store import Store
from sitedata import populate
if len(sys.argv) > 3:
    segment.QUICK_LOOKUPS = int(sys.argv[3])
store = Store.open(sys.argv[2])
populate(store, fast=40, posts=20)
store.close()
print(json.dumps({"jieba": "jieba" in sys.modules}))
"""


def _store_in_a_new_process(folder: Path, name: str, *extra: str) -> tuple[bool, list[tuple]]:
    """Whether the process loaded jieba, and the search index it stored."""
    db = folder / f"{name}.db"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _STORE_SCRIPT,
            str(Path(__file__).parent),
            f"sqlite:///{db}",
            *extra,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "FINEWS_CACHE": str(folder / "cache")},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(db) as conn:
        index = conn.execute(
            "SELECT a.source, a.upstream_id, f.title, f.body, f.tags FROM article_fts f "
            "JOIN articles a ON a.id = f.rowid ORDER BY 1, 2"
        ).fetchall()
    return json.loads(done.stdout)["jieba"], index


@pytest.fixture(scope="module")
def first_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bool, list[tuple]]:
    """A first process, with no quick dictionary file yet: it loads jieba to write one."""
    folder = tmp_path_factory.mktemp("quick")
    loaded, index = _store_in_a_new_process(folder, "first")
    return folder, loaded, index


def test_the_quick_dictionary_file_indexes_the_same_words(
    first_store: tuple[Path, bool, list[tuple]],
) -> None:
    """A process that has not loaded jieba indexes from the quick dictionary file
    (:mod:`finews.search.quickseg`): the same words as from jieba's dictionary in memory."""
    from finews.search import quickseg

    (written,) = (first_store[0] / "cache").glob("jieba-*.sqlite")
    quick = quickseg.QuickDictionary(written)
    tokenizer = segment.tokenizer()
    from_file = blockcut.SearchCut(quick.freq, quick.total)
    in_memory = blockcut.SearchCut(tokenizer.FREQ.get, tokenizer.total)
    for text in texts() + CORNERS:
        assert from_file.indexed(text) == in_memory.indexed(text), text
    assert quick.lookups > 1000


def test_a_polls_worth_of_articles_is_indexed_without_loading_jieba(
    first_store: tuple[Path, bool, list[tuple]],
) -> None:
    """60 articles (a poll's worth) stored by a new process: the first, with no quick
    dictionary file yet, loaded jieba to write it; the next reads the file and never loads
    jieba (a second saved on every ``finews fetch``); one told to stop reading the file
    almost at once loads jieba midway.  All three index the same words."""
    folder, first_loaded, first = first_store
    assert first_loaded
    quick_loaded, quick = _store_in_a_new_process(folder, "quick")
    assert not quick_loaded
    switched_loaded, switched = _store_in_a_new_process(folder, "switched", "500")
    assert switched_loaded
    assert len(first) == 60
    assert quick == first
    assert switched == first


def test_a_damaged_dictionary_file_is_rewritten_and_nothing_is_lost(
    first_store: tuple[Path, bool, list[tuple]], tmp_path: Path
) -> None:
    """Wave 13's review: a quick dictionary file damaged after it was written (a third of
    its pages overwritten here) failed every fetch, for good, with a traceback.  The
    process answers from jieba instead (the same words), says so, and removes the file;
    the next process writes it again."""
    (written,) = (first_store[0] / "cache").glob("jieba-*.sqlite")
    damaged = bytearray(written.read_bytes())
    for at in range(len(damaged) // 3, 2 * len(damaged) // 3, 4096 * 3):
        damaged[at : at + 4096] = b"\xff" * 4096
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / written.name).write_bytes(bytes(damaged))
    loaded, index = _store_in_a_new_process(tmp_path, "damaged")
    assert loaded and index == first_store[2]
    assert not (tmp_path / "cache" / written.name).exists()
    _, again = _store_in_a_new_process(tmp_path, "again")
    assert again == first_store[2] and (tmp_path / "cache" / written.name).exists()
