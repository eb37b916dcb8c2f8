"""The known sources, built from the settings."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from finews.config import Settings
from finews.errors import ConfigError
from finews.model import UserFeed
from finews.sources.base import Source
from finews.sources.cls import CLS_SOURCE, ClsTelegraph
from finews.sources.eastmoney import COLUMN_SOURCE, FAST_SOURCE, EastmoneyColumns, EastmoneyFast
from finews.sources.feeds import FeedSource
from finews.sources.jin10 import JIN10_SOURCE, Jin10Flash
from finews.sources.sina import SINA_SOURCE, SinaZhibo
from finews.sources.ths import THS_SOURCE, ThsFlash
from finews.sources.wscn import WSCN_SOURCE, WscnLive

BUILTIN = (
    FAST_SOURCE,
    COLUMN_SOURCE,
    CLS_SOURCE,
    THS_SOURCE,
    SINA_SOURCE,
    WSCN_SOURCE,
    JIN10_SOURCE,
)


def known_sources() -> tuple[str, ...]:
    return BUILTIN


def factories(settings: Settings) -> dict[str, Callable[[], Source]]:
    em = settings.eastmoney
    common = {
        "list_base": em.list_base,
        "article_base": em.article_base,
        "page_base": em.page_base,
        "page_size": em.page_size,
    }
    c, t, s, w, j = settings.cls, settings.ths, settings.sina, settings.wscn, settings.jin10
    return {
        FAST_SOURCE: lambda: EastmoneyFast(columns=em.fast_columns, **common),  # type: ignore[arg-type]
        COLUMN_SOURCE: lambda: EastmoneyColumns(columns=em.news_columns, **common),  # type: ignore[arg-type]
        CLS_SOURCE: lambda: ClsTelegraph(
            base=c.base, app=c.app, sv=c.sv, category=c.category, page_size=c.page_size
        ),
        THS_SOURCE: lambda: ThsFlash(base=t.base, page_size=t.page_size),
        SINA_SOURCE: lambda: SinaZhibo(base=s.base, zhibo_id=s.zhibo_id, page_size=s.page_size),
        WSCN_SOURCE: lambda: WscnLive(base=w.base, channel=w.channel, page_size=w.page_size),
        JIN10_SOURCE: lambda: Jin10Flash(base=j.base, app_id=j.app_id, version=j.version),
    }


def build_sources(
    settings: Settings,
    keys: tuple[str, ...] | list[str] = (),
    feeds: Sequence[UserFeed] = (),
) -> list[Source]:
    """The sources named by ``keys`` — by default the enabled ones and (unless
    ``sources.feeds`` is off) the user's enabled feeds — configured."""
    made = factories(settings)
    for feed in feeds:
        made[feed.key] = functools.partial(
            FeedSource,
            feed.url,
            feed.key,
            feed.title,
            allow_private=settings.sources.feeds_private,
        )
    wanted = list(keys) or [
        *settings.sources.enabled,
        *(f.key for f in feeds if f.enabled and settings.sources.feeds),
    ]
    unknown = [k for k in wanted if k not in made]
    if unknown:
        raise ConfigError(
            f"unknown source(s) {', '.join(unknown)}; known: {', '.join(known_sources())}"
        )
    return [made[k]() for k in dict.fromkeys(wanted)]
