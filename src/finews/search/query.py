"""User text → an FTS5 query.  Pure.

What a user types is never FTS syntax: every word ends up inside a double-quoted FTS5
string (quotes doubled), so ``*``, ``OR``, ``NEAR``, brackets, colons and unbalanced
quotes are plain text and no input is an error.  The little syntax there is:

- words separated by spaces must all match;
- ``"…"`` keeps a phrase together; ``-word`` leaves out articles that have the word;
- a six-digit stock code (``600928``, ``600928.SH``, ``sh600928``) is the stock: its
  code and every name it goes by;
- any name of the alias table brings its aliases (英伟达 finds Nvidia and NVDA).

Two things make a search find what a reader means rather than only the exact words
(issue #16, the docs' #11):

- **never miss a literal match**: every word of two or more characters that is not plain
  ASCII may also match as the overlapping character bigrams of the text (the index's
  ``grams`` column, :func:`grams`), so an article that contains the typed string is found
  even where jieba cut it differently in context (抗疫 inside 对抗疫情);
- **graceful degradation**: :meth:`Query.relaxed` asks for about 60 % of the words instead
  of all of them (Lucene's ``minimum_should_match``); the store uses it when the strict
  query finds few.  A quoted phrase and a stock code stay required, ``-word`` stays an
  exclusion.

Words are cut the way the index was cut (:mod:`finews.search.segment`).  A run of
single characters (words jieba does not know, like 蔚来) becomes a phrase of those
characters, and a lone character a prefix, so that an unknown word still finds itself.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from itertools import combinations

from finews.search import segment
from finews.search.aliases import AliasTable, fold

_CODE = re.compile(r"^(?:(?:sh|sz|bj)(\d{6})|(\d{6})(?:\.(?:sh|sz|bj))?)$", re.I)
_CHUNKS = re.compile(r'(-?)"([^"]*)"?|(\S+)')


RELAX_SHARE = 0.6
"""A relaxed query needs this share of its optional words (rounded)."""
_MAX_COMBINATIONS = 64
"""A relaxed query is an OR of the allowed subsets of words; beyond this many subsets a
larger share is asked (a query of many words is cut to the subsets that stay cheap)."""


@dataclass(frozen=True)
class Term:
    """One thing that must (or must not) match: any of ``alternatives``, or the literal
    text as character bigrams (``literal``, matched in the ``grams`` column)."""

    alternatives: tuple[str, ...]
    prefix: bool = False
    literal: str = ""
    """the typed text as space-separated bigrams (see :func:`grams`), or empty"""
    strict: bool = False
    """a quoted phrase or a stock code: required even in a relaxed query"""
    parts: tuple[str, ...] = ()
    """the dictionary words a compound word is made of (下调评级 → 下调, 评级): all of
    them together are one more alternative, and a relaxed query counts them one by one"""
    name: bool = False
    """the name of a company, stock or institution: what the query is about, so a
    relaxed query keeps it (英伟达发布财报 never relaxes into any 财报)"""
    scoring: tuple[str, ...] = ()
    """words that change nothing in what matches but count in the ranking: the words of a
    Chinese phrase, whose literal match alone (``grams``, weight 0) would rank nothing"""
    pair: bool = False
    """two places written one character each (美伊): its two names (美国, 伊朗) are one
    alternative, and a relaxed query keeps the pair whole — one of the two names alone
    (美国 … 磋商) is another story"""
    verbatim: str = ""
    """a quoted phrase with a sign the index does not keep (``"人工智能+"``, ``"AI+"``; see
    :data:`_KEPT_SIGNS`): the text an article must hold as typed (:func:`verbatim_forms`),
    beside the words"""


LIGHT_WORDS = frozenset(
    {"发布", "公布", "开展", "举行", "召开", "宣布", "进行", "出台", "推出", "实施", "表示"}
)
"""Verbs that say an event happened without saying which: in 英伟达发布财报 or 美国5月CPI
数据公布 the article that matters may say 英伟达财报超预期 or 美国CPI同比上涨.  Beside other
words they rank an article but are not required (Lucene's stop words, kept for scoring)."""
GENERIC_HEADS = frozenset(
    {"疫情", "事件", "事故", "危机", "风波", "丑闻", "传闻", "局势", "进展", "动态", "消息"}
)
"""Nouns that, after a word, say what kind of news about it a reader wants without narrowing
it (汉坦病毒疫情, X事件, X风波): after a rare word they may go, and rank (:meth:`Query.holding`).
Only after a word and only a rare one: 上海疫情 is not all of Shanghai's news, and 台风登陆
or 融资余额 (no head) hold neither word — a trader's walk (wave 17) found 台风登陆 answered
by 登陆 alone when the rarer of any two words held."""
# fmt: off
_PLAIN_UNITS = (
    "万亿", "亿", "万", "亿元", "万元", "元", "美元", "港元", "日元", "欧元", "英镑", "点",
    "基点", "吨", "万吨", "桶", "盎司", "倍", "股", "亿股", "万股", "家", "只", "辆", "架", "艘",
    "人", "例",
)
# fmt: on
_QUANTITY_UNITS = {
    **{unit: unit for unit in _PLAIN_UNITS},
    "万亿元": "万亿 亿元 万亿元",
    "亿美元": "美元 亿美元",
    "万美元": "美元 万美元",
    "亿港元": "港元 亿港元",
}
"""Units a number typed before them belongs to — the quantity is one term — and the words
the index keeps for each after its number (jieba's search mode cuts 3亿美元 as 3, 美元,
亿美元: a test holds this table to the index)."""
_DATE_UNITS = frozenset("年月日号")
_DATE_FORMS = {
    "月": ("月", "月份", "月末", "月初", "月底"),
    "月份": ("月份", "月", "月末", "月初", "月底"),
    "月末": ("月末", "月底"),
    "月底": ("月底", "月末"),
    "月初": ("月初",),
    "年": ("年", "年度"),
    "年度": ("年度", "年"),
}
"""How the news writes a month or a year that a reader types one way: jieba keeps 7月份,
5月末 and 2025年度 as a number and one word, so the phrase "7 月" alone missed 国家统计局：
7月份CPI同比上涨 for 国家统计局公布7月CPI, and 5月外汇储备 the 截至5月末 of the data itself."""


@dataclass(frozen=True)
class Query:
    required: tuple[Term, ...]
    excluded: tuple[Term, ...] = ()
    minimum: int | None = None
    """how many of the optional (not strict) required terms must match; None: all"""
    boost: tuple[str, ...] = ()
    """words that rank an article without being required (:data:`LIGHT_WORDS`)"""

    @property
    def empty(self) -> bool:
        return not self.required

    @property
    def verbatims(self) -> tuple[str, ...]:
        """The texts the answer's articles must hold as typed (quoted phrases with signs)."""
        return tuple(t.verbatim for t in self.required if t.verbatim)

    @property
    def excluded_verbatims(self) -> tuple[str, ...]:
        """The texts the answer's articles must not hold (``-"人工智能+"``): left out by
        the text, not the index, whose words (人工智能) would leave out every article that
        says them without the sign."""
        return tuple(t.verbatim for t in self.excluded if t.verbatim)

    @property
    def _index_excluded(self) -> tuple[Term, ...]:
        return tuple(t for t in self.excluded if not t.verbatim)

    @property
    def optional(self) -> tuple[Term, ...]:
        """The terms a relaxed query may do without (not a phrase, code or name)."""
        return tuple(t for t in self.required if not (t.strict or t.name))

    def relaxed(self) -> Query | None:
        """The same query needing only about 60 % of its optional words (rounded, Lucene's
        ``minimum_should_match``), a compound word counting as its parts (特朗普关税政策:
        特朗普 and one of 关税, 政策), or None when that would change nothing.  A name,
        a code or a phrase stays required; without one, at least two words must match."""
        finer: list[Term] = []
        for term in self.required:
            if term.strict or term.name or not term.parts or term.pair:
                finer.append(term)
            else:
                finer += [Term((part,)) for part in term.parts]
        # a light word (发布, 公布) goes first: the strict query, or'ed with this one by the
        # store, keeps it in the ranking
        content = [t for t in finer if not _light(t)]
        if len(content) == 2 and sum(t.pair for t in content) == 1:
            # a pair of places beside one word holds like a name (以黎冲突: Israel and
            # Lebanon's news, 冲突 first); beside more words it is one of them (中美经贸磋商)
            finer = [replace(t, name=True) if t.pair else t for t in finer]
            content = [t for t in finer if not _light(t)]
        query = replace(self, required=tuple(dict.fromkeys(content or finer)))
        n = len(query.optional)
        if n == 0:
            # 腾讯 宣布: the name alone, once the light verb is dropped (review, wave 15)
            light_dropped = bool(content) and len(content) < len(finer)
            return query if light_dropped else None
        anchored = len(query.required) > n
        # beside a name, a single other word may go (欧佩克增产: OPEC's news, 增产 first)
        need = 0 if anchored and n == 1 else max(2, math.floor(RELAX_SHARE * n + 0.5))
        need = min(need, n - 1) if anchored else need
        while need < n and math.comb(n, need) > _MAX_COMBINATIONS:
            need += 1
        if need >= n:
            if len(content) == len(finer) or not content:
                return None
            # dropping the light words relaxed it already: 宣布回购 found 2 articles with
            # both words and nothing more, where 33 say 回购 (a trader's walk, wave 15)
            need = n
        return replace(query, minimum=need)

    def word_and_head(self) -> tuple[Term, Term] | None:
        """The query's word and its head when it is a word of two characters or more
        followed by a generic head (:data:`GENERIC_HEADS`) and nothing else that a relaxed
        query keeps (a name, a code, a phrase, a pair of places) or drops (a light word):
        汉坦病毒疫情, which :meth:`relaxed` leaves strict."""
        if len(self.required) != 2 or any(_light(t) for t in self.required):
            return None
        word, head = self.required
        if any(t.strict or t.name or t.pair or t.prefix for t in (word, head)):
            return None
        if len(word.alternatives[0]) < 2 or head.alternatives[0] not in GENERIC_HEADS:
            return None
        if word.alternatives[0].replace(" ", "").isdigit():
            return None  # 312事件: a number is in few articles, none of them about it
        return word, head

    def holding(self, term: Term) -> Query | None:
        """The query relaxed with ``term`` held like a name: ``term`` alone answers, the
        other word ranks (:meth:`relaxed`'s rule for a name beside one other word).  The
        store holds the word of :meth:`word_and_head` so when it is rare
        (``fulltext.RARE_BELOW``): 汉坦病毒 of 汉坦病毒疫情 is in 16 flashes, all about the
        outbreak, and 9 of them say 疫情."""
        held = tuple(replace(t, name=True) if t == term else t for t in self.required)
        return replace(self, required=held).relaxed()

    def _groups(self) -> list[list[Term]] | None:
        """The alternatives of a relaxed query: each a list of terms that must all
        match (the strict ones and one subset of the optional ones); None when strict."""
        if self.minimum is None:
            return None
        kept = [t for t in self.required if t.strict or t.name]
        if self.minimum == 0:
            # the name alone, but with the other words in the expression so that the
            # ranking (BM25, ts_rank) still counts them
            return [*([*kept, t] for t in self.optional), kept]
        return [kept + list(c) for c in combinations(self.optional, self.minimum)]

    def highlight_terms(self) -> list[str]:
        """The strings to mark in a snippet, longest first."""
        seen = {
            _shown(alt) if _is_cjk_phrase(alt) or alt.replace(" ", "").isdigit() else alt
            for term in self.required
            for alt in term.alternatives
        }
        # a pair of places is found by its two names too (美伊: 美国 … 伊朗)
        seen.update(name for term in self.required if term.pair for name in term.parts)
        return sorted(seen, key=lambda s: (-len(s), s))

    def tsquery(self, *, ranking: bool = False) -> str | None:
        """The same query as a PostgreSQL ``tsquery`` literal (for ``CAST(:q AS tsquery)``),
        or None when there is nothing to look for.  Words are cut into the index's tokens
        (:func:`lexemes`); a phrase becomes ``<->``, a prefix ``:*``.

        ``ranking``: the query ``ts_rank`` scores with, without the literal bigrams.  They
        find (the never-miss-a-literal fallback) but must not rank, as on SQLite, where
        they sit in the ``grams`` column of weight 0.  ``ts_rank`` counts every lexeme of
        its query wherever the document has it, whatever the phrase around it, so a
        bigram that is a word too (时代 of 宁德时代, 会议 of 国务院常务会议) ranked every
        article that says it; and each lexeme costs ``ts_rank`` a look-up per candidate."""
        if self.empty:
            return None
        groups = self._groups() or [list(self.required)]
        alternatives = []
        for group in groups:
            rendered = [_ts_render(t, literal=not ranking) for t in group]
            if any(r is None for r in rendered):
                continue  # a required term with nothing to match matches nothing
            alternatives.append(" & ".join(r for r in rendered if r))
        if not alternatives:
            return None
        expression = (
            alternatives[0]
            if len(alternatives) == 1
            else " | ".join(f"({a})" for a in alternatives)
        )
        boost = [p for p in (_ts_alternative(w, False) for w in self.boost) if p]
        if boost:
            expression = f"({expression}) & (({expression}) | {' | '.join(boost)})"
        excluded = [r for r in (_ts_render(t) for t in self._index_excluded) if r]
        if excluded:
            expression = f"({expression}) & !({' | '.join(excluded)})"
        return expression

    def fts(self) -> str | None:
        """The FTS5 MATCH expression, or None when there is nothing to look for."""
        if self.empty:
            return None
        groups = self._groups()
        if groups is None:
            expression = " AND ".join(_render(t) for t in self.required)
        else:
            expression = " OR ".join(
                "(" + " AND ".join(_render(t) for t in group) + ")" for group in groups
            )
        if self.boost:
            # (E) AND (E OR w): matches what E matches; BM25 counts w
            extra = " OR ".join(_quote(w) for w in self.boost)
            expression = f"({expression}) AND (({expression}) OR {extra})"
        if self._index_excluded:
            left_out = " OR ".join(_render(t) for t in self._index_excluded)
            expression = f"({expression}) NOT ({left_out})"
        return expression


_TOKEN = re.compile(r"[^\W_]+")


def lexemes(text: str) -> list[str]:
    """Text cut the way SQLite's ``unicode61`` tokenizer cuts it (runs of letters and
    digits; case folded, diacritics removed), so that both stores index and match the
    same tokens."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    if _NEVER_COMBINING.fullmatch(folded):
        plain = folded  # nothing to drop: skips a Python step per character (write path)
    else:
        plain = "".join(c for c in folded if not unicodedata.combining(c))
    return _TOKEN.findall(unicodedata.normalize("NFC", plain))


_NEVER_COMBINING = re.compile(
    "[\x00-\u02ff\u2000-\u20cf\u3000-\u3029\u3030-\u3098\u309b-\u30ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]*"
)
"""Characters none of which is a combining mark (ASCII and Latin-1, general punctuation,
CJK punctuation, kana without the voicing marks, the ideographs, full-width forms; held by
tests/test_search_meaning.py): a Chinese text is all of these."""


def ts_quote(lexeme: str) -> str:
    """A lexeme as a quoted ``tsvector``/``tsquery`` literal."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _ts_alternative(text: str, prefix: bool) -> str | None:
    tokens = lexemes(text)
    if not tokens:
        return None
    parts = [ts_quote(t) for t in tokens]
    if prefix:
        parts[-1] += ":*"
    return parts[0] if len(parts) == 1 else "(" + " <-> ".join(parts) + ")"


def _ts_render(term: Term, *, literal: bool = True) -> str | None:
    plain = _ts_render_plain(term, literal=literal)
    scoring = list(term.scoring)
    if term.literal:
        # the characters of a run (营 收) rank the article on PostgreSQL without being a
        # phrase: see _ts_render_plain
        scoring += [c for a in term.alternatives if _single_char_run(a) for c in a.split()]
    if not scoring:
        return plain
    extra = [p for p in (_ts_alternative(w, False) for w in dict.fromkeys(scoring)) if p]
    if plain is None:
        # ranking a term only its literal finds (营 收): its characters rank
        return None if literal or not extra else "(" + " | ".join(extra) + ")"
    return f"({plain} & ({plain} | {' | '.join(extra)}))" if extra else plain


def _single_char_run(text: str) -> bool:
    """A run of single CJK characters (营 收: a word the dictionary does not know)."""
    words = text.split()
    return len(words) > 1 and all(_single_cjk(w) for w in words)


def _ts_render_plain(term: Term, *, literal: bool = True) -> str | None:
    # A run of single characters with its literal: the literal (bigrams, at consecutive
    # positions of the grams) finds every article where the characters stand together;
    # the phrase of the characters adds none, and PostgreSQL's GIN index cannot check a
    # phrase — it reads every article that has both characters (营 and 收: 440 ms for
    # 华虹宏力 营收 at 18,550 articles).  The characters still rank (_ts_render).
    alternatives = [a for a in term.alternatives if not (term.literal and _single_char_run(a))]
    parts = [p for p in (_ts_alternative(a, term.prefix) for a in alternatives) if p]
    if literal:
        parts += [p for p in (_ts_alternative(x, False) for x in _run_literals(term)) if p]
    pieces = [p for p in (_ts_alternative(w, False) for w in term.parts) if p]
    if pieces:
        parts.append("(" + " & ".join(pieces) + ")")
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else "(" + " | ".join(parts) + ")"


def _shown(phrase: str) -> str:
    """A phrase of the index's words as the text writes it: the spaces gone, and a number
    with its unit as typed (3 万亿 亿元 万亿元 → 3万亿元, 3 5 万亿 → 3.5万亿)."""
    words = phrase.split()
    digits = 0
    while digits < len(words) and words[digits].isdigit():
        digits += 1
    if digits == 0:
        return "".join(words)
    unit = words[-1] if digits < len(words) else ""
    return ".".join(words[:digits]) + unit


def _is_cjk_phrase(text: str) -> bool:
    return " " in text and not text.isascii()


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _render(term: Term) -> str:
    plain = _render_plain(term)
    if not term.scoring:
        return plain
    # (A) AND (A OR w1 OR w2) matches what A matches; BM25 counts w1 and w2
    extra = " OR ".join(_quote(w) for w in term.scoring)
    return f"({plain} AND ({plain} OR {extra}))"


def _run_literals(term: Term) -> list[str]:
    """The literal (bigrams) of the term, and of each other spelling that is a run of
    single characters (伊 美 of 美伊): each finds its string however jieba cut it."""
    if not term.literal:
        return []
    runs = [literal_of("".join(a.split())) for a in term.alternatives if _single_char_run(a)]
    return list(dict.fromkeys([term.literal, *(r for r in runs if r)]))


def _render_plain(term: Term) -> str:
    parts = [_quote(a) + ("*" if term.prefix else "") for a in term.alternatives]
    parts += [_quote(literal) for literal in _run_literals(term)]
    if term.parts:
        parts.append("(" + " AND ".join(_quote(w) for w in term.parts) + ")")
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def _single_cjk(word: str) -> bool:
    return len(word) == 1 and not word.isascii()


def _bigrams(token: str) -> list[str]:
    if len(token) < 2:
        return [token]
    return [token[i : i + 2] for i in range(len(token) - 1)]


_KEPT_SIGNS = frozenset("+＋&＆#＃%％")
"""Signs that say something in a phrase (人工智能+, A&B, 5%) and that the index drops.  A
dash, a tilde, a dot or a slash only separates (1-7月 is written 1—7月 and 1～7月 too): a
phrase with those is left to the index's words, which ignore them alike."""


def verbatim_forms(text: str) -> tuple[str, ...]:
    """The ways the news writes a phrase with signs, lower case: as typed in half-width
    (人工智能+), with full-width signs (人工智能＋: 29 of the corpus's 876), and either as
    escaped in an article's HTML (a&amp;b)."""
    half = unicodedata.normalize("NFKC", text).lower()
    full = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" and not c.isalnum() else c for c in half)
    escaped = [html.escape(form, quote=True) for form in (half, full)]
    return tuple(dict.fromkeys((half, full, *escaped)))


def grams(text: str) -> str:
    """Text as the index's ``grams`` column holds it: each token (as ``unicode61`` cuts
    it) that is not plain ASCII, as its overlapping character bigrams followed by its
    last character (西安银行 → 西安 安银 银行 行), space-separated.

    A string of two or more characters occurs in a token exactly where its bigrams
    occur at consecutive positions, so the phrase of a query's bigrams finds every
    article that contains it, however jieba cut the text around it (Lucene's
    CJKBigramFilter; the last character lets a single character be found as a prefix
    wherever it stands).  Plain ASCII tokens are words already (jieba never cuts
    them): ``Fed`` does not find ``Federal``."""
    out: list[str] = []
    for token in lexemes(text):
        if token.isascii():
            continue
        if len(token) == 1:
            out.append(token)
        else:
            out += _bigrams(token)
            out.append(token[-1])
    return " ".join(out)


def literal_of(text: str) -> str:
    """The bigram phrase that finds ``text`` literally (empty for plain ASCII, a single
    character, or text cut into more than one token)."""
    tokens = lexemes(text)
    if len(tokens) != 1 or tokens[0].isascii() or len(tokens[0]) < 2:
        return ""
    return " ".join(_bigrams(tokens[0]))


def _word_literal(word: str) -> str:
    """:func:`literal_of` a word, empty for a two-character word: it is its own bigram, and
    its word alternative matches the ``grams`` column already."""
    literal = literal_of(word)
    return "" if " " not in literal else literal


def _terms_of(text: str, aliases: AliasTable, *, phrase: bool) -> list[Term]:
    code = _CODE.match(text)
    if code:
        return [Term(aliases.expand(code.group(1) or code.group(2)), strict=True)]
    # a quoted phrase is what it says: no other names, no synonyms
    whole = (text,) if phrase else aliases.expand(text)
    if len(whole) > 1:
        named = fold(text) in aliases.names
        pieces = () if named else segment.parts(text)
        return [Term(whole, literal=_word_literal(text), parts=pieces, name=named)]
    words = segment.query_words(text)
    if not words:
        return []
    if phrase:
        # the words of a Chinese phrase are next to each other in the text, without the
        # spaces typed between them: 算力 租赁 is found as 算力租赁 too
        joined = "".join(text.split()) if not text.isascii() else text
        literal = literal_of(joined)
        scoring = tuple(dict.fromkeys(w for w in words if len(w) > 1)) if literal else ()
        # the index keeps words, not signs: "人工智能+" found all 83 articles that say
        # 人工智能, where 10 say 人工智能+ (left open since wave 13) — the sign must be there too
        signs = any(c in _KEPT_SIGNS for c in joined)
        return [
            Term(
                (" ".join(words),),
                literal=literal,
                strict=True,
                scoring=scoring,
                verbatim=joined.strip() if signs else "",
            )
        ]
    terms: list[Term] = []
    run: list[str] = []

    def flush() -> None:
        # a pair of places beside particles only (美伊在瑞士谈判: 美 伊 在) is the pair: the
        # particle says nothing; beside another character (美伊以) the run stays as typed
        if len(run) > 2 and "".join(run[:2]) in pairs() and _PARTICLES.issuperset(run[2:]):
            del run[2:]
        elif len(run) > 2 and "".join(run[-2:]) in pairs() and _PARTICLES.issuperset(run[:-2]):
            del run[:-2]
        if len(run) == 1:
            terms.append(Term((run[0],), prefix=True))
        elif run:
            joined = "".join(run)
            terms.append(
                Term(
                    tuple(" ".join(spelling) for spelling in _spellings(joined)),
                    literal=literal_of(joined),
                    parts=pairs().get(joined, ()),
                    pair=joined in pairs(),
                )
            )
        run.clear()

    def number_before(at: int) -> bool:
        """Whether the term just made is the number typed right before ``words[at]``."""
        return (
            at > 0
            and words[at - 1].isdigit()
            and bool(terms)
            and not run
            and terms[-1].alternatives[0].replace(" ", "").isdigit()
        )

    for at, word in enumerate(words):
        if word.isdigit() and number_before(at) and f"{words[at - 1]}.{word}" in text:
            # 3.5: the index cuts it as 3 and 5 side by side, one number
            number = terms.pop().alternatives[0]
            terms.append(Term((f"{number} {word}",)))
            continue
        if word in _QUANTITY_UNITS and number_before(at):
            # 3万亿, 4500美元: one quantity, not a 3 anywhere and a 万亿 anywhere (连续第3个
            # 交易日突破1.5万亿 is not 突破3万亿)
            number = terms.pop().alternatives[0]
            typed = number.replace(" ", ".") + word
            unit = _QUANTITY_UNITS[word]
            terms.append(Term((f"{number} {unit}",), literal=_word_literal(typed)))
            continue
        if (
            (word in _DATE_UNITS or word in _DATE_FORMS)
            and at > 0
            and words[at - 1].isdigit()
            and terms
            and not run
        ):
            # 5月, 2025年: one date, not a number and a prefix of every word with 月; said
            # any of the ways the news says it (7月 finds 7月份, 5月末)
            number = terms.pop().alternatives[0]
            forms = _DATE_FORMS.get(word, (word,))
            terms.append(Term(tuple(f"{number} {form}" for form in forms)))
            continue
        if _single_cjk(word):
            run.append(word)
            continue
        flush()
        if word in pairs() and fold(word) not in aliases.names:
            # a pair jieba keeps as one word (中日, 美韩): the same term as a run's
            terms.append(
                Term(_spellings(word), parts=pairs()[word], pair=True, literal=_word_literal(word))
            )
            continue
        expanded = aliases.expand(word)
        # a name (西安银行) is not its parts (西安 … 银行); a compound word of the
        # vocabulary (下调评级) may be said with its parts apart
        named = fold(word) in aliases.names
        pieces = () if named else segment.parts(word)
        terms.append(Term(expanded, literal=_word_literal(word), parts=pieces, name=named))
    flush()
    return terms


@lru_cache(maxsize=1)
def pairs() -> dict[str, tuple[str, ...]]:
    """Two countries or blocs written one character each (美伊, 伊美, 俄乌) → the two
    names they stand for (``data/search_pairs.txt``)."""
    table: dict[str, tuple[str, ...]] = {}
    text = (resources.files("finews") / "data" / "search_pairs.txt").read_text("utf-8")
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            spellings, *names = line.split()
            for spelling in spellings.split("|"):
                table[spelling] = tuple(names)
    return table


_PARTICLES = frozenset("在与和同及对向的了将被把从")
"""Single characters that join the words of a query without saying anything of their own
(美伊在瑞士谈判, 在美伊), dropped beside a pair of places."""


def _spellings(joined: str) -> tuple[str, ...]:
    """A run of single characters as typed, and — a pair of places (美伊) — the other
    order the news writes it in too (伊美)."""
    if joined in pairs() and pairs().get(joined[::-1]) == pairs()[joined]:
        return (joined, joined[::-1])  # only an order the file lists (美欧 is not 欧美)
    return (joined,)


_MAX_NAME_WORDS = 4


def parse(text: str, aliases: AliasTable | None = None) -> Query:
    """Parse what a user typed.  Never raises."""
    table = aliases or segment.query_aliases()
    required: list[Term] = []
    excluded: list[Term] = []
    chunks = list(_CHUNKS.finditer(text[:500]))
    i = 0
    while i < len(chunks):
        match = chunks[i]
        if match.group(3) is not None:
            chunk = match.group(3)
            negative = chunk.startswith("-") and len(chunk) > 1
            # a name of several words (SK Hynix, Goldman Sachs) is one term
            span = 1 if negative else _name_span(chunks, i, table)
            if span > 1:
                words = " ".join(str(m.group(3)) for m in chunks[i : i + span])
                terms = [Term(table.expand(words), name=fold(words) in table.names)]
            else:
                terms = _terms_of(chunk[1:] if negative else chunk, table, phrase=False)
            i += span
        else:
            negative = bool(match.group(1))
            terms = _terms_of(match.group(2), table, phrase=True)
            i += 1
        (excluded if negative else required).extend(terms)
    # the same term twice adds nothing
    return Query(tuple(dict.fromkeys(required)), tuple(dict.fromkeys(excluded)))


def _light(term: Term) -> bool:
    return not term.strict and term.alternatives[0] in LIGHT_WORDS


def _name_span(chunks: list[re.Match[str]], start: int, table: AliasTable) -> int:
    """How many plain words from ``start`` make one name of the alias table (1: none).

    Words of Latin script make one term of the table in the order typed (SK Hynix, rate
    cut); Chinese words the reader typed apart do so only when together they name a company
    or institution (三星 电子).  Two words of the vocabulary stay two words that may stand in
    any order: 净利润 下降 had become the phrase 净利润下降 (and its synonyms) while
    下降 净利润 found the 85 articles with both words (a trader's walk, wave 15)."""
    for end in range(min(len(chunks), start + _MAX_NAME_WORDS), start + 1, -1):
        words = [str(m.group(3)) for m in chunks[start:end] if m.group(3) is not None]
        if len(words) < end - start or any(w.startswith("-") for w in words):
            continue
        key = fold("".join(words))
        latin = all(w.isascii() for w in words)
        if key in table.groups and (latin or key in table.names):
            return end - start
    return 1
