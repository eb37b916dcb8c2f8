"""What listing pages share (sections, days, stocks, important, home): the items'
lines, built in Python, and the list page itself."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

from markupsafe import Markup

from finews.site import paths
from finews.site.context import Build
from finews.site.escaping import escape_text
from finews.site.formats import iso_time, section_title, short_time
from finews.site.stories import Heat, heat_chip, heat_key, story_path
from finews.site.stream import LINE_END, StreamLine, day_separator, stream_line, with_days
from finews.site.writer import Page
from finews.store.sitequeries import Item


class ItemViews(Sequence[dict[str, Any]]):
    """A listing's items as templates see them, and ``html``: their lines, joined.

    The packaged templates print ``html`` only; an item's own view (its fields and its
    ``<li>``, ``it.html``) is made when a template looks at the items one by one (a site's
    own templates may): a build shows some 50,000 item lines in its listings, and a
    dictionary and a copy of the line for each was time for nothing."""

    def __init__(
        self,
        html: Markup,
        parts: Sequence[tuple[dict[str, Any], str, str]],
    ) -> None:
        self.html = html
        self._parts = parts  # (fields, line, day) of each item
        self._views: list[dict[str, Any]] | None = None

    def _made(self) -> list[dict[str, Any]]:
        if self._views is None:
            # the first of each day carries its date separator, so that a template looping
            # over the items prints what ``html`` prints
            views = []
            current = ""
            for fields, line, day in self._parts:
                if day != current:
                    line = day_separator(day) + "\n" + line
                    current = day
                views.append({**fields, "html": Markup(line)})
            self._views = views
        return self._views

    def __len__(self) -> int:
        return len(self._parts)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        return self._made()[index]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._made())


def shown(items: Iterable[Item]) -> str:
    """Items as a listing's or a feed's input hash sees them.  An id fixes an item's
    source, upstream id and so its path; its content hash covers everything else a
    listing or an entry shows (title, time, media, section, importance, body).  Plain
    strings: a page lists up to hundreds of items, and hashing a tuple of each one's
    fields was most of the time spent planning a build."""
    return ";".join([f"{it.id}:{it.content_hash}" for it in items])


def line_of(b: Build, it: Item) -> tuple[dict[str, Any], StreamLine]:
    """An item's fields and stream line, made once per build (and kept in ``b``)."""
    fields = {
        "title": it.title,
        "path": paths.article_path(it.source, it.upstream_id, it.published_at),
        "iso": iso_time(it.published_at),
        "short_time": short_time(it.published_at),
        "media": it.media,
        "important": it.important,
        "digest": it.digest,
        "stocks": it.stocks,
    }
    made = b.list_lines[it.id] = (fields, stream_line(fields))
    return made


def warm_lines(b: Build, items: Iterable[Item]) -> None:
    """Every item's line made here, before a full build forks its workers: each worker
    would otherwise make the lines of most items again (a stock's, a day's and a
    section's pages land in different workers)."""
    known = b.list_lines
    for it in items:
        if it.id not in known:
            line_of(b, it)


def view_items(
    b: Build,
    items: Iterable[Item],
    root: str,
    show_media: bool,
    heat: dict[int, Heat] | None = None,
    own_media: str = "",
) -> ItemViews:
    """What a listing shows of each item: its fields, and ``html``, its stream line
    (:mod:`finews.site.stream`, issue #12) built here (a listing is mostly items; one
    fragment is a tenth of the cost of six Jinja2 expressions), and all the lines in one
    piece with date separators (``.html`` of the list, printed by the packaged template).
    Templates may print either or use the fields."""
    parts = []
    lines = []
    days = []
    known = b.list_lines
    for it in items:
        # once per item and process: an item is on its section's, its day's, its
        # stocks' pages (one snapshot: an id is the same item on all of them)
        fields, pieces = known.get(it.id) or line_of(b, it)
        line = pieces.join(root, show_media and it.media != own_media)
        told = heat.get(it.cluster) if heat else None
        if told is not None:  # the story's heat, linked to its page (issue #10)
            line = line[: -len(LINE_END)] + heat_chip(root, it.cluster, told) + LINE_END
            fields = {**fields, "heat": told.label, "story": story_path(it.cluster)}
        lines.append(line)
        days.append(pieces.day)
        parts.append((fields, line, pieces.day))
    return ItemViews(with_days(lines, days), parts)


