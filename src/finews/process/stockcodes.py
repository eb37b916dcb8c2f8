"""Upstream stock identifiers → one normalised form (``600519.SH``).

Pure functions; each returns ``None`` for something that is not a stock we
can name (a sector board ``90.BK0800``, a fund, an unknown market), and the
raw payload keeps the original either way.
"""

from __future__ import annotations

import re
import unicodedata

_A_SHARE = re.compile(r"^\d{6}$")
_HK = re.compile(r"^\d{4,5}$")
_US = re.compile(r"^[A-Z][A-Z0-9.\-]{0,9}$")


def a_share_exchange(code: str) -> str | None:
    """SH, SZ or BJ for a six-digit A-share code, by its prefix."""
    if not _A_SHARE.match(code):
        return None
    if code.startswith(("60", "68", "90")):
        return "SH"
    if code.startswith(("00", "30", "20")):
        return "SZ"
    if code.startswith(("43", "83", "87", "88", "92", "4", "8")):
        return "BJ"
    return None


def from_eastmoney(value: str) -> str | None:
    """Eastmoney ``<marketId>.<code>``: 1 SH, 0 SZ/BJ, 116 HK, 105/106/107 US; a fund or a
    bond on 1 or 0 is None."""
    market, sep, code = value.strip().partition(".")
    if not sep or not code:
        return None
    if market in {"0", "1"} and _A_SHARE.match(code):
        exchange = a_share_exchange(code)
        if market == "1":
            normalised = f"{code}.SH"
        else:
            normalised = f"{code}.{exchange if exchange == 'BJ' else 'SZ'}"
        return normalised if is_share_code(normalised) else None
    if market in {"116", "128"} and _HK.match(code):
        return f"{code.zfill(5)}.HK"
    if market in {"105", "106", "107"} and _US.match(code.upper()):
        return f"{code.upper()}.US"
    return None


def is_share_code(code: str) -> bool:
    """Whether a normalised code names a share (or an index: 上证指数 000001.SH, 创业板指 399006.SZ)
    rather than a fund (ETF/LOF 15…, 16…, 5…) or a convertible bond (11…, 12…).  Eastmoney
    attaches those to flashes by theme, with no name anywhere: 0.161631, an AI fund, on 353
    flashes of the corpus; 2,804 of its 7,833 Shanghai/Shenzhen tags.  Codes of other
    markets are True."""
    digits, _, market = code.partition(".")
    if market not in {"SH", "SZ", "BJ"}:
        return True
    exchange = a_share_exchange(digits)
    # an index: Shanghai's 000… (上证指数 000001.SH), Shenzhen's 399… (深证成指 399001.SZ)
    index = (market == "SH" and digits.startswith("000")) or (
        market == "SZ" and digits.startswith("399")
    )
    return exchange == market or index


def from_prefixed(value: str) -> str | None:
    """``sh600519`` / ``SZ000001`` / ``bj430047`` (财联社, Sina ``cn``)."""
    text = value.strip().lower()
    match = re.fullmatch(r"(sh|sz|bj)(\d{6})", text)
    if match:
        return f"{match.group(2)}.{match.group(1).upper()}"
    match = re.fullmatch(r"hk(\d{4,5})", text)
    if match:
        return f"{match.group(1).zfill(5)}.HK"
    return None


def from_sina(market: str, symbol: str) -> str | None:
    """Sina ``ext.stocks`` entries: ``cn``/``sh600030``, ``hk``/``06030``, ``us``/``jpm``."""
    market = market.strip().lower()
    if market == "cn":
        return from_prefixed(symbol)
    if market == "hk" and _HK.match(symbol.strip()):
        return f"{symbol.strip().zfill(5)}.HK"
    if market == "us" and _US.match(symbol.strip().upper()):
        return f"{symbol.strip().upper()}.US"
    return None


def from_eastmoney_marker(value: str) -> str | None:
    """Inline markers in Eastmoney HTML: ``600928|1|1`` (chart) or ``106,NIO`` (keytip)."""
    if "|" in value:
        code, _, rest = value.partition("|")
        market = rest.split("|")[0]
        return from_eastmoney(f"{market}.{code}")
    if "," in value:
        market, _, code = value.partition(",")
        return from_eastmoney(f"{market}.{code}")
    return None


_SUFFIXES = {
    "SS": "SH",
    "SH": "SH",
    "SZ": "SZ",
    "BJ": "BJ",
    "HK": "HK",
    "O": "US",
    "OQ": "US",
    "N": "US",
    "A": "US",
    "US": "US",
}


def from_suffixed(value: str) -> str | None:
    """Suffixed tickers (华尔街见闻 ``symbols``: ``600519.SS``, ``00700.HK``, ``AAPL.O``).
    The element shape is not confirmed (upstream-apis.md §6.2): anything else is None."""
    code, sep, suffix = value.strip().upper().rpartition(".")
    market = _SUFFIXES.get(suffix) if sep else None
    if market in {"SH", "SZ", "BJ"} and _A_SHARE.match(code):
        return f"{code}.{a_share_exchange(code) or market}"
    if market == "HK" and _HK.match(code):
        return f"{code.zfill(5)}.HK"
    if market == "US" and _US.match(code):
        return f"{code}.US"
    return None


_TYPED_PREFIX = re.compile(r"(SH|SZ|BJ|HK)(\d{1,6})")
_TYPED_SUFFIX = re.compile(r"(\d{1,6})\.(SH|SS|SZ|BJ|HK)")


def typed_code(value: str) -> str | None:
    """A stock code as a reader types it → the normalised code, or None when it is no
    code: ``600519``, ``sh600519``, ``600519.SH``, ``６００５１９`` → ``600519.SH``;
    ``00700``, ``0700``, ``hk00700``, ``700.HK`` → ``00700.HK``; ``NVDA.US``, ``AAPL.O``.

    The one reading of a typed code (wave 10: ``finews stocks sz600519`` gave 600519.SZ,
    ``600519.SZ`` was unknown, ``00700`` unknown while ``00700.HK`` worked).  Full-width
    characters are folded (NFKC).  A six-digit A-share code's exchange is its prefix's —
    a contradicting one (``sz600519``: 600519 is a Shanghai code) is corrected, except
    ``SH`` with ``000…``: a Shanghai index (``sh000001`` is 上证指数, not 平安银行 000001.SZ);
    four or five digits are a Hong Kong code (A-shares have six), fewer with ``HK``.
    Whether the stock exists is the caller's question (the stock list, the store)."""
    text = unicodedata.normalize("NFKC", value).strip().upper().replace(" ", "")
    match = _TYPED_PREFIX.fullmatch(text) or _TYPED_SUFFIX.fullmatch(text)
    if match:
        parts = match.groups()
        digits, market = (parts[1], parts[0]) if parts[0].isalpha() else parts
    elif text.isdigit():
        digits, market = text, ""
    else:
        return from_suffixed(text) if "." in text else None
    if len(digits) == 6 and market != "HK":
        market = _SUFFIXES.get(market, market)
        if market == "SH" and digits.startswith("000"):
            # a Shanghai index (上证指数 000001.SH, 沪深300 000300.SH), as the upstreams tag
            # them — not the Shenzhen share the bare digits would be (平安银行 000001.SZ)
            return f"{digits}.SH"
        exchange = a_share_exchange(digits)
        if exchange:
            return f"{digits}.{exchange}"
        return f"{digits}.{market}" if market in {"SH", "SZ", "BJ"} else None
    if (market == "HK" and len(digits) <= 5) or (market == "" and len(digits) in {4, 5}):
        return f"{digits.zfill(5)}.HK"
    return None
