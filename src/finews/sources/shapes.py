"""Request shapes: the ways one upstream is known to be asked, tried in order (issue #15).

An upstream changes without notice: 财联社 turned ``/nodeapi/telegraphList`` off in May
2026, Eastmoney answers ``data: null`` when a parameter goes missing, 金十 rotates its
``x-app-id``.  Each source therefore lists the request shapes public clients are seen
using — host, path, fixed parameters, headers — newest-known-good first.  When the one in
use fails in a way that *looks like a change* (404 and its kin, ``data: null``, a
documented errno, an empty list where there were items), the next shape is tried at once;
the one that answers is used from then on, and the round's ingest remembers it in the
store so that the next process starts with it.  A failure that looks passing (a timeout,
a 503) is not a change: no other shape is tried, the retries and the round's backoff deal
with it.

Adapters stay stateless between rounds apart from :class:`Candidates`, which the round
primes (:meth:`Candidates.prefer`) and reads back (:attr:`Candidates.switches`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from finews.errors import FetchError, SourceError, UpstreamFormatError
from finews.sources.base import Page

T = TypeVar("T")

CHANGE_STATUSES = frozenset({401, 403, 404, 405, 410})
"""HTTP statuses that say "not like this (any more)", rather than "not now"."""


@dataclass(frozen=True)
class Shape:
    """One way of asking an upstream for its list."""

    name: str
    """Short and stable: what the store remembers and ``finews sources`` shows."""
    base: str
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    """Fixed query parameters of this shape (merged over the adapter's own)."""
    headers: Mapping[str, str] = field(default_factory=dict)
    seen: str = ""
    """The public client this shape was seen in, and when (docs/sources.md)."""
    paging: bool = True
    """False for a shape that only gives the newest items (财联社 ``/api/cache``)."""
    user: bool = False
    """Added in the settings (``[[sources.shapes]]``), not built in."""

    def url(self) -> str:
        return self.base.rstrip("/") + "/" + self.path.lstrip("/")

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url(),
            "params": dict(self.params),
            "headers": dict(self.headers),
            "seen": self.seen,
            "paging": self.paging,
            "user": self.user,
        }


class ShapeChanged(UpstreamFormatError):
    """The answer says this request shape no longer works (not that the upstream is down)."""


class EmptyAnswer(ShapeChanged):
    """An empty list where the source had items: maybe a change, maybe a quiet spell.
    Another shape is tried; when none has more, the empty answer stands (no error)."""

    def __init__(self, message: str, context: str, result: Any) -> None:
        super().__init__(message, context)
        self.result = result


def looks_changed(exc: SourceError) -> bool:
    """Whether a failure looks like the upstream changed rather than stumbled."""
    if isinstance(exc, ShapeChanged):
        return True
    return isinstance(exc, FetchError) and exc.status in CHANGE_STATUSES


@dataclass(frozen=True)
class Switch:
    """The source moved from one shape to another, and why."""

    source: str
    previous: str
    current: str
    reason: str
    seconds: float
    """From the start of the first failing request to the working shape's answer."""
    at: float


@dataclass
class Candidates:
    """A source's shapes in order, the one in use, and the switches of this round."""

    source: str
    shapes: tuple[Shape, ...]
    current: int = 0
    switches: list[Switch] = field(default_factory=list)
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        if not self.shapes:
            raise ValueError(f"{self.source}: no request shape")

    @property
    def shape(self) -> Shape:
        return self.shapes[self.current]

    def names(self) -> list[str]:
        return [s.name for s in self.shapes]

    def prefer(self, name: str | None) -> None:
        """Start with the shape the store remembers working (unknown names are ignored:
        a shape removed from the settings is simply not there any more)."""
        for index, shape in enumerate(self.shapes):
            if shape.name == name:
                self.current = index
                return

    def first(self, attempt: Callable[[Shape], T]) -> T:
        """``attempt`` with the shape in use; on a change-like failure with each other
        shape in order, keeping the first that works.  Raises the last failure's kind
        (a :class:`ShapeChanged` naming every shape's answer) when none works."""
        order = [self.current, *(i for i in range(len(self.shapes)) if i != self.current)]
        errors: list[str] = []
        empty: tuple[int, EmptyAnswer] | None = None
        started: float | None = None
        for index in order:
            shape = self.shapes[index]
            began = self.clock()
            try:
                result = attempt(shape)
            except SourceError as exc:
                if index == self.current and not looks_changed(exc):
                    raise  # the shape in use stumbled: not a change, nothing else is tried
                # once a change is suspected, every other shape's answer is evidence
                if isinstance(exc, EmptyAnswer) and empty is None:
                    empty = (index, exc)
                errors.append(f"{shape.name}: {_bare(exc)}")
                started = began if started is None else started
                continue
            self._use(index, errors[0] if errors else "", started, began)
            return result
        if empty is not None:
            # no shape gave more than an empty list in the documented shape: a quiet
            # source, not a change; the first shape that answered so is kept
            index, answer = empty
            if index != self.current:
                self._use(index, errors[0], started, started or 0.0)
            return answer.result  # type: ignore[no-any-return]
        raise ShapeChanged("no known request shape works (" + "; ".join(errors) + ")", self.source)

    def _use(self, index: int, reason: str, started: float | None, began: float) -> None:
        if index == self.current:
            return
        self.switches.append(
            Switch(
                source=self.source,
                previous=self.shapes[self.current].name,
                current=self.shapes[index].name,
                reason=reason,
                seconds=self.clock() - (started if started is not None else began),
                at=time.time(),
            )
        )
        self.current = index


EMPTY_REASON = "an empty list where the source had items"


def _bare(exc: SourceError) -> str:
    """The message without the ``source:`` prefix (the shape name stands before it)."""
    text = str(exc)
    prefix = f"{exc.context}: " if exc.context else ""
    return text[len(prefix) :] if prefix and text.startswith(prefix) else text


def walk(
    candidates: Candidates,
    fetch_page: Callable[[Shape, Any], tuple[Page, Any]],
    first_cursor: Any,
    *,
    expect_items: bool = False,
    max_pages: int = 1000,
) -> Iterator[Page]:
    """Pages newest first like :func:`finews.sources.common.paged`; the first page goes
    through the candidates (the fallback), the later ones use the shape that answered."""
    from finews.sources.common import paged

    state = {"probed": False}

    def probe(shape: Shape) -> tuple[Page, Any]:
        page, following = fetch_page(shape, first_cursor)
        if expect_items and not page.articles and not page.skipped and not page.events:
            raise EmptyAnswer(EMPTY_REASON, candidates.source, (page, following))
        return page, following

    def fetch(cursor: Any) -> tuple[Page, Any]:
        if not state["probed"]:
            state["probed"] = True
            page, following = candidates.first(probe)
        else:
            page, following = fetch_page(candidates.shape, cursor)
        if not candidates.shape.paging:
            following = None
        return page, following

    return paged(fetch, first_cursor, max_pages=max_pages)


def merged(shape: Shape, params: Mapping[str, str | int]) -> dict[str, str | int]:
    """The adapter's parameters with the shape's fixed ones over them."""
    return {**params, **shape.params}


def with_user_shapes(
    source: str, builtin: tuple[Shape, ...], user: list[Shape], first: list[Shape]
) -> tuple[Shape, ...]:
    """Built-in shapes with the settings' own: ``first`` ones ahead, the rest after; a
    user shape with a built-in's name replaces it."""
    names = {s.name for s in [*first, *user]}
    kept = tuple(s for s in builtin if s.name not in names)
    return (*first, *kept, *user)
