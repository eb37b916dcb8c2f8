"""The known sources, built from the settings."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Sequence

from finews.config import Settings
from finews.errors import ConfigError, RequestError
from finews.model import UserFeed
from finews.sources import cls, eastmoney, jin10, wscn
from finews.sources.base import Source
from finews.sources.cls import CLS_SOURCE, ClsTelegraph
from finews.sources.eastmoney import COLUMN_SOURCE, FAST_SOURCE, EastmoneyColumns, EastmoneyFast
from finews.sources.feeds import FeedSource
from finews.sources.jin10 import JIN10_SOURCE, Jin10Flash
from finews.sources.shapes import Shape, with_user_shapes
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


def builtin_shapes(settings: Settings) -> dict[str, tuple[Shape, ...]]:
    """Each source's built-in request shapes, on the configured hosts (issue #15)."""
    em, c, w, j = settings.eastmoney, settings.cls, settings.wscn, settings.jin10
    return {
        FAST_SOURCE: eastmoney.fast_shapes(em.list_base),
        COLUMN_SOURCE: eastmoney.column_shapes(em.list_base),
        CLS_SOURCE: cls.shapes(c.base, c.app, c.sv),
        WSCN_SOURCE: wscn.shapes(w.base),
        JIN10_SOURCE: jin10.shapes(j.base, j.app_id, j.version),
    }


def request_shapes(settings: Settings) -> dict[str, tuple[Shape, ...]]:
    """The shapes each source tries, in order: the settings' ``first`` ones, the built-in
    ones, the settings' others.  A shape for a source without shapes is an error."""
    shapes = builtin_shapes(settings)
    extra: dict[str, tuple[list[Shape], list[Shape]]] = {k: ([], []) for k in shapes}
    for given in settings.sources.shapes:
        if given.source not in shapes:
            raise ConfigError(
                f"sources.shapes {given.name!r}: source {given.source!r} has no request "
                f"shapes (these do: {', '.join(shapes)})"
            )
        usual = shapes[given.source][0]
        shape = Shape(
            name=given.name,
            base=given.base,
            path=given.path or usual.path,
            params={**usual.params, **given.params},
            headers={**usual.headers, **given.headers},
            seen="your settings (sources.shapes)",
            paging=given.paging,
            user=True,
        )
        extra[given.source][0 if given.first else 1].append(shape)
    return {
        key: with_user_shapes(key, builtin, extra[key][1], extra[key][0])
        for key, builtin in shapes.items()
    }


def factories(settings: Settings) -> dict[str, Callable[[], Source]]:
    em = settings.eastmoney
    common = {
        "list_base": em.list_base,
        "article_base": em.article_base,
        "page_base": em.page_base,
        "page_size": em.page_size,
    }
    c, t, s, w, j = settings.cls, settings.ths, settings.sina, settings.wscn, settings.jin10
    shapes = request_shapes(settings)
    return {
        FAST_SOURCE: lambda: EastmoneyFast(
            columns=em.fast_columns,
            request_shapes=shapes[FAST_SOURCE],
            **common,  # type: ignore[arg-type]
        ),
        COLUMN_SOURCE: lambda: EastmoneyColumns(
            columns=em.news_columns,
            request_shapes=shapes[COLUMN_SOURCE],
            **common,  # type: ignore[arg-type]
        ),
        CLS_SOURCE: lambda: ClsTelegraph(
            base=c.base,
            app=c.app,
            sv=c.sv,
            category=c.category,
            categories=c.categories,
            page_size=c.page_size,
            request_shapes=shapes[CLS_SOURCE],
        ),
        THS_SOURCE: lambda: ThsFlash(base=t.base, page_size=t.page_size),
        SINA_SOURCE: lambda: SinaZhibo(base=s.base, zhibo_id=s.zhibo_id, page_size=s.page_size),
        WSCN_SOURCE: lambda: WscnLive(
            base=w.base,
            channel=w.channel,
            channels=w.channels,
            page_size=w.page_size,
            request_shapes=shapes[WSCN_SOURCE],
        ),
        JIN10_SOURCE: lambda: Jin10Flash(
            base=j.base, app_id=j.app_id, version=j.version, request_shapes=shapes[JIN10_SOURCE]
        ),
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
        near = [
            m
            for k in unknown
            for m in (
                [m for m in made if m.startswith(k + ".")][:1]  # cls → cls.telegraph
                or difflib.get_close_matches(k, list(made), n=1)
            )
        ]
        hint = f"did you mean {', '.join(near)}? " if near else ""
        message = (
            f"unknown source(s) {', '.join(unknown)} ({hint}sources are ids: "
            f"{', '.join(made)}; an outlet such as 财联社 is not a source id)"
        )
        # typed on the command line: a usage error (exit 2), as `search --source` says it;
        # from the settings (sources.enabled): the settings' error
        raise RequestError(message) if keys else ConfigError(f"sources.enabled: {message}")
    return [made[k]() for k in dict.fromkeys(wanted)]
