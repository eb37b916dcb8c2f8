"""Markup to plain text, done one way by every stage that needs words rather than HTML
(stock tagging, reprint signatures, the search index, titles from list items).

Not a sanitiser (that is :mod:`finews.process.clean`): these helpers only take tags out so
that text can be matched; their output is never put into a page as HTML.
"""

from __future__ import annotations

import html
import re

TAGS = re.compile(r"<[^>]+>")
CHART_BLOCK = re.compile(r"<!--\s*EM_StockImg_Start\s*-->.*?<!--\s*EM_StockImg_End\s*-->", re.S)
"""Eastmoney's quote-chart block: markup and numbers, no news."""


def strip_tags(fragment: str, replacement: str = "") -> str:
    """``fragment`` without its tags (entities left as they are)."""
    return TAGS.sub(replacement, fragment or "")


def _letters(text: str) -> str:
    return "".join(text.split())


def says_the_same(digest: str, body: str) -> bool:
    """Whether a body (plain text) already says what its digest says (issue #12): a flash's
    digest is its text, or its start, or the same lead edited a little later (财联社 briefs
    differ from their content by a word) — printing both showed the same text twice.
    Only the body's start is read."""
    wanted = _letters(digest).removesuffix("…").removesuffix("...")
    if not wanted:
        return False
    start = _letters(body[: len(digest) * 3 + 200])
    return wanted in start[: len(wanted) * 2] or start.startswith(wanted[:24])


def body_text(body_html: str) -> str:
    """An article body as text: chart blocks and tags replaced by spaces, entities decoded."""
    return html.unescape(TAGS.sub(" ", CHART_BLOCK.sub(" ", body_html)))
