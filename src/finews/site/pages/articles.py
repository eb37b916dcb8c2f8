"""Article pages: ``a/<source>/<yyyy>/<mm>/<dd>/<id>.html``, one per article, with the
other reports of its story ("also reported by").  Rendered by filling in the article
template's skeleton with the stored clean body (no cleaning at build time)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from finews.model import BEIJING
from finews.site import paths
from finews.site.article import article_parts
from finews.site.context import Build, Plan
from finews.site.render import Renderer, digest
from finews.site.stories import MAX_PEERS, Heat, outlet_order
from finews.site.writer import Page
from finews.store import sitequeries as q


def pages(b: Build, conn: Connection, plan: Plan) -> Iterator[Page]:
    """The changed articles' pages (incremental), or every one (a full build in this
    process; with workers, :mod:`finews.site.pool` renders them instead)."""
    if plan.parallel:
        return
    rows = q.iter_all_articles(conn) if plan.full else q.articles_by_id(conn, plan.article_ids)
    n = 0
    for published in rows:
        path, key, context = _view(b, published)
        yield Page(path, key, _renderer(b, path, context))
        n += 1
    b.report.articles = n


def _renderer(b: Build, path: str, context: Callable[[], dict[str, Any]]) -> Callable[[], str]:
    return lambda: _page(b, path, context())


def _view(
    b: Build, published: q.Published
) -> tuple[str, tuple[object, ...], Callable[[], dict[str, Any]]]:
    row_id, a, content_hash, body = published
    published_at = int(a.published.timestamp())
    path = paths.article_path(a.source, a.upstream_id, published_at)
    section = a.category or a.media or a.source
    slug = b.slugs.get(section, "")
    cluster = b.cluster_of.get(row_id, -1)
    group = b.peers.get(cluster, ())
    peers = [it for it in group if it.id != row_id][:MAX_PEERS]
    story = (cluster, b.heat[cluster]) if peers else None
    peer_key = (tuple((it.id, it.media, it.title, it.published_at) for it in peers), story)
    key = (content_hash, section, slug, peer_key)

    def context() -> dict[str, Any]:
        return article_parts(a, path, section, slug, peers, body, story)

    return path, key, context


def _page(b: Build, path: str, parts: dict[str, Any]) -> str:
    return b.renderer.filled("article.html", paths.root_of(path), "a", parts)


def render_one(b: Build, published: q.Published) -> tuple[str, str, bool]:
    """Render and write one article page (in a worker); (path, input hash, written)."""
    path, key, context = _view(b, published)
    hashed = digest(b.writer.config_hash, path, key)
    data = _page(b, path, context()).encode("utf-8")
    return path, hashed, b.writer.write_data(path, data)


_ARTICLE_PAGE = re.compile(r"a/(\d{4})-(\d\d)-(\d\d)/([^/]+)\.html")
_OF_THE_DAY = text(
    "SELECT id, cluster_id, upstream_id, published_at FROM articles "
    "WHERE source = :source AND published_at >= :start AND published_at < :end"
)


def _stored_at(conn: Connection, path: str) -> tuple[int, int] | None:
    """(row id, story) of the stored article whose page is ``path``, or None.  The address
    holds the source and the id as :func:`paths.article_path` cleaned it (a feed item's
    URL for an id), so the day's articles of each source the name can start with are
    read and their addresses compared: a few hundred rows, for a page not built yet."""
    found = _ARTICLE_PAGE.fullmatch(path)
    if found is None:
        return None
    year, month, day, name = found.groups()
    try:
        start = int(datetime(int(year), int(month), int(day), tzinfo=BEIJING).timestamp())
    except ValueError:
        return None
    for at in [i for i, c in enumerate(name) if c == "."]:  # source ids hold dots
        source = name[:at]
        rows = conn.execute(_OF_THE_DAY, {"source": source, "start": start, "end": start + 86_400})
        for row_id, cluster, upstream_id, published_at in rows:
            if paths.article_path(source, str(upstream_id), int(published_at)) == path:
                return int(row_id), int(cluster or row_id)
    return None


def page_from_store(conn: Connection, renderer: Renderer, path: str) -> str | None:
    """The page of a stored article the build has not written yet, as the build would
    write it (its story's other reports and heat included); None when ``path`` names no
    stored article.  For ``finews serve``: a flash pushed to an open page links to its page
    before the next build writes it, and answered 404 (wave 12's walk)."""
    stored = _stored_at(conn, path)
    if stored is None:
        return None
    row_id, cluster = stored
    published = next(q.articles_by_id(conn, [row_id]), None)
    if published is None:
        return None
    _, a, _, body = published
    section = a.category or a.media or a.source
    slug = paths.section_slugs(name for name, _, _ in q.section_counts(conn)).get(section, "")
    members = q.cluster_members(conn, [cluster]).get(cluster, [])
    peers = [it for it in members if it.id != row_id][:MAX_PEERS]
    story = None
    heat = q.story_heat(conn, [cluster]).get(cluster) if peers else None
    if heat is not None:
        reports, outlets, first = heat
        story = (cluster, Heat(reports, outlets, outlet_order(first)))
    parts = article_parts(a, path, section, slug, peers, body, story)
    return renderer.filled("article.html", paths.root_of(path), "a", parts)
