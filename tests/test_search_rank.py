"""The second pass of the ranking (issue #16, the docs' #11: finews.search.rerank) on real
flashes, on SQLite and PostgreSQL: what a headline says before how often the text says it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from conftest import BACKENDS, DATA, backend_url
from finews.model import Article
from finews.process.pipeline import Processor
from finews.search import rerank
from finews.search.query import parse
from finews.search.service import search
from finews.store import Store
from test_search_meaning import NOW, archived_flashes, every_flash

RANK = DATA / "flash" / "search_rank.jsonl"


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return backend_url(request.param, tmp_path)


def opec_flashes() -> list[Article]:
    """Two real flashes that both name 石油输出国组织 and 欧佩克: the 东方财富 one says
    增产 in its headline, the 财联社 one names 欧佩克 three times and 增产 only at its end."""
    return archived_flashes(RANK, digest_from_content=True)


HEADLINE = "202608023829174973"  # “欧佩克+”主要产油国决定9月继续增产
MENTIONS = "2392771"  # “欧佩克+”第41次部长级会议在线举行 … 或将同意7月进一步增产


@pytest.fixture
def filled(store: Store) -> Store:
    processor = Processor.default()
    store.save([processor(a) for a in every_flash() + opec_flashes()])
    return store


def ids(store: Store, query: str, **kwargs: int) -> list[str]:
    found = search(store, query, now=NOW, **kwargs)
    return [r.article.upstream_id for r in found.results]


def test_the_headline_that_says_the_event_outranks_twice_the_matches() -> None:
    # the 财联社 flash names 欧佩克 three times beside 石油输出国组织 and says 增产 only at
    # its end: even with twice the first-pass score (BM25 sums every alias's matches) it
    # comes after the flash whose headline says 欧佩克 and 增产
    by_id = {a.upstream_id: a for a in opec_flashes()}
    candidates = [
        rerank.Candidate(i, score, by_id[i].title, by_id[i].digest)
        for i, score in ((MENTIONS, -10.0), (HEADLINE, -5.0))
    ]
    assert [i for i, _ in rerank.rerank(parse("欧佩克增产"), candidates)] == [HEADLINE, MENTIONS]
    # between equal headlines the first pass decides
    same = [replace(c, title="欧佩克增产", text="") for c in candidates]
    assert [i for i, _ in rerank.rerank(parse("欧佩克增产"), same)] == [MENTIONS, HEADLINE]


def test_the_store_ranks_the_headline_first(filled: Store) -> None:
    assert ids(filled, "欧佩克增产")[:2] == [HEADLINE, MENTIONS]


def test_two_aliases_in_a_headline_count_as_one_concept() -> None:
    query = parse("欧佩克增产")
    coverage = rerank.Coverage(query)
    once = coverage("欧佩克声明", "")
    both = coverage("欧佩克（石油输出国组织）声明", "")
    assert once == both
    assert coverage("欧佩克决定增产", "") == 1.0
    # the lead counts, less than the headline
    assert once < coverage("欧佩克声明", "【欧佩克声明】欧佩克决定增产。下文") < 1.0


def test_a_specific_word_counts_more_than_a_common_one() -> None:
    # 关税政策 is not in either headline whole: its part 关税 says more than 政策
    coverage = rerank.Coverage(parse("特朗普关税政策"))
    assert coverage("特朗普挑战最新关税措施", "") > coverage("特朗普强硬移民政策", "")


def test_pages_of_the_second_pass_neither_repeat_nor_skip(filled: Store) -> None:
    whole = ids(filled, "央行", limit=12)
    assert len(whole) > 6
    assert ids(filled, "央行", limit=6) + ids(filled, "央行", limit=6, offset=6) == whole


def test_newest_first_is_untouched(filled: Store) -> None:
    found = search(filled, "欧佩克增产", now=NOW, recent_first=True).results
    times = [r.article.published for r in found]
    assert times == sorted(times, reverse=True)
    assert [r.article.upstream_id for r in found][:2] == [HEADLINE, MENTIONS]


def test_a_two_character_run_is_not_a_phrase_on_postgresql() -> None:
    # 盘前 is not a dictionary word (盘, 前): its literal bigram finds it, and the GIN
    # index can answer that without reading every article that has both characters (营收
    # until wave 17, which made it a word of the vocabulary: 营收|营业收入)
    tsquery = parse("华虹宏力 盘前").tsquery() or ""
    assert "'盘' <-> '前'" not in tsquery
    assert "'盘前' & ('盘前' | '盘' | '前')" in tsquery
