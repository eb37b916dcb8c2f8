"""``finews build``: the site, rendered from one snapshot of the store.

The build in four rooms, in the shape of Pelican's generators and Hugo's page kinds:

- :mod:`finews.site.planner` turns the store's changes since the last build into
  what each page kind must look at (a :class:`~finews.site.planner.Plan`);
- :mod:`finews.site.pages` holds one module per page kind (articles, stories,
  sections, days, sitemaps, stocks, the global pages), each yielding pages —
  (path, input key, render) — registered in one tuple, ``PAGE_KINDS``;
- :mod:`finews.site.writer` skips the pages whose input hash the manifest has,
  writes the others atomically, removes the stale ones
  (:mod:`finews.site.pages.removals`), commits the manifest and publishes;
- :mod:`finews.site.pool` renders a large full build on several cores.

Incremental and full builds run the same page code, so they produce the same bytes.
``--full`` renders everything and removes whatever the last build wrote that no
longer exists.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path

from sqlalchemy import Connection

from finews.site.context import Build
from finews.site.manifest import Manifest
from finews.site.options import BuildReport, SiteOptions
from finews.site.pages import PAGE_KINDS
from finews.site.pages.removals import stale_pages
from finews.site.planner import plan
from finews.site.pool import render_parallel
from finews.site.render import STATIC, TEMPLATES, Renderer, config_hash
from finews.site.writer import Writer
from finews.store import Store

__all__ = ["STATIC", "TEMPLATES", "BuildReport", "SiteOptions", "build_site"]


def build_site(store: Store, out: Path, options: SiteOptions, *, full: bool = False) -> BuildReport:
    """Render the site into ``out`` (incrementally unless ``full``)."""
    started = time.perf_counter()
    report = BuildReport()
    writer = Writer(out, report, config_hash(options))
    b = Build(store, options, Renderer(options), writer)
    writer.publish(lambda: _run(b, full))
    report.full = writer.full
    report.seconds = time.perf_counter() - started
    return report


def _run(b: Build, force_full: bool) -> None:
    manifest = b.writer.open_manifest()
    # A build makes hundreds of thousands of short-lived objects and no cycles worth
    # collecting: the collector's passes (in the workers too) are time for nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with b.store.snapshot() as conn:
            _build(b, conn, manifest, force_full)
    finally:
        manifest.close()
        if collecting:
            gc.enable()


def _build(b: Build, conn: Connection, manifest: Manifest, force_full: bool) -> None:
    p = plan(b, conn, manifest, force_full)
    writer = b.writer
    if p.parallel:
        writer.deferred = []  # planned now, rendered by the pool below
    for kind in PAGE_KINDS:
        for page in kind.pages(b, conn, p):
            writer.emit(page)
        b.phase(kind.phase)
    if p.parallel:
        render_parallel(b, conn, p.article_ids)
        b.phase("pages rendered in parallel")
    removed = writer.remove(stale_pages(b, manifest, p))
    writer.commit(removed, watermark=p.watermark, slugs=p.slugs)
    b.phase("removals, manifest")
