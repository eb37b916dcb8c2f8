"""What each adapter expects of an item, and how what came differs (issue #15).

A silent format change — a field renamed, a number turned into a string — otherwise shows
as an empty stream or as items skipped one by one.  Every adapter declares the fields it
reads (:class:`Expected`); each page is compared with it before normalising and the
differences are reported as :class:`FieldChange` s, which the round records the first
time they are seen (``finews sources`` and the status page show them).  The items are
still normalised: whatever can be stored without the missing field is stored.

- ``required``: the adapter cannot make an article without it; missing or of another
  type on any item is a change.
- ``usual``: every item normally has it (the documented shape; the real captures); missing
  from *every* item of a page is a change (one item without it is not).
- ``known``: seen in captures or documented, not read; anything outside the three sets is
  a new field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Kind = type | tuple[type, ...]

NUMBER: tuple[type, ...] = (int, float)
TEXT_OR_NUMBER: tuple[type, ...] = (str, int, float)


@dataclass(frozen=True)
class FieldChange:
    field: str
    change: str
    """``missing``, ``type`` or ``new``"""
    detail: str
    items: int
    """How many items of the page showed it."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "change": self.change,
            "detail": self.detail,
            "items": self.items,
        }


@dataclass(frozen=True)
class Expected:
    required: Mapping[str, Kind]
    usual: Mapping[str, Kind] = field(default_factory=dict)
    known: frozenset[str] = frozenset()

    def all_names(self) -> frozenset[str]:
        return frozenset(self.required) | frozenset(self.usual) | self.known


def _kind_name(kind: Kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return "/".join(k.__name__ for k in kinds)


def _is(value: Any, kind: Kind) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        return False  # True is an int to Python, not to an upstream's schema
    return isinstance(value, kinds)


def compare(items: Any, expected: Expected) -> tuple[tuple[FieldChange, ...], frozenset[str]]:
    """The changes of a page's items against ``expected``, and every field they had."""
    if not isinstance(items, list):
        return (), frozenset()
    objects = [i for i in items if isinstance(i, dict)]
    if not objects:
        return (), frozenset()
    present: set[str] = set()
    for item in objects:
        present.update(str(k) for k in item)
    changes: list[FieldChange] = []
    for name, kind in expected.required.items():
        missing = sum(1 for i in objects if name not in i or i[name] is None)
        if missing:
            changes.append(
                FieldChange(
                    name, "missing", f"required field missing on {missing} item(s)", missing
                )
            )
        wrong = [i[name] for i in objects if i.get(name) is not None and not _is(i[name], kind)]
        if wrong:
            changes.append(
                FieldChange(
                    name,
                    "type",
                    f"expected {_kind_name(kind)}, got {type(wrong[0]).__name__}",
                    len(wrong),
                )
            )
    for name, kind in expected.usual.items():
        if name not in present:
            changes.append(FieldChange(name, "missing", "absent from every item", len(objects)))
            continue
        wrong = [i[name] for i in objects if i.get(name) is not None and not _is(i[name], kind)]
        if wrong:
            changes.append(
                FieldChange(
                    name,
                    "type",
                    f"expected {_kind_name(kind)}, got {type(wrong[0]).__name__}",
                    len(wrong),
                )
            )
    for name in sorted(present - expected.all_names()):
        count = sum(1 for i in objects if name in i)
        changes.append(FieldChange(name, "new", "a field not seen before", count))
    return tuple(changes), frozenset(present)
