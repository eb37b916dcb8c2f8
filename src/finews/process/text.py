"""Markup to plain text, done one way by every stage that needs words rather than HTML
(stock tagging, reprint signatures, the search index and its snippets, alerts, titles
from list items, media names from Eastmoney's credit line).  The one home of these
patterns (#16): other modules import them, none repeats them.

Not a sanitiser (that is :mod:`finews.process.clean`): these helpers only take tags out so
that text can be matched; their output is never put into a page as HTML.
"""

from __future__ import annotations

import html
import re

from finews.model import Article

TAGS = re.compile(r"<[^>]+>")
CHART_BLOCK = re.compile(r"<!--\s*EM_StockImg_Start\s*-->.*?<!--\s*EM_StockImg_End\s*-->", re.S)
"""Eastmoney's quote-chart block: markup and numbers, no news."""
EM_CREDIT = re.compile(r'<p class="em_media">（文章来源：(?P<media>.*?)）</p>', re.S)
"""Eastmoney's credit line at the end of a body: the media an article came from."""


def strip_tags(fragment: str, replacement: str = "") -> str:
    """``fragment`` without its tags (entities left as they are)."""
    return TAGS.sub(replacement, fragment or "")


def letters(text: str) -> str:
    """``text`` without its white space: two versions of one text compare equal however
    their lines and spaces were laid out."""
    return "".join(text.split())


def says_the_same(digest: str, body: str) -> bool:
    """Whether a body (plain text) already says what its digest says (issue #12): a flash's
    digest is its text, or its start, or the same lead edited a little later (财联社 briefs
    differ from their content by a word) — printing both showed the same text twice.
    Only the body's start is read."""
    wanted = letters(digest).removesuffix("…").removesuffix("...")
    if not wanted:
        return False
    start = letters(body[: len(digest) * 3 + 200])
    return wanted in start[: len(wanted) * 2] or start.startswith(wanted[:24])


_NOT_WORDS = re.compile(r"[\s\W_]+")
_LEADING_HEADLINE = re.compile(r"^\s*【[^】]{0,120}】")
SHARED_PAIRS = 1 / 3
"""The share of a digest's character pairs found in its body from which the digest is a
version of the body's text, not a text of its own (:func:`adds_to`)."""


def _pairs(text: str) -> set[str]:
    letters = _NOT_WORDS.sub("", _LEADING_HEADLINE.sub("", text))
    return {letters[i : i + 2] for i in range(len(letters) - 1)}


def adds_to(digest: str, body: str) -> bool:
    """Whether a digest is a text of its own beside its body (plain text), not a version
    of the body's text (issue #12).

    财联社 keeps a flash's first wording as its ``brief`` and edits the ``content`` later
    (a figure updated, a clause added, the sentence reworded or shortened): the brief is
    then not the body's start, yet printing it above the body shows the text twice — the
    body is the later edit.  A digest is its own text when fewer than a third of its
    character pairs (its 【headline】, punctuation and spaces left out) are in the body's
    start; a rewording shares most of them (the 20,000 flashes of bench/site_build.py:
    1,081 briefs are not their content's start, 5 of them share under a third).  Only the
    body's start is read: a long article's summary drawn from its whole length stays."""
    wanted = _pairs(digest)
    if not wanted:
        return False
    found = _pairs(body[: len(digest) * 3 + 200])
    return len(wanted & found) < len(wanted) * SHARED_PAIRS


def body_text(body_html: str) -> str:
    """An article body as text: chart blocks and tags replaced by spaces, entities decoded."""
    return html.unescape(TAGS.sub(" ", CHART_BLOCK.sub(" ", body_html)))


def em_credit(body_html: str) -> str | None:
    """The media named by Eastmoney's credit line in ``body_html`` (tags taken out), or
    None when the body has no credit line."""
    credit = EM_CREDIT.search(body_html)
    return strip_tags(credit.group("media")).strip() if credit else None


def article_text(article: Article) -> str:
    """Digest and body as plain text (tags and chart blocks removed, entities decoded):
    what the search index, its snippets and the alerts read."""
    return f"{html.unescape(article.digest)}\n{body_text(article.body_html)}".strip()


