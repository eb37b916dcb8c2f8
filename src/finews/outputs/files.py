"""Writing output files so that a reader never sees half of one.

Two ways, one guarantee.  Into a folder readers already see, each file goes
through a temporary file and a rename (:func:`write_atomic`).  A folder that
does not exist yet is built beside its final place and renamed into it in one
step when it is complete (:class:`Staging`): nobody can read its files before
that, so they are written directly (:func:`write_new`), a third of the system
calls.

Contains no business logic.
"""

from __future__ import annotations

import itertools
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from finews.errors import OutputError

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


@contextmanager
def replaced_when_complete(path: Path) -> Iterator[TextIO]:
    """A text file written beside ``path`` that replaces it only when the ``with`` block
    ends without an error: an export stopped half-way (Ctrl-C, a full disk, a store
    error) leaves the previous file as it was, or none, never a part of one.  The folder
    must exist: a mistyped path is the user's to fix, not a folder to make.

    The file replaced keeps its permissions (a private export stays private), a symbolic
    link is followed (its target is replaced, the link stays), and what is no regular
    file — ``/dev/stdout``, a named pipe — is written to directly: it cannot be replaced."""
    if path.is_dir():
        raise IsADirectoryError(21, "Is a directory", str(path))
    real = path.resolve() if path.is_symlink() else path
    try:
        existing: os.stat_result | None = real.stat()
    except FileNotFoundError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        with open(real, "w", encoding="utf-8") as direct:
            yield direct
        return
    tmp = real.parent / f".tmp-{os.getpid()}-{next(_counter)}-{real.name}"
    try:
        handle = open(tmp, "x", encoding="utf-8")  # noqa: SIM115 — closed below, then renamed
    except OSError as exc:  # said of the file the user named, not of the temporary one
        raise type(exc)(exc.errno, exc.strerror, str(path)) from None
    try:
        if existing is not None:
            os.chmod(tmp, stat.S_IMODE(existing.st_mode))
        yield handle
        handle.close()
        os.replace(tmp, real)
    except BaseException:
        handle.close()
        tmp.unlink(missing_ok=True)
        raise


def write_new(path: Path | str, data: bytes) -> bool:
    """Write ``data`` to a file that must not exist yet, directly (no temporary file).

    For folders no reader sees until they are complete (:class:`Staging`).
    Returns True, like :func:`write_atomic` when it writes.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileNotFoundError:
        folder = Path(path).parent
        _known_dirs.discard(str(folder))
        _ensure_dir(folder)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view, done = memoryview(data), 0
        while done < len(data):  # os.write may write less than asked
            done += os.write(fd, view[done:])
    finally:
        os.close(fd)
    return True


class Staging:
    """A new output folder, built beside its final place and published by one rename.

    Used when ``target`` does not exist or is an empty folder: readers see
    nothing, then everything.  ``folder`` is where to write meanwhile (a hidden
    sibling of ``target``, on the same file system so that the rename is
    atomic); :meth:`publish` renames it to ``target`` (replacing the empty
    folder), :meth:`discard` removes it after a failure.
    """

    def __init__(self, target: Path) -> None:
        self.target = target
        self.folder = target.parent / f".{target.name}.building-{os.getpid()}"

    @staticmethod
    def possible(target: Path) -> bool:
        """Whether ``target`` can be built this way: it is missing or an empty folder
        (not a symbolic link, which the rename would replace)."""
        if target.is_symlink():
            return False
        if not target.exists():
            return True
        return target.is_dir() and not any(target.iterdir())

    def __enter__(self) -> Path:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self._remove_abandoned()
        self.folder.mkdir()
        if self.target.is_dir():
            os.chmod(self.folder, self.target.stat().st_mode & 0o7777)
        return self.folder

    def _remove_abandoned(self) -> None:
        """Staging folders of builds that died (their process is gone)."""
        for folder in self.target.parent.glob(f".{self.target.name}.building-*"):
            pid = folder.name.rpartition("-")[2]
            if pid.isdigit() and (int(pid) == os.getpid() or not _alive(int(pid))):
                shutil.rmtree(folder, ignore_errors=True)

    def publish(self) -> None:
        try:
            os.replace(self.folder, self.target)  # replaces an empty folder in one step
        except OSError as exc:  # e.g. another build published a site there meanwhile
            self.discard()
            raise OutputError(f"could not publish the new site at {self.target}: {exc}") from exc

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def __exit__(self, kind: object, error: object, tb: object) -> None:
        if error is None:
            self.publish()
        else:
            self.discard()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
