"""Removals: the pages the last build wrote that this one no longer produces (the
writer deletes them, after everything else is written)."""

from __future__ import annotations

import re

from finews.site import paths
from finews.site.context import Build, Plan
from finews.site.manifest import Manifest
from finews.site.stories import story_path


def stale_pages(b: Build, manifest: Manifest, plan: Plan) -> set[str]:
    """A full build owns every page; an incremental one only the pages it looked at:
    the chunks of a section and of 要闻 from where it started, the stocks, the days and day
    sitemaps it rebuilt, the article pages of tombstones and the story pages of the
    stories it revisited."""
    produced = b.writer.produced
    if plan.full:
        return {p for p in manifest.paths() if p not in produced}
    candidates = set(plan.removed_article_paths)
    candidates |= {story_path(c) for c in plan.touched_stories}
    for section, (offset, _) in plan.sections.items():
        slug = b.slugs.get(section) or manifest.slugs().get(section)
        if slug:
            candidates |= _chunks_from(manifest, f"c/{slug}/", offset // b.o.page_size + 1)
    candidates |= _chunks_from(manifest, "important/", plan.important[0] // b.o.page_size + 1)
    for code in plan.stocks:
        candidates.update(manifest.under(f"s/{code}/"))
    for d in plan.days:  # a day's first page and its later ones (d/<day>-2.html …)
        candidates.add(f"d/{paths.day_name(d)}.html")
        candidates.update(manifest.under(f"d/{paths.day_name(d)}-"))
    candidates |= {f"sitemaps/{paths.day_name(d)}.xml" for d in plan.sitemap_days}
    return {p for p in candidates if p not in produced}


def _chunks_from(manifest: Manifest, prefix: str, first: int) -> set[str]:
    """The pages under ``prefix`` of a chunked listing (:mod:`finews.site.pages.chunks`)
    but its chunks before ``p<first>.html``, which this build did not look at."""
    found = set()
    for path in manifest.under(prefix):
        chunk = re.fullmatch(rf"{re.escape(prefix)}p(\d+)\.html", path)
        if chunk is None or int(chunk.group(1)) >= first:
            found.add(path)
    return found
