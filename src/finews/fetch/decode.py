"""Decoding upstream bodies into JSON, with the documented failure shapes named.

Contains no business logic.
"""

from __future__ import annotations

import json
import re
from typing import Any

from finews.errors import UpstreamFormatError
from finews.fetch.http import Response, short_url

_JSONP = re.compile(r"^\s*[\w$.]+\s*\(", re.S)
_TRY_CATCH = re.compile(
    r"^\s*try\s*\{(?P<inner>.*)\}\s*catch\s*\(\s*\w*\s*\)\s*\{\s*\}\s*;?\s*$", re.S
)


def unwrap_jsonp(text: str) -> str:
    """Strip a JSONP wrapper (``cb({...})`` or ``try{cb({...});}catch(e){};``).

    From the first ``(`` to the last ``)``, as the upstream notes say; a
    prefix strip would remove characters, not the prefix.
    """
    wrapped = _TRY_CATCH.match(text)
    if wrapped:
        text = wrapped.group("inner")
    if not _JSONP.match(text):
        return text
    start, end = text.find("("), text.rfind(")")
    if start < 0 or end <= start:
        return text
    return text[start + 1 : end]


def decode_text(body: bytes) -> str:
    """UTF-8 as documented; GBK served as UTF-8 is recognised; otherwise the
    undecodable bytes become U+FFFD so that what can be recovered is.

    A body cut inside a multi-byte character (a truncated response) is UTF-8
    with a broken end, not GBK.
    """
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        truncated = exc.reason == "unexpected end of data" and exc.start >= len(body) - 3
        if not truncated:
            try:
                return body.decode("gb18030")
            except UnicodeDecodeError:
                pass
        return body.decode("utf-8-sig", errors="replace")


def decode_json(response: Response, source: str = "") -> Any:
    """The body as JSON, or an :class:`UpstreamFormatError` that says what came instead."""
    body = response.content
    if not body.strip():
        raise UpstreamFormatError(f"empty body from {short_url(response.url)} (blocked?)", source)
    text = decode_text(body)
    stripped = text.lstrip()
    if stripped.startswith("<"):
        kind = response.content_type or "markup"
        raise UpstreamFormatError(
            f"HTML ({kind}) where JSON was expected from {short_url(response.url)}", source
        )
    try:
        return json.loads(unwrap_jsonp(text))
    except json.JSONDecodeError as exc:
        raise UpstreamFormatError(
            f"malformed JSON from {short_url(response.url)} "
            f"({exc.msg} at {exc.pos} of {len(text)} characters)",
            source,
        ) from None
