"""The body a reader sees: upstream HTML through an allowlist sanitiser (nh3).

The raw upstream body stays in the store untouched.  The store keeps this
function's result beside it (``body_clean``), stamped with
:data:`CLEAN_REVISION`: a build publishes the stored result when the stamp is
current and runs the cleaner itself otherwise (rows written by an older
finews, until ``finews reprocess``).  Eastmoney specifics handled here: chart blocks between
``<!-- EM_StockImg_Start -->`` and ``<!-- EM_StockImg_End -->`` (dropped),
the trailing ``<p class="em_media">（文章来源：…）</p>`` (dropped; the media
is shown beside the article), the full-width paragraph indent ``　　``.
Output never contains script, event handlers, ``javascript:`` URLs, forms,
iframes or style attributes; links open in a new tab with
``rel="noopener noreferrer nofollow"``; images load lazily without a referrer
(Eastmoney's image hosts refuse foreign referrers).
"""

from __future__ import annotations

import functools
import html
import re
from urllib.parse import urljoin

import nh3

from finews.process.text import CHART_BLOCK

CLEAN_REVISION = 1
"""Raise with every change to what :func:`clean_body` returns: stored results stamped
with an older revision are not used (``tests/test_clean.py`` holds the output digest
of each revision and fails until this is raised)."""

ALLOWED_TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "s", "sub", "sup", "span", "blockquote", "pre",
    "code", "ul", "ol", "li", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption",
    "h2", "h3", "h4", "h5", "h6", "hr", "img", "a", "figure", "figcaption", "dl", "dt", "dd",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
DROP_WITH_CONTENT = {"script", "style", "iframe", "form", "object", "embed", "noscript", "template"}

_EM_MEDIA = re.compile(r'<p class="em_media">.*?</p>', re.S)
# Eastmoney marks its own inserts (ads, "主力资金加仓名单实时更新…") with a class on <p>;
# article paragraphs have none.
_BOILERPLATE = re.compile(r'<p\s+class="[^"]*"[^>]*>.*?</p>', re.S)
_INDENT = re.compile(r"(<p[^>]*>)(?:\s|　|&nbsp;|&#12288;)+")
_EMPTY_P = re.compile(r"<p>(?:\s|<br>)*</p>")
_HEADING = re.compile(r"<(/?)h1>")
_A_TAG = re.compile(r"<a ")
_IMG_TAG = re.compile(r"<img ")


_RELATIVE = re.compile(
    r'(?P<attr>\b(?:href|src))=(?P<q>["\'])(?P<url>(?!https?:|mailto:|#)[^"\']*)(?P=q)'
)


def absolute_urls(body: str, base: str) -> str:
    """Relative and protocol-relative links and images made absolute against ``base``."""
    if not base.startswith(("http://", "https://")):
        base = "https://finance.eastmoney.com/"

    def fix(match: re.Match[str]) -> str:
        url = match.group("url").strip()
        absolute = urljoin(base, url) if url else url
        return f'{match.group("attr")}="{html.escape(absolute, quote=True)}"'

    return _RELATIVE.sub(fix, body)


@functools.cache
def _sanitiser() -> nh3.Cleaner:
    """The allowlist, built once: ``nh3.clean`` with options builds it on every call,
    which is most of the cost of sanitising a short body."""
    return nh3.Cleaner(
        tags=ALLOWED_TAGS,
        clean_content_tags=DROP_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def clean_body(body: str, base_url: str = "") -> str:
    """Sanitised HTML for publishing; '' for a body with nothing left.

    ``base_url`` (the article's own URL) resolves relative links and images.
    """
    if not body:
        return ""
    text = CHART_BLOCK.sub("", body)
    text = absolute_urls(text, base_url)
    text = _EM_MEDIA.sub("", text)
    text = _BOILERPLATE.sub("", text)
    text = _HEADING.sub(r"<\1h2>", text)
    cleaned = _sanitiser().clean(text)
    # Added here rather than by nh3's set_tag_attribute_values, whose attribute order
    # changes from run to run (a hash map): pages must be byte-for-byte reproducible.
    cleaned = _A_TAG.sub('<a target="_blank" ', cleaned)
    cleaned = _IMG_TAG.sub(
        '<img loading="lazy" decoding="async" referrerpolicy="no-referrer" ', cleaned
    )
    cleaned = _INDENT.sub(r"\1", cleaned)
    return _EMPTY_P.sub("", cleaned).strip()


def text_to_html(text: str) -> str:
    """Plain text (a digest) as escaped paragraphs."""
    paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
    return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
