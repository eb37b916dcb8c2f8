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
        self.pages: dict[str, str] = dict(self.conn.execute("SELECT path, hash FROM pages"))
        self.meta: dict[str, str] = dict(self.conn.execute("SELECT key, value FROM meta"))

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
