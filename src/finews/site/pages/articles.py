"""Article pages: ``a/<source>/<yyyy>/<mm>/<dd>/<id>.html``, one per article, with the
other reports of its story ("also reported by").  Rendered by filling in the article
template's skeleton with the stored clean body (no cleaning at build time)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Connection

from finews.site import paths
from finews.site.article import article_parts
from finews.site.context import Build, Plan
from finews.site.render import digest
from finews.site.stories import MAX_PEERS
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
