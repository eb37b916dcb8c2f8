"""The one writer of a build: every page kind hands it :class:`Page`\\ s; it skips the
pages whose input hash the manifest already has, writes the others atomically (or
defers them to the worker pool), removes what is stale, commits the manifest and
publishes a new site by one rename.

Publishing order keeps a reader's view whole: pages are written in the order they are
emitted (article pages first, then the listings and feeds that link to them), removals
last; each file is replaced atomically (temporary file + rename).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from finews.outputs.files import Staging, write_atomic, write_new
from finews.site.manifest import MANIFEST_DIR, Manifest
from finews.site.options import BuildReport
from finews.site.render import digest

Render = Callable[[], str | bytes]


class Page(NamedTuple):
    """What a page kind emits: the page's path, the key of its inputs (hashed: an
    unchanged hash means an unchanged page, neither rendered nor written) and how to
    render it.  ``needs``: the articles a feed page shows (a worker reads them)."""

    path: str
    key: tuple[object, ...]
    render: Render
    needs: Sequence[int] = ()


class Writer:
    def __init__(self, out: Path, report: BuildReport, config_hash: str) -> None:
        self.out = out
        self.report = report
        self.config_hash = config_hash
        self.manifest: Manifest | None = None
        self.full = False
        # every page this build produces, with its input hash (for the manifest)
        self.produced: dict[str, str] = {}
        # full builds on several cores: pages are planned, then rendered by workers
        self.deferred: list[tuple[str, Render]] | None = None
        # planned feed pages (by position in the deferred list) and the articles they show
        self.feed_needs: dict[int, Sequence[int]] = {}
        self._write_file: Callable[[Any, bytes], bool] = write_atomic

    def publish(self, build: Callable[[], None]) -> None:
        """Run ``build`` writing into the output folder: a new site is built beside its
        place (a staging folder) and published by one rename."""
        if Staging.possible(self.out):
            target = self.out
            with Staging(target) as folder:
                self.out, self._write_file = folder, write_new
                try:
                    build()
                finally:
                    self.out = target
        else:
            self.out.mkdir(parents=True, exist_ok=True)
            build()

    @property
    def staged(self) -> bool:
        """Writing into a staging folder nobody sees before it is complete."""
        return self._write_file is write_new

    def open_manifest(self) -> Manifest:
        self.manifest = Manifest(self.out)
        return self.manifest

    def emit(self, page: Page) -> None:
        path, key, render, needs = page
        hashed = digest(self.config_hash, path, key)
        self.produced[path] = hashed
        assert self.manifest is not None
        if not self.full and self.manifest.get(path) == hashed:
            self.report.unchanged += 1
            return
        if self.deferred is not None:  # planned now, rendered by the workers later
            if needs:
                self.feed_needs[len(self.deferred)] = needs
            self.deferred.append((path, render))
            return
        self.report.rendered += 1
        if self.write(path, render):
            self.report.written += 1

    def write(self, path: str, render: Render) -> bool:
        content = render()
        data = content.encode("utf-8") if isinstance(content, str) else content
        return self._write_file(self.target(path), data)

    def write_data(self, path: str, data: bytes) -> bool:
        return self._write_file(self.target(path), data)

    def target(self, path: str) -> Path | str:
        # a string for a new file in a staging folder (pathlib's joining costs more than
        # writing a small file there)
        return f"{self.out}/{path}" if self._write_file is write_new else self.out / path

    def collect(self, results: list[tuple[str, str, bool]]) -> None:
        """Pages a worker rendered and wrote: (path, input hash, written)."""
        for path, hashed, written in results:
            self.produced[path] = hashed
            self.report.rendered += 1
            self.report.written += int(written)

    def remove(self, stale: Iterable[str]) -> set[str]:
        """Delete the stale pages (never the manifest's folder); the paths removed."""
        removed: set[str] = set()
        for path in sorted(stale):
            if MANIFEST_DIR in Path(path).parts:
                continue
            try:
                (self.out / path).unlink()
                self.report.deleted += 1
            except FileNotFoundError:
                pass
            removed.add(path)
        return removed

    def commit(self, removed: set[str], *, watermark: int, slugs: dict[str, str]) -> None:
        """Record the pages written and removed, after they are (one transaction)."""
        manifest = self.manifest
        assert manifest is not None
        manifest.commit(
            {p: h for p, h in self.produced.items() if manifest.get(p) != h},
            removed,
            watermark=watermark,
            config_hash=self.config_hash,
            slugs=slugs,
        )
