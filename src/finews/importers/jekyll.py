"""``finews import jekyll``: posts of the original site into the store.

Files are read, parsed and saved in batches; each batch is one transaction,
so killing the import leaves every article either fully stored or absent.
A file that cannot be understood is reported with its path and reason and
skipped; the rest go through.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from finews.errors import InputError
from finews.formats.jekyll import decode_post, parse_post
from finews.model import Article
from finews.store import SaveReport, Store

log = logging.getLogger(__name__)

POST_SUFFIXES = {".md", ".markdown"}
BATCH = 200


@dataclass
class ImportReport:
    files: int = 0
    saved: SaveReport = field(default_factory=SaveReport)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(path, reason) of every file that was not imported."""

    def as_dict(self) -> dict[str, object]:
        counts = self.saved.counts
        return {
            "files": self.files,
            "new": counts["new"],
            "updated": counts["updated"],
            "unchanged": counts["unchanged"],
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
        }


def find_posts(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named on the command line as they are; folders searched for posts."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.suffix in POST_SUFFIXES and p.is_file()
            )
        else:
            yield path


def read_post(path: Path) -> Article:
    where = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", where) from None
    return parse_post(decode_post(data, where), where)


def import_jekyll(
    store: Store,
    paths: Iterable[Path],
    progress: Callable[[int], None] | None = None,
    process: Callable[[Article], Article] = lambda a: a,
) -> ImportReport:
    report = ImportReport()
    pending: list[Article] = []

    def flush() -> None:
        if pending:
            report.saved += store.save(pending)
            pending.clear()

    for path in find_posts(paths):
        report.files += 1
        try:
            pending.append(process(read_post(path)))
        except InputError as exc:
            log.info("skipped %s", exc)
            report.skipped.append((str(path), str(exc).removeprefix(f"{path}: ")))
        if len(pending) >= BATCH:
            flush()
        if progress:
            progress(1)
    flush()
    return report
