"""What a reader's filters mean, the same on every face of search (wave 9).

The command line turned a stock's name into its code (``--stock 宁德时代``) and the search
page said names work ("股票请写代码（600519）或名称（贵州茅台）"), but the page, the JSON API
and the search feeds handed the name to the store, which matched it against codes: 0
results, and the page then blamed the words.  Likewise ``source=财联社`` (an outlet, where
sources are upstream ids such as ``cls.telegraph``) silently found nothing.  Every face now
resolves its filters here first:

- a stock given by name (or alias) becomes its code; a name that is no stock is an
  :class:`UnknownStock` error with the nearest names; a typed code is read one way
  (:func:`~finews.process.stockcodes.typed_code`, wave 10: ``sz600519`` → 600519.SH,
  ``00700`` → 00700.HK, full-width digits) and goes to the store, which knows codes no
  list has; the command line and the MCP tools, which have the store at hand, refuse a
  code neither the list nor a stored tag knows (:func:`stock_code`);
- the MCP tools also refuse an unknown source or outlet and a backwards period
  (:func:`checked`), and say where the store's news ends when a period is empty
  (:func:`where_news_ends`);
- a ``source`` written in Chinese is an outlet: it filters ``media``.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import unicodedata
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING

from finews.errors import RequestError
from finews.model import from_epoch
from finews.process.stockcodes import typed_code
from finews.process.stocks import (
    StockDirectory,
    load_directory,
    normalise_name,
    resolve_stock,
    similar_stocks,
)
from finews.store.fulltext import Filters

if TYPE_CHECKING:
    from finews.store import Store

_CODE_LIKE = re.compile(r"[A-Za-z]{0,2}\d[\w.]*|[\w]+\.[A-Za-z]{1,3}", re.ASCII)


class UnknownStock(RequestError):
    """A stock filter names no stock this installation knows."""

    def __init__(self, given: str, near: list[str]) -> None:
        hint = f"did you mean {', '.join(near)}?" if near else "a code like 600519, or a name"
        super().__init__(f"unknown stock {given!r} ({hint})")
        self.given = given
        self.near = near


class UnknownFilter(RequestError):
    """A source or outlet filter that names none the store can have (:func:`checked`)."""

    def __init__(self, kind: str, given: str, near: list[str], message: str) -> None:
        super().__init__(message)
        self.kind = kind
        """``source`` or ``media``"""
        self.given = given
        self.near = near


def known_filters(filters: Filters, store: Store) -> Filters:
    """``filters`` (resolved) when the source and outlet they name are ones the store can
    have, else :class:`UnknownFilter` — for the faces that have no settings at hand (the
    JSON API and the search page answered ``source=foo`` with 0 results where the command
    line said it is unknown: a trader's walk, wave 15)."""
    from finews.sources.registry import known_sources

    source_held = not filters.source or filters.source in known_sources()
    if not source_held:
        source_held = bool(store.list_articles(Filters(source=filters.source), limit=1))
    media_held = not filters.media or bool(
        store.list_articles(Filters(media=filters.media), limit=1)
    )
    if source_held and media_held:
        # one indexed look-up each (the review of wave 15: every API poll with a media filter
        # read the distinct sources and outlets of the whole store)
        return filters
    return checked(filters, sources=filter_sources(store, ()), media=store.media())


def stock_filter(stock: str, stock_list: Path | None = None) -> str:
    """The stock a filter means, as the store matches it: a code.  ``stock_list``: the
    installed list (``<data_dir>/a_shares.csv``) when there is one.  A typed code is read
    as everywhere (:func:`typed_code`: ``sz600519`` → 600519.SH) and goes to the store
    even when no list has it (the store knows delisted codes)."""
    given = unicodedata.normalize("NFKC", stock).strip()
    code = typed_code(given)
    if code is not None:
        return code
    if not given:
        return given
    directory = load_directory(stock_list)
    if _CODE_LIKE.fullmatch(given):
        return known_code(given, directory) or given
    code = known_code(given, directory)
    if code is not None:
        return code
    if len(alias_codes(given, directory)) > 1:  # CATL: its A and its H share (review, wave 15)
        raise UnknownStock(given, _similar_names(given, directory))
    if given.isascii():
        return given  # a ticker or code the lists do not know: the store may
    raise UnknownStock(given, _similar_names(given, directory))


def watched_stock(stock: str, stock_list: Path | None = None) -> str:
    """The code of a stock a watchlist names (``alerts.stocks``, ``subscribers.NAME.stocks``;
    wave 10), stricter than a search filter: a watchlist never reports what it missed, so a
    name is its code (贵州茅台 → 600519.SH) and what is no stock at all (``6005199``, a
    misspelt name) is :class:`UnknownStock` — where a search lets the store try it.  A
    well-formed code that no list has (a new listing, 00700.HK, NVDA.US) is kept."""
    given = stock.strip()
    code = typed_code(given)
    if code is not None:  # code-shaped: no need to read the lists
        return code
    directory = load_directory(stock_list)
    code = known_code(given, directory) if given else None
    if code is not None:
        return code
    raise UnknownStock(given, _similar_names(given, directory))


def known_code(given: str, directory: StockDirectory) -> str | None:
    """The code of a stock a reader names (600519, sh600519, 贵州茅台, 英伟达), or None.  A Hong
    Kong or US security by its exact name too (英伟达, 腾讯控股): the securities master names
    them for display, not among the A-shares' names and aliases (wave 9's review).  A typed
    code is read by :func:`typed_code`, whether or not the list has it."""
    code = typed_code(given)
    if code is not None:
        return code
    digits = unicodedata.normalize("NFKC", given).strip()
    if _ascii_digits(digits) and len(digits) < 5 and f"{int(digits):05d}.HK" in directory.display:
        return f"{int(digits):05d}.HK"  # 700, 9988: a Hong Kong code as traders say it
    code = resolve_stock(given, directory.names, directory.display)
    if code is not None:
        return code
    ticker = given.strip().upper()
    if ticker.isascii() and ticker.isalpha() and f"{ticker}.US" in directory.display:
        return f"{ticker}.US"  # NVDA: a US ticker as the news and `search` write it
    wanted = normalise_name(given.strip())
    exact = [c for c, name in directory.display.items() if normalise_name(name) == wanted]
    if len(exact) == 1:
        return exact[0]
    named = alias_codes(given, directory)
    return named[0] if len(named) == 1 else None


def alias_codes(given: str, directory: StockDirectory) -> list[str]:
    """The listed codes a company's other name means — 腾讯 and Tencent 00700.HK, 茅台
    600519.SH, Tesla TSLA.US (a trader's walk, wave 15: a query found 腾讯 and the filter
    refused it) — or several, for the reader to choose: the name is an other name of more
    than one listing (CATL: 300750.SZ and 03750.HK), or other listings' names begin with it
    (万科: 万科A 000002.SZ beside the alias table's 万科企业 02202.HK; 通用: 通用股份 601500.SH
    beside GM.US — the review of wave 15).  Only names of companies and institutions in
    search's alias table count, not its vocabulary."""
    from finews.search.aliases import fold
    from finews.search.segment import query_aliases  # the alias table: search's own

    key = normalise_name(given.strip())
    table = query_aliases()
    if not key or fold(key) not in table.names:
        return []
    found: list[str] = []
    for other in table.expand(key):
        code = typed_code(other) if not other.isalpha() else None
        if code is not None and code in directory.display and code not in found:
            found.append(code)
    if found:
        for code, name in directory.display.items():
            full = normalise_name(name)
            if full.startswith(key) and _another_listing(full[len(key) :]) and code not in found:
                found.append(code)
    return found


def _another_listing(rest: str) -> bool:
    """Whether a listed name that begins with a reader's name (万科) and goes on with
    ``rest`` is that name's listing too: a share class (万科A, -W) or a company word (通用股份)
    — not another company (腾讯音乐 is not 腾讯)."""
    return rest.upper() in {"A", "B", "H"} or rest.startswith("-") or rest in _COMPANY_WORDS


_COMPANY_WORDS = frozenset({"股份", "集团", "控股", "企业"})


def stock_code(
    given: str, directory: StockDirectory, tagged: Callable[[str], bool] | None = None
) -> str:
    """The code of the stock a user names, or :class:`UnknownStock` with the nearest ones:
    what ``finews stocks``, ``search --stock`` and the MCP tools resolve (wave 10: one
    resolver).  A code is known when the stock list has it, or when ``tagged(code)`` says
    the store has articles tagged with it (a delisted stock, a code no list has); a code
    neither knows is an error naming the nearest listed codes (``920000`` → 920001.BJ …),
    never an empty timeline under a code that is nobody's."""
    code = known_code(given, directory)
    typed = typed_code(given)
    if code is not None and (
        typed is None or code in directory.display or (tagged is not None and tagged(code))
    ):
        return code
    if typed is not None:
        raise UnknownStock(given.strip(), nearest_codes(typed, directory.display))
    if _ascii_digits(given.strip()):  # digits that are no code of any market (999999)
        raise UnknownStock(given.strip(), nearest_codes(given.strip(), directory.display))
    raise UnknownStock(given.strip(), _similar_names(given.strip(), directory))


def _similar_names(given: str, directory: StockDirectory) -> list[str]:
    """Stocks named like ``given``: first the listings an other name of a company means
    (CATL: its A and H shares), then names spelt like it."""
    listings = alias_codes(given, directory)
    if listings:
        return [f"{directory.display[c]} {c}" for c in listings]
    return _spelt_like(given, directory)


def _spelt_like(given: str, directory: StockDirectory) -> list[str]:
    """Stocks named like ``given``; for a misspelt Chinese name (贵州茅苔), those sharing its
    first two characters (the names of 贵州…)."""
    near = similar_stocks(given, directory.display)
    if not near and not given.isascii() and len(given) >= 3:
        # nearest first: 贵州茅台 (one character off) before 贵州轮胎 (two; wave 13's walk)
        sharing = similar_stocks(given[:2], directory.display, limit=1000)
        typed = normalise_name(given)

        def likeness(entry: str) -> float:
            name = normalise_name(entry.rsplit(" ", 1)[0])
            return difflib.SequenceMatcher(None, typed, name).ratio()

        near = sorted(sharing, key=lambda e: -likeness(e))[:3]
    return near


def nearest_codes(code: str, display: dict[str, str], limit: int = 3) -> list[str]:
    """Listed stocks whose code is nearest a code nobody has (a digit mistyped), same
    market first: 600518 → 贵州茅台 600519.SH."""
    digits, _, market = code.partition(".")
    if not _ascii_digits(digits):  # "²" is a digit to str.isdigit, not to int()
        return similar_stocks(digits, display, limit)
    # fewest digits changed, dropped or added first (60051, a 600519 short of a digit, read
    # as a Hong Kong code, had suggested 吉利汽车-R 80175.HK: wave 11's walk), then the
    # same market, then the nearest number
    ranked = sorted(
        (c for c in display if _ascii_digits(c.partition(".")[0])),
        key=lambda c: (
            _edits(c.partition(".")[0], digits),
            c.partition(".")[2] != market,
            # a digit short or too many at the end: 60051 → 60051x, 6005190 → 600519
            not (c.startswith(digits) or digits.startswith(c.partition(".")[0])),
            abs(int(c.partition(".")[0]) - int(digits)),
        ),
    )
    return [f"{display[c]} {c}" for c in ranked[:limit]]


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _edits(a: str, b: str) -> int:
    """Levenshtein distance of two short strings (codes: six digits at most)."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def resolve(filters: Filters, stock_list: Path | None = None) -> Filters:
    """``filters`` as the store reads them (see the module's docstring)."""
    if filters.stock:
        filters = dataclasses.replace(
            filters, stock=stock_filter(filters.stock, stock_list) or None
        )
    if filters.source and not filters.source.isascii():
        if filters.media and filters.media != filters.source:
            raise RequestError(
                f"source {filters.source!r} is an outlet (a media) and media is "
                f"{filters.media!r}: give one (sources are ids such as cls.telegraph)"
            )
        filters = dataclasses.replace(filters, source=None, media=filters.source)
    return filters


def checked(filters: Filters, *, sources: Collection[str], media: Collection[str]) -> Filters:
    """``filters`` (resolved) when each names something the store can have: an unknown
    source id, an outlet the store has no article of, or a period that ends before it
    starts is a :class:`RequestError` saying what is known — not an empty answer that
    blames nothing (wave 10: the MCP tools answered ``source: bloomberg`` with no items and
    no note).  ``sources``: the ids of the sources (built in, configured, the user's feeds,
    stored); ``media``: the store's outlets."""
    if filters.source and filters.source not in sources:
        raise UnknownFilter(
            "source",
            filters.source,
            [],
            f"unknown source {filters.source!r} (sources are ids: {', '.join(sorted(sources))};"
            " an outlet such as 财联社 is a media)",
        )
    if filters.media and filters.media not in media:
        near = nearest_media(filters.media, media)
        hint = (
            f"did you mean {', '.join(near)}?"
            if near
            else "outlets here: "
            + ", ".join(sorted(media)[:10])
            + (" …" if len(media) > 10 else "")
        )
        raise UnknownFilter(
            "media", filters.media, near, f"unknown media {filters.media!r} ({hint})"
        )
    if filters.since is not None and filters.until is not None and filters.since >= filters.until:
        raise RequestError(
            f"since {_minute(filters.since)} is not before until {_minute(filters.until)}"
            " (Beijing time): an empty period"
        )
    return filters


def filter_sources(store: Store, enabled: Collection[str]) -> set[str]:
    """The source ids a filter may name, for :func:`checked`: the built-in sources, the
    ones the settings enable, the user's feeds and whatever the store holds (an import's
    ``jekyll``, a source since removed).  One list for the command line and the MCP tools
    (the wave 10 review found two copies of it)."""
    from finews.sources.registry import known_sources
    from finews.store import feedlist

    return {
        *known_sources(),
        *enabled,
        *(f.key for f in feedlist.listed(store)),
        *store.sources(),
    }


def nearest_media(given: str, media: Collection[str], limit: int = 5) -> list[str]:
    """Outlets that contain (or are contained in) what was typed, else look like it."""
    typed = normalise_name(given)
    within = sorted(m for m in media if typed in normalise_name(m) or normalise_name(m) in typed)
    alike = difflib.get_close_matches(given, list(media), n=limit, cutoff=0.5)
    return list(dict.fromkeys([*within, *alike]))[:limit]


def _minute(epoch: int) -> str:
    try:
        return from_epoch(epoch).strftime("%Y-%m-%d %H:%M")
    except ValueError:  # a time no clock gives (year 9999): said as it was computed
        return str(epoch)


def where_news_ends(newest: int | None, option: str = "since") -> str:
    """Where a store's news ends, for an empty answer on a period (a store of older news:
    an import, a copy): ``the newest article is from 2026-08-18 00:17: try since
    "2026-08-17 00:17" (its last 24 hours) or a longer period`` — ``finews stories``' words,
    the MCP tools' notes (``option``: how the asker writes the period, ``--since`` or
    ``since``).  The day of the newest article was suggested until wave 13's walk: a store
    whose news ended just after midnight got a day of 6 articles."""
    if newest is None:
        return "the store holds no articles yet"
    day_before = _minute(newest - 24 * 3600)
    return (
        f'the newest article is from {_minute(newest)}: try {option} "{day_before}"'
        " (its last 24 hours) or a longer period"
    )


TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})


def flag(value: str | None) -> bool | None:
    """A yes/no query parameter as the API reads one (``important=true``, ``=0`` …): the
    page and the feeds took only 1 and true, and ignored false (wave 9's review)."""
    text = (value or "").strip().lower()
    return True if text in TRUE else False if text in FALSE else None


def described(filters: Filters) -> list[str]:
    """The filters in force, in the page's words (for an empty result's advice)."""
    said = []
    if filters.stock:
        said.append(f"股票 {filters.stock}")
    if filters.source:
        said.append(f"来源 {filters.source}")
    if filters.media:
        said.append(f"媒体 {filters.media}")
    if filters.since is not None or filters.until is not None:
        said.append("时间")
    if filters.important:
        said.append("只看重要消息")
    return said
