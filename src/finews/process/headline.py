"""A headline for a flash that came without one (issue #12).

财联社, 金十, 新浪 and others send most flashes as text only.  Their editors put the real
headline at the start, in 【…】; when there is none, the reader's headline is the first
sentence — without the dateline ("财联社6月16日电，"), which says nothing, and cut where a
reader would stop (a clause), never inside a word or a number.  Pure: text in, text out.
"""

from __future__ import annotations

import re

from finews.process.text import strip_tags

LIMIT = 40
"""Characters a headline may have before it is cut (a phone shows about two lines)."""

_BRACKETED = re.compile(r"^\s*【(?P<title>[^】]{2,120})】")
# "财联社6月16日电，", "新华社北京6月16日电（记者 …）", "格隆汇6月16日｜", "6月16日讯，"
_DATELINE = re.compile(
    r"^[^，,。：:\s]{0,16}?\d{1,2}月\d{1,2}日(?:早间|午间|晚间|凌晨)?(?:电|讯|消息)?"
    r"(?:（[^）]{0,30}）|\([^)]{0,30}\))?\s*[，,：:｜|丨]\s*"
)
_SENTENCE_END = re.compile(r"[。！？!?；;\n]|\.(?=\s|$)")
_CLAUSE = "，,、：:；; "
_ASCII_WORD = re.compile(r"[A-Za-z0-9.%$/+\-_]")
_CONTINUES = re.compile(r"[:：,.]?[0-9A-Za-z]")
_TRAILING_ASCII = re.compile(r"[A-Za-z0-9.%$/+\-_:：,]+$")


def strip_dateline(text: str) -> str:
    """``text`` without a leading dateline; unchanged when nothing would be left."""
    if "日" not in text[:32]:  # no date, no dateline (most texts: no regex run)
        return text
    match = _DATELINE.match(text)
    if match and match.end() < len(text):
        return text[match.end() :]
    return text


def first_sentence(text: str) -> str:
    """Up to the first full stop (question or exclamation mark, semicolon, line end)."""
    match = _SENTENCE_END.search(text)
    return (text[: match.start()] if match else text).strip()


def headline(text: str, limit: int = LIMIT) -> str:
    """The headline of a flash's text (HTML or plain): its leading 【…】, else its first
    sentence without the dateline, cut at a clause or word boundary with "…" when longer
    than ``limit``."""
    clean = " ".join(strip_tags(text).split())
    if not clean:
        return ""
    match = _BRACKETED.match(clean)
    if match:
        return match.group("title").strip()
    sentence = first_sentence(strip_dateline(clean)) or clean
    if len(sentence) <= limit:
        return sentence
    return cut(sentence, limit) + "…"


def cut(sentence: str, limit: int) -> str:
    """The longest start of ``sentence`` up to ``limit`` characters that ends at a clause
    (a comma, a colon …) — if that keeps at least a third of it — else at a word: ASCII
    words and numbers are never split, Chinese is cut between jieba's words."""
    for at in range(min(limit, len(sentence) - 1), limit // 3 - 1, -1):
        if sentence[at] in _CLAUSE and not _inside_number(sentence, at):
            return sentence[:at].rstrip()
    return _word_cut(sentence, limit)


def _inside_number(text: str, at: int) -> bool:
    """A comma or colon between digits (2,670 or 10:30) is part of a number."""
    return 0 < at < len(text) - 1 and text[at - 1].isdigit() and text[at + 1].isdigit()


def _word_cut(sentence: str, limit: int) -> str:
    # imported here: the segmenter's dictionary, and most headlines are settled above
    # without it
    from finews.search.segment import precise_cut

    kept = ""
    for word in precise_cut(sentence):
        if len(kept) + len(word) > limit:
            break
        kept += word
    if _CONTINUES.match(sentence, len(kept)) and kept and _ASCII_WORD.match(kept[-1]):
        # jieba splits 10:30 and 37.81 into pieces: a number is kept whole or left out
        kept = _TRAILING_ASCII.sub("", kept)
    for opening, closing in ("（）", "()", "《》", "“”"):
        at = kept.rfind(opening)
        if at > 0 and closing not in kept[at:]:  # an aside cut open: left out
            kept = kept[:at]
    return kept.rstrip(_CLAUSE) or sentence[:limit]


# -- a headline and its text, each said once (moved from site.stream: the pushes say them too)

_LEADING_BRACKET = re.compile(r"^\s*【([^】]{1,200})】")
_SAME_HEADLINE_MIN = 6
"""Characters a 【headline】 and the title must share for one to be a cut of the other."""


def headline_of(title: str, digest: str) -> str:
    """The headline a line prints: the title, or the text's own 【headline】 when the title
    is a cut of it (an upstream title that lost its last characters: 【纳斯达克综合指数跌幅
    扩大至1%】 under the title 纳斯达克综合指数跌幅扩大至1 printed both, the shorter first)."""
    m = _LEADING_BRACKET.match(digest)
    if m and len(title) >= _SAME_HEADLINE_MIN:
        own = m.group(1).strip()
        if len(own) > len(title) and own.startswith(title.removesuffix("…")):
            return own
    return title


def shown_text(title: str, digest: str) -> tuple[bool, str]:
    """(whether the headline is printed, the text printed under it).  The text loses a
    leading 【title】 (printed in bold above it) and its dateline (the line's time and
    outlet say it); an untitled flash's derived headline is left out, its text says it."""
    text = digest.strip()
    if "\n" in text or "  " in text or "\t" in text:
        text = " ".join(text.split())
    if not text:
        return True, ""
    own = f"【{title}】"
    if text.startswith(own):  # the upstream's own headline: always in bold
        return True, strip_dateline(text[len(own) :].lstrip())
    text = strip_dateline(text)
    if text.startswith(own):  # a dateline, then 【headline】
        return True, text[len(own) :].lstrip()
    m = _LEADING_BRACKET.match(text)
    if m and len(m.group(1)) >= _SAME_HEADLINE_MIN and title.startswith(m.group(1)):
        # a shorter version of the headline printed above it
        return True, strip_dateline(text[m.end() :].lstrip())
    stem = title.removesuffix("…")
    if stem and text.startswith(stem):
        return False, text
    if text == title:
        return True, ""
    return True, text
