"""The build manifest: which page was rendered from which inputs.

A small SQLite file inside the output (``.finews/manifest.sqlite3``) holds
the input hash of every page, the store's change counter at the last build
and a hash of the templates and options.  It is updated in one transaction
after the pages are written, so a build that dies half-way is simply
redone by the next one.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

MANIFEST_DIR = ".finews"


class Manifest:
    def __init__(self, out: Path) -> None:
        folder = out / MANIFEST_DIR
        folder.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(folder / "manifest.sqlite3")
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS pages (path TEXT PRIMARY KEY, hash TEXT)")
        self.conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        self.meta: dict[str, str] = dict(self.conn.execute("SELECT key, value FROM meta"))
        self._cache: dict[str, str | None] = {}
        self._all = False

    def load_all(self) -> None:
        """Read every page's hash (a full build compares them all)."""
        self._cache = dict(self.conn.execute("SELECT path, hash FROM pages"))
        self._all = True

    def get(self, path: str) -> str | None:
        """The input hash the page was last built from (an incremental build asks
        about a few pages only, so they are read one by one, not all)."""
        if path not in self._cache and not self._all:
            row = self.conn.execute("SELECT hash FROM pages WHERE path = ?", (path,)).fetchone()
            self._cache[path] = row[0] if row else None
        return self._cache.get(path)

    def paths(self) -> list[str]:
        if not self._all:
            self.load_all()
        return list(self._cache)

    def under(self, prefix: str) -> list[str]:
        """Pages whose path starts with ``prefix``."""
        rows = self.conn.execute(
            "SELECT path FROM pages WHERE path >= ? AND path < ?", (prefix, prefix + "\uffff")
        )
        return [r[0] for r in rows]

    @property
    def watermark(self) -> int | None:
        value = self.meta.get("watermark")
        return int(value) if value is not None else None

    def slugs(self) -> dict[str, str]:
        return dict(json.loads(self.meta.get("slugs", "{}")))

    def commit(
        self,
        changed: dict[str, str],
        removed: set[str],
        *,
        watermark: int,
        config_hash: str,
        slugs: dict[str, str],
    ) -> None:
        with self.conn:
            self.conn.executemany(
                "INSERT OR REPLACE INTO pages (path, hash) VALUES (?, ?)", changed.items()
            )
            self.conn.executemany("DELETE FROM pages WHERE path = ?", [(p,) for p in removed])
            meta = {
                "watermark": str(watermark),
                "config": config_hash,
                "slugs": json.dumps(slugs, ensure_ascii=False, sort_keys=True),
            }
            self.conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", meta.items())

    def close(self) -> None:
        self.conn.close()