def tabs(b: Build, root: str, current: str) -> Markup:
    """The stream's filters as links between static pages (issue #12): 全部 (the home page),
    重要 (``important/``) and a tab per source (its section page); ``current`` is ``all``,
    ``important`` or a section's name.  Sections in name order: a tab row that does not
    change when counts do keeps the pages that show it unchanged."""
    e = escape_text

    def tab(href: str, label: str, here: bool) -> str:
        mark = ' aria-current="page"' if here else ""
        return f'<a href="{root}{href}"{mark}>{e(label)}</a>'

    links = [
        tab("index.html", "全部", current == "all"),
        tab("important/index.html", "重要", current == "important"),
        '<span class="sep" aria-hidden="true"></span>',
    ]
    for name, slug in sorted(b.slugs.items(), key=lambda kv: kv[1]):
        links.append(tab(f"c/{slug}/index.html", section_title(name), current == name))
    return Markup(f'<nav class="tabs" aria-label="筛选">{"".join(links)}</nav>')


def list_page(
    b: Build,
    path: str,
    *,
    heading: str,
    subtitle: str,
    items: Sequence[Item],
    newer: str | None,
    older: str | None,
    feed_prefix: str | None,
    show_media: bool = True,
    labels: tuple[str, str] = ("较新", "较早"),
    spans: tuple[str, str] = ("", ""),
    latest: str | None = None,
    days: tuple[str | None, str | None] = (None, None),
    live: str = "",
    heat: dict[int, Heat] | None = None,
    tab: str = "",
    own_media: str = "",
) -> Page:
    """A page of ``list.html``: ``items`` oldest first (shown newest first); ``tab``: the
    stream filter this page is (see :func:`tabs`), none when empty; ``own_media``: the
    outlet whose own page this is, left out of its lines (docs/site.md).

    The pager: ``newer`` and ``older`` (paths from the site's root), said by ``labels``
    (which way) and ``spans`` (what the page it leads to covers: its dates); ``latest``,
    a way back to the newest page.  ``days``: a day page's newer and older days
    (``yyyy-mm-dd``), linked above and below the list on every page of the day."""
    ordered = list(reversed(items))
    tab_row = tabs(b, paths.root_of(path), tab) if tab else Markup("")
    key = (
        str(tab_row),
        heading,
        subtitle,
        shown(ordered),
        newer,
        older,
        feed_prefix,
        live,
        heat_key(ordered, heat) if heat else (),
        own_media,
        labels,
        spans,
        latest,
        days,
    )
    root = paths.root_of(path)

    def link(target: str | None, label: str, when: str = "") -> dict[str, str] | None:
        if target is None:
            return None
        return {"href": root + target, "label": label, "when": when}

    day_links = None
    if days != (None, None):
        newer_day, older_day = days
        day_links = {
            "newer": link(newer_day and f"d/{newer_day}.html", "后一天", newer_day or ""),
            "older": link(older_day and f"d/{older_day}.html", "前一天", older_day or ""),
            "archive": root + "d/index.html",
        }

    return Page(
        path,
        key,
        lambda: b.renderer.render(
            "list.html",
            path,
            heading=heading,
            subtitle=subtitle,
            items=view_items(b, ordered, root, show_media, heat, own_media),
            newer=link(newer, labels[0], spans[0]),
            older=link(older, labels[1], spans[1]),
            latest=root + latest if latest else "",
            days=day_links,
            feed_prefix=feed_prefix,
            show_media=show_media,
            live=live,
            tabs=tab_row,
        ),
    )
