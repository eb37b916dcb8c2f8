"""What a reader's filters mean, the same on every face of search (wave 9).

The command line turned a stock's name into its code (``--stock 宁德时代``) and the search
page said names work ("股票请写代码（600519）或名称（贵州茅台）"), but the page, the JSON API
and the search feeds handed the name to the store, which matched it against codes: 0
results, and the page then blamed the words.  Likewise ``source=财联社`` (an outlet, where
sources are upstream ids such as ``cls.telegraph``) silently found nothing.  Every face now
resolves its filters here first:

- a stock given by name (or alias) becomes its code; a name that is no stock is an
  :class:`UnknownStock` error with the nearest names; anything code-like (``600519``,
  ``sh600519``, ``00700.HK``, ``NVDA.US``) goes to the store as before, which knows codes no
  list has;
- a ``source`` written in Chinese is an outlet: it filters ``media``.
"""

from __future__ import annotations

import dataclasses
import re
from functools import lru_cache
from pathlib import Path

from finews.errors import RequestError
from finews.process.stockcodes import a_share_exchange, from_prefixed, from_suffixed
from finews.process.stocks import (
    StockDirectory,
    load_directory,
    normalise_name,
    resolve_stock,
    similar_stocks,
)
from finews.store.fulltext import Filters

_CODE_LIKE = re.compile(r"[A-Za-z]{0,2}\d[\w.]*|[\w]+\.[A-Za-z]{1,3}", re.ASCII)


class UnknownStock(RequestError):
    """A stock filter names no stock this installation knows."""

    def __init__(self, given: str, near: list[str]) -> None:
        hint = f"did you mean {', '.join(near)}?" if near else "a code like 600519, or a name"
        super().__init__(f"unknown stock {given!r} ({hint})")
        self.given = given
        self.near = near


def _directory(stock_list: Path | None) -> StockDirectory:
    """The stock list (a user's newer one when installed), read again only when the file
    changes (``finews stocks --refresh`` while ``serve`` is up)."""
    try:
        stamp = stock_list.stat().st_mtime_ns if stock_list else 0
    except OSError:
        stamp = 0
    return _read_directory(str(stock_list or ""), stamp)


@lru_cache(maxsize=4)
def _read_directory(stock_list: str, _stamp: int) -> StockDirectory:
    return load_directory(Path(stock_list) if stock_list else None)


def stock_filter(stock: str, stock_list: Path | None = None) -> str:
    """The stock a filter means, as the store matches it: a code.  ``stock_list``: the
    installed list (``<data_dir>/a_shares.csv``) when there is one."""
    given = stock.strip()
    if not given or _CODE_LIKE.fullmatch(given):
        return given
    directory = _directory(stock_list)
    code = known_code(given, directory)
    if code is not None:
        return code
    if given.isascii():
        return given  # a ticker or code the lists do not know: the store may
    raise UnknownStock(given, similar_stocks(given, directory.display))


def watched_stock(stock: str, stock_list: Path | None = None) -> str:
    """The code of a stock a watchlist names (``alerts.stocks``, ``subscribers.NAME.stocks``;
    wave 10), stricter than a search filter: a watchlist never reports what it missed, so a
    name is its code (贵州茅台 → 600519.SH) and what is no stock at all (``6005199``, a
    misspelt name) is :class:`UnknownStock` — where a search lets the store try it.  A
    well-formed code that no list has (a new listing, 00700.HK, NVDA.US) is kept."""
    given = stock.strip()
    code = from_prefixed(given) or from_suffixed(given)
    if code is None and given.isdigit() and len(given) == 6:
        exchange = a_share_exchange(given)
        code = f"{given}.{exchange}" if exchange else None
    if code is not None:  # code-shaped: no need to read the lists
        return code
    directory = _directory(stock_list)
    code = known_code(given, directory) if given else None
    if code is not None:
        return code
    near = similar_stocks(given, directory.display)
    if not near and not given.isascii() and len(given) >= 3:  # 贵州茅苔: the names of 贵州…
        near = similar_stocks(given[:2], directory.display, limit=3)
    raise UnknownStock(given, near)


def known_code(given: str, directory: StockDirectory) -> str | None:
    """The code of a stock a reader names (600519, sh600519, 贵州茅台, 英伟达), or None.  A Hong
    Kong or US security by its exact name too (英伟达, 腾讯控股): the securities master names
    them for display, not among the A-shares' names and aliases (wave 9's review)."""
    code = resolve_stock(given, directory.names, directory.display)
    if code is not None:
        return code
    wanted = normalise_name(given.strip())
    exact = [c for c, name in directory.display.items() if normalise_name(name) == wanted]
    return exact[0] if len(exact) == 1 else None


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
