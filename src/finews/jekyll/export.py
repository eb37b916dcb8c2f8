"""``finews export jekyll``: the store as a Jekyll site in the original format.

Writes ``_posts/<YYYY-MM-DD>-<id>.md`` for every article and one
``category/<slug>.html`` page per category.  Each file is written atomically
and only when its content changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from finews.jekyll.write import (
    JekyllOptions,
    category_of,
    post_filename,
    render_category_page,
    render_post,
    tag_of,
)
from finews.outputs.files import write_atomic
from finews.store import Store


@dataclass
class ExportReport:
    posts: int = 0
    written: int = 0
    categories: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"posts": self.posts, "written": self.written, "categories": self.categories}


def export_jekyll(
    store: Store,
    out: Path,
    options: JekyllOptions,
    progress: Callable[[int], None] | None = None,
) -> ExportReport:
    report = ExportReport()
    posts_dir = out / "_posts"
    for article in store.iter_articles():
        text = render_post(article, options)
        report.posts += 1
        if write_atomic(posts_dir / post_filename(article), text.encode("utf-8")):
            report.written += 1
        report.categories.setdefault(category_of(article, options), tag_of(article))
        if progress:
            progress(1)
    for slug, title in sorted(report.categories.items()):
        page = render_category_page(slug, title).encode("utf-8")
        if write_atomic(out / "category" / f"{slug}.html", page):
            report.written += 1
    return report
