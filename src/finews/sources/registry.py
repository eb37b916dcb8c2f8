"""The known sources, built from the settings."""

from __future__ import annotations

from collections.abc import Callable

from finews.config import Settings
from finews.errors import ConfigError
from finews.sources.base import Source
from finews.sources.eastmoney import COLUMN_SOURCE, FAST_SOURCE, EastmoneyColumns, EastmoneyFast


def known_sources() -> tuple[str, ...]:
    return (FAST_SOURCE, COLUMN_SOURCE)


def build_sources(settings: Settings, keys: tuple[str, ...] | list[str] = ()) -> list[Source]:
    """The sources named by ``keys`` (the enabled ones when empty), configured."""
    wanted = list(keys) or list(settings.sources.enabled)
    em = settings.eastmoney
    common = {
        "list_base": em.list_base,
        "article_base": em.article_base,
        "page_base": em.page_base,
        "page_size": em.page_size,
    }

    def fast() -> Source:
        return EastmoneyFast(columns=em.fast_columns, **common)  # type: ignore[arg-type]

    def column() -> Source:
        return EastmoneyColumns(columns=em.news_columns, **common)  # type: ignore[arg-type]

    factories: dict[str, Callable[[], Source]] = {FAST_SOURCE: fast, COLUMN_SOURCE: column}
    unknown = [k for k in wanted if k not in factories]
    if unknown:
        raise ConfigError(
            f"unknown source(s) {', '.join(unknown)}; known: {', '.join(known_sources())}"
        )
    return [factories[k]() for k in dict.fromkeys(wanted)]
