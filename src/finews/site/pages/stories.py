"""Story pages: ``story/<id>/``, every report of a story told more than once, in time
order (issue #10); filled in as skeletons (:mod:`finews.site.stories` builds the view)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection

from finews.site import paths
from finews.site.context import Build, Plan
from finews.site.stories import story_key, story_path, story_view
from finews.site.writer import Page
from finews.store.sitequeries import Item


def pages(b: Build, conn: Connection, plan: Plan) -> Iterator[Page]:
    for cluster, members in sorted(plan.stories.items()):
        yield _story_page(b, cluster, members)


def _story_page(b: Build, cluster: int, members: list[Item]) -> Page:
    path = story_path(cluster)
    root = paths.root_of(path)
    return Page(
        path,
        story_key(members),
        lambda: b.renderer.filled("story.html", root, "story", story_view(cluster, members, root)),
    )
