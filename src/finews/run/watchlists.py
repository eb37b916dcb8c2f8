"""The watchlists of the settings as matching reads them (wave 10, a new user's walk).

``[alerts]`` and each ``[subscribers.NAME]`` list stocks and (subscribers) sources.  A stock
given by name (``贵州茅台``) matched nothing — the articles are tagged with codes — and a
typo (``6005199``, ``sources = ["cls"]``) was accepted and matched nothing either: a
watchlist cannot say what it missed.  So every command resolves them once, right after the
settings are read (``finews.cli``): a name becomes its code with search's own rules
(:func:`finews.search.filters.watched_stock`), and an unknown stock or source is one
``error:`` line naming the setting, with the nearest names or the known source ids.

It lives here, not in :mod:`finews.config`, because it needs the stock lists and the
sources' ids, which the settings' layer may not import (docs/design.md, the map).  What it
needs is imported only when a watchlist names stocks or sources (start-up time).
"""

from __future__ import annotations

import difflib
from dataclasses import replace
from pathlib import Path

from finews.config import Settings
from finews.errors import ConfigError

FEED_PREFIX = "feed."
"""A user feed's source id is ``feed.KEY`` (``finews feeds``): any key is taken, since the
feeds live in the store, which the settings are read without."""


def source_ids() -> tuple[str, ...]:
    """The source ids a watchlist may name (beside ``feed.KEY``)."""
    # imported here: every command resolves the watchlists, few name sources or stocks
    from finews.jekyll import JEKYLL_SOURCE
    from finews.sources.registry import known_sources

    return (*known_sources(), JEKYLL_SOURCE)


def check_source(source: str, setting: str) -> str:
    """A source id of a watchlist, or one error naming the setting and the nearest ids."""
    given = source.strip()
    known = source_ids()
    if given in known or (given.startswith(FEED_PREFIX) and len(given) > len(FEED_PREFIX)):
        return given
    near = [k for k in known if k.startswith(given + ".")] if given else []
    near = near or difflib.get_close_matches(given, known, n=2, cutoff=0.6)
    hint = f"did you mean {' or '.join(near)}? " if near else ""
    raise ConfigError(
        f"{setting}: unknown source {source!r} ({hint}sources are {', '.join(known)} "
        f"and feed.KEY for your feeds)"
    )


def check_stocks(stocks: tuple[str, ...], setting: str, stock_list: Path | None) -> tuple[str, ...]:
    """Each stock as a code matching reads (a code already in the form matching takes,
    such as 600519, is kept as written)."""
    from finews.search.filters import UnknownStock, watched_stock
    from finews.store.fulltext import stock_codes

    found = []
    for stock in stocks:
        try:
            code = watched_stock(stock, stock_list)
        except UnknownStock as exc:
            # a listing newer than the packaged list is known by its code: say so (the
            # list that would know the name is installed by a command this error stops)
            raise ConfigError(
                f"{setting}: {exc}; a stock the list does not have yet is given by its code"
                " (kept as written)"
            ) from None
        found.append(stock.strip() if stock_codes(stock) == [code] else code)
    return tuple(found)


def resolve(settings: Settings, stock_list: Path | None = None) -> Settings:
    """``settings`` with every watchlist's stocks as codes and its sources checked (the
    stock lists are read only when a stock is given by name)."""
    alerts = settings.alerts
    if alerts.stocks:
        stocks = check_stocks(alerts.stocks, "alerts.stocks", stock_list)
        settings = replace(settings, alerts=replace(alerts, stocks=stocks))
    subscribers = dict(settings.subscribers)
    for name, sub in subscribers.items():
        where = f"subscribers.{name}"
        sources = tuple(check_source(s, f"{where}.sources") for s in sub.sources)
        stocks = check_stocks(sub.stocks, f"{where}.stocks", stock_list)
        subscribers[name] = replace(sub, sources=sources, stocks=stocks)
    if subscribers:
        settings = replace(settings, subscribers=subscribers)
    return settings
