"""The static site: pages, feeds and sitemaps rendered from the store, incrementally.

The builder is imported on first use (PEP 562): a command that needs only an article's
path (``finews search`` through :mod:`finews.site.paths`) would otherwise pay for
importing every page kind, Jinja2 and the briefing composer — about 0.1 s of a 0.65 s
search on a 2-core VM (issue #16's command-line latency)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from finews.site.build import BuildReport, SiteOptions, build_site

__all__ = ["BuildReport", "SiteOptions", "build_site"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from finews.site import build

        return getattr(build, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
