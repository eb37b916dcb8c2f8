"""The static site: pages, feeds and sitemaps rendered from the store, incrementally."""

from finews.site.build import BuildReport, SiteOptions, build_site

__all__ = ["BuildReport", "SiteOptions", "build_site"]
