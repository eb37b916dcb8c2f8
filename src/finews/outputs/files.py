"""Writing output files so that a reader never sees half of one.

Contains no business logic.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

_known_dirs: set[str] = set()
_counter = itertools.count()


def _ensure_dir(folder: Path) -> None:
    key = str(folder)
    if key not in _known_dirs:
        folder.mkdir(parents=True, exist_ok=True)
        _known_dirs.add(key)


def write_atomic(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    A reader sees the old file or the new one, never a part.  Returns False,
    writing nothing, when the file already holds exactly ``data``: unchanged
    outputs keep their modification times, which keeps incremental consumers
    (Jekyll, rsync, browsers) cheap.
    """
    try:
        if os.stat(path).st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        _ensure_dir(path.parent)
    tmp = path.parent / f".tmp-{os.getpid()}-{next(_counter)}-{path.name}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileNotFoundError:  # the folder was removed behind our back
        _known_dirs.discard(str(path.parent))
        _ensure_dir(path.parent)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True
