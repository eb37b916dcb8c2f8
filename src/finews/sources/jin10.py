"""金十数据 (Jin10) flash: ``flash-api.jin10.com/get_flash_list`` (upstream-apis.md §6.3).

Needs an ``x-app-id`` header, which 金十 rotates: the configured one is tried first, then
the ones public clients are seen sending (issue #15).  Locked PLUS items (no content) are
counted, not stored.  Economic-data rows (``type`` 1) are not news but are not dropped:
they become calendar rows (actual / forecast / previous, stars, 利多 / 利空).  Paging goes
back with ``max_time``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from finews.fetch import Fetcher, decode_json
from finews.model import AFFECT, Article, CalendarEvent, parse_beijing
from finews.process.clean import text_to_html
from finews.sources.base import Page
from finews.sources.common import normalise_items, plain, raw_json, title_from_text
from finews.sources.drift import NUMBER, TEXT_OR_NUMBER, Expected
from finews.sources.shapes import Candidates, Shape, ShapeChanged, walk

JIN10_SOURCE = "jin10.flash"
JIN10_MEDIA = "金十数据"
FLASH_PATH = "/get_flash_list"
APP_IDS = (
    ("bVBF4FyRTn5NJF5n", "RSSHub jin10/index.ts; a jin10 API report dated 2025-10-21"),
    ("SO1EJGmNgCtmpcPF", "other scrapers (upstream-apis.md §6.3), 2026"),
)
EXPECTED = Expected(
    required={"id": TEXT_OR_NUMBER, "time": str},
    usual={"type": NUMBER, "data": dict, "important": NUMBER},
    known=frozenset({"tags", "channel", "remark"}),
)


def shapes(base: str, app_id: str, version: str) -> tuple[Shape, ...]:
    ids = [(app_id, "the settings (jin10.app_id)")] if app_id not in dict(APP_IDS) else []
    ids += sorted(APP_IDS, key=lambda i: i[0] != app_id)
    return tuple(
        Shape(
            f"x-app-id {ident[:4]}…",
            base,
            FLASH_PATH,
            headers={"x-app-id": ident, "x-version": version},
            seen=seen,
        )
        for ident, seen in ids
    )


def locked(item: dict[str, Any]) -> bool:
    """A PLUS 专享 flash: locked, or without content (a data row is never locked)."""
    if _kind(item) != 0:
        return False
    data = item.get("data") if isinstance(item.get("data"), dict) else {}
    assert isinstance(data, dict)
    return bool(data.get("lock")) or not plain(str(data.get("content") or ""))


def _kind(item: dict[str, Any]) -> int:
    try:
        return int(item.get("type") or 0)
    except (TypeError, ValueError):
        return -1


def normalise(item: dict[str, Any]) -> Article | None:
    ident = str(item["id"]).strip()
    if _kind(item) != 0:
        return None  # an economic-data release: a calendar row (event), not news
    data = item.get("data") if isinstance(item.get("data"), dict) else {}
    assert isinstance(data, dict)
    text = plain(str(data.get("content") or ""))
    return Article(
        source=JIN10_SOURCE,
        upstream_id=ident,
        title=str(data.get("title") or "").strip() or title_from_text(text),
        published=parse_beijing(str(item["time"])),
        media=JIN10_MEDIA,
        url=str(data.get("link") or "") or f"https://flash.jin10.com/detail/{ident}",
        digest=text,
        body_html=text_to_html(text),
        important=bool(int(item.get("important") or 0)),
        body_complete=True,
        raw=raw_json(item),
    )


def _text(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else str(value)
    return str(value).strip()


def affect(value: Any) -> str:
    """金十's ``affect`` as words: 1 利多, 2 利空, 0 影响较小 (LOW confidence: one sample,
    docs/sources.md); a text that already says 利多 or 利空 is kept."""
    text = _text(value)
    if "利多" in text or "利空" in text:
        return "利多" if "利多" in text else "利空"
    return AFFECT.get(text, "")


def event(item: dict[str, Any]) -> CalendarEvent:
    """A ``type`` 1 row → a calendar row.  Raises KeyError/ValueError when it has no name
    or time (skipped and reported like a bad item)."""
    data = item["data"]
    if not isinstance(data, dict):
        raise TypeError("data is not an object")
    name = str(data["name"]).strip()
    if not name:
        raise ValueError("a data row without a name")
    when = parse_beijing(str(data.get("pub_time") or item["time"]))
    return CalendarEvent(
        source=JIN10_SOURCE,
        upstream_id=str(item["id"]).strip(),
        name=name,
        released=when,
        country=_text(data.get("country")),
        unit=_text(data.get("unit")),
        actual=_text(data.get("actual")),
        forecast=_text(data.get("consensus", data.get("forecast"))),
        previous=_text(data.get("previous")),
        revised=_text(data.get("revised")),
        star=int(float(data.get("star") or 0)),
        affect=affect(data.get("affect")),
        important=bool(int(item.get("important") or 0)),
        raw=raw_json(item),
    )


@dataclass
class Jin10Flash:
    base: str = "https://flash-api.jin10.com"
    app_id: str = "bVBF4FyRTn5NJF5n"
    version: str = "1.0.0"
    key: str = JIN10_SOURCE
    request_shapes: tuple[Shape, ...] = ()
    expect_items: bool = False
    candidates: Candidates = field(init=False)

    def __post_init__(self) -> None:
        self.candidates = Candidates(
            self.key, self.request_shapes or shapes(self.base, self.app_id, self.version)
        )

    def pages(self, fetcher: Fetcher) -> Iterator[Page]:
        return walk(
            self.candidates,
            lambda shape, cursor: self._page(fetcher, shape, cursor),
            "",
            expect_items=self.expect_items,
            max_pages=20,
        )

    def _page(self, fetcher: Fetcher, shape: Shape, max_time: str) -> tuple[Page, str | None]:
        params: dict[str, str | int] = {"channel": -8200, "vip": 1}
        if max_time:
            params["max_time"] = max_time
        response = fetcher.get(
            shape.url(),
            params={**params, **shape.params},
            headers={"Referer": "https://www.jin10.com/", **shape.headers},
        )
        payload = decode_json(response, self.key)
        if not isinstance(payload, dict) or str(payload.get("status")) != "200":
            status = payload.get("status") if isinstance(payload, dict) else None
            # a wrong x-app-id answers so: another known one may work
            raise ShapeChanged(f"get_flash_list: status {status!r}", self.key)
        items = payload.get("data")
        page = normalise_items(items, normalise, self.key, expected=EXPECTED, locked=locked)
        events: list[CalendarEvent] = []
        skipped = [s for s in page.skipped if s[1] != "not an article (locked or a data row)"]
        for item in items or []:
            if isinstance(item, dict) and _kind(item) == 1:
                try:
                    events.append(event(item))
                except (KeyError, TypeError, ValueError) as exc:
                    skipped.append((str(item.get("id")), f"data row: {exc}"))
        page = replace(page, events=tuple(events), skipped=tuple(skipped))
        times = [str(i.get("time")) for i in items or [] if isinstance(i, dict) and i.get("time")]
        return page, min(times) if times else None

    def complete(self, fetcher: Fetcher, article: Article) -> Article:
        return article
