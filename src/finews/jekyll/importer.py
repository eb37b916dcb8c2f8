"""``finews import jekyll``: posts of the original site into the store.

Files are read, parsed and saved in batches; each batch is one transaction,
so killing the import leaves every article either fully stored or absent.
A file that cannot be understood is reported with its path and reason and
skipped; the rest go through.

A post finews exported itself (``export jekyll``) from an article of another source is
recognised by its file name's source prefix and the id in its share link or URL, and is
not stored a second time under the source ``jekyll`` (issue #13): it counts as
``recognised``.  The same post found in two folders is one article (one key).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from finews.errors import InputError
from finews.jekyll import JEKYLL_SOURCE
from finews.jekyll.read import decode_post, origin_family, parse_post, post_identity
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
    recognised: list[tuple[str, str]] = field(default_factory=list)
    """(path, source:id) of every post that is finews's export of a stored article."""

    def as_dict(self) -> dict[str, object]:
        counts = self.saved.counts
        return {
            "files": self.files,
            "new": counts["new"],
            "updated": counts["updated"],
            "unchanged": counts["unchanged"],
            "recognised": len(self.recognised),
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


def _recognised(
    path: Path,
    stored: list[str],
    store: Store,
    report: ImportReport,
    article: Article | None = None,
) -> bool:
    """Whether the post is finews's export of an article stored under another source
    (its file name's family prefix and its id); noted in the report if so."""
    if not stored:
        return False
    if article is not None:
        upstream_id = article.upstream_id
    else:  # a post we cannot read as an article may still be one of our exports
        try:
            upstream_id = post_identity(decode_post(path.read_bytes(), str(path)), str(path))
        except (OSError, InputError):
            return False
    family = origin_family(str(path))
    # a post linking to its outlet's own page has no id in its link: the file name's
    # (``2026-06-16-cls-2401321.md``) carries the family prefix
    upstream_id = upstream_id.removeprefix(f"{family}-")
    candidates = [s for s in stored if s == family or s.startswith(family + ".")]
    origin = store.origin_of(candidates, upstream_id) if upstream_id else None
    if origin is None:
        return False
    report.recognised.append((str(path), f"{origin}:{upstream_id}"))
    log.info("%s is the export of %s:%s: not stored again", path, origin, upstream_id)
    return True


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

    stored = [s for s in store.sources() if s != JEKYLL_SOURCE]
    for path in find_posts(paths):
        report.files += 1
        try:
            article = read_post(path)
        except InputError as exc:
            if not _recognised(path, stored, store, report):
                log.info("skipped %s", exc)
                report.skipped.append((str(path), str(exc).removeprefix(f"{path}: ")))
        else:
            if not _recognised(path, stored, store, report, article):
                pending.append(process(article))
        if len(pending) >= BATCH:
            flush()
        if progress:
            progress(1)
    flush()
    return report