def said_once_text(article: Article) -> str:
    """Digest and body as plain text, the digest left out when the body holds it word for
    word: what the search index reads (snippets leave out an earlier wording too:
    ``search.service``).  A flash's digest is its text (a 财联社
    telegraph's content since wave 8, an Eastmoney flash's summary): indexed beside the
    body, every word of it counted twice (BM25's frequency and length) and was segmented
    and written twice (issue #12's rule for snippets, now the index's too)."""
    body = body_text(article.body_html).strip()
    digest = letters(html.unescape(article.digest)).removesuffix("…").removesuffix("...")
    # only a digest the body holds word for word: one that starts like the body and goes on
    # to say something else keeps its words findable (a reader sees them in the stream)
    if body and digest and digest in letters(body):
        return body
    return article_text(article)


def shown_once_text(article: Article) -> str:
    """Digest and body as a reader reads them: the digest left out when the body says it
    (issue #12) — its text, its start, or an earlier wording of it (财联社's brief beside its
    edited content), as the article page decides (``site.article.repeats``).  What search
    snippets and the MCP server's ``get_article`` show (wave 10: ``get_article`` gave a
    flash's text twice, digest then body).  Unlike :func:`said_once_text` (the index's text)
    an earlier wording is left out too: its words need to stay findable, not be read twice."""
    body = body_text(article.body_html).strip()
    digest = html.unescape(article.digest)
    if body and (says_the_same(digest, body) or not adds_to(digest, body)):
        return body
    return article_text(article)


def titled_text(article: Article) -> str:
    """Title, digest and body as text (chart blocks and tags removed, entities decoded):
    what stock tagging reads."""
    head = html.unescape(f"{article.title}\n{article.digest}")
    return f"{head}\n{body_text(article.body_html)}"


RUN = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.,%")
"""The characters of a number or a Latin word: a cut never falls inside a run of them."""
MAX_RUN = 16
"""A run of digits and letters longer than this (a URL, a long code) is cut where it is."""


def edge(text: str, at: int, *, forward: bool, limit: int) -> int:
    """``at`` moved off the inside of a run of digits and Latin letters: forward past it (a
    window's start) or back to its start (a window's end), not beyond ``limit``.  Search's
    snippets (wave 9: "比亚迪2002…", "概率为0.…") and the pushes' texts (wave 10: "比重为3"
    for 38.1%) cut through it."""
    if not (text[at - 1] in RUN and text[at] in RUN):
        return at
    moved = at
    if forward:
        while moved < len(text) and text[moved] in RUN and moved - at < MAX_RUN:
            moved += 1
        return moved if moved - at < MAX_RUN and moved <= limit else at
    while moved > 0 and text[moved - 1] in RUN and at - moved < MAX_RUN:
        moved -= 1
    return moved if at - moved < MAX_RUN and moved >= limit else at


SENTENCE_ENDS = "。！？；!?;"
"""Where a shortened text may end whole: a full stop, a question or exclamation mark, a
semicolon (an ASCII full stop is left out: it is a decimal point as often)."""
SENTENCE_SLACK = 0.6
"""A sentence end counts as near the limit when it keeps at least this share of it."""


def shortened(text: str, limit: int, ellipsis: str = "…") -> str:
    """``text`` in at most ``limit`` characters (the ellipsis included) for a reader who
    cannot open the rest in place — a bot message (wave 10, #14).  Whole when it fits;
    else cut after the last sentence end that keeps :data:`SENTENCE_SLACK` of the limit
    (nothing is left out of a sentence), else at a boundary that never splits a number or
    a Latin word (:func:`edge`), and ended with "…" — a cut "38.1%" once read "3"."""
    text = text.strip()
    if len(text) <= limit:
        return text
    room = max(1, limit - len(ellipsis))
    ends = [
        i for i in range(room - 1, int(room * SENTENCE_SLACK) - 1, -1) if text[i] in SENTENCE_ENDS
    ]
    if ends:
        return text[: ends[0] + 1] + ellipsis
    at = edge(text, room, forward=False, limit=1)
    return text[:at].rstrip(" ，,、：:") + ellipsis
