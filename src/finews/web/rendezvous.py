"""Where a running web app can be asked: ``finews search`` answered by ``finews serve``/``run``.

A new ``finews search`` process spends most of its time importing the store's machinery
(SQLAlchemy alone ≈ 0.2 s on a slow core) before it runs a query of a few milliseconds.
When a ``finews serve`` or ``finews run`` is already up on the same database, it has all
that loaded and its answers cached: asking it over HTTP takes the new process well under
0.4 s (issue #11, docs/benchmarks.md).

Once it serves, the web app announces itself with a small file in the user's cache
folder, ``servers/<key>/<pid>.json`` (the folder private to the user, the file mode 0600):
its address, its finews version and the random token it was started with.  ``<key>`` names
the database (a hash of its URL, a relative SQLite path made absolute), so a search only
ever asks a server of its own database; each server has its own file, so two servers of
one database do not take each other's announcement away.  The server names its token in
every search answer (``X-Finews-Token``): a stale file whose port another program (or
another finews) took cannot give the token, which only the user can read, and its answer
is ignored.  A server of another finews version is not asked (its ranking or snippets may
differ).  Anything that goes wrong on the way — no file, a refused connection, a timeout,
an error answer, a file that makes no sense — means the search runs in the process: asking
a server is never the only way to an answer.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from finews import __version__
from finews.search.quickseg import cache_folder

log = logging.getLogger("finews.search")

T = TypeVar("T")

HEADER = "X-Finews-Token"
TIMEOUT = 5.0
"""seconds to wait for a server's answer before searching in the process instead (a
server answers in milliseconds; one that has just started may take a second or two)"""


def store_key(db_url: str) -> str:
    """The database a server serves, as a folder name (a relative SQLite path is taken
    from the current folder, as the store opens it)."""
    prefix = "sqlite:///"
    if db_url.startswith(prefix):
        path = db_url[len(prefix) :].split("?", 1)[0]
        if path and path != ":memory:" and not os.path.isabs(path):
            db_url = prefix + os.path.abspath(path) + db_url[len(prefix) + len(path) :]
    return hashlib.sha256(db_url.encode("utf-8")).hexdigest()[:24]


def _folder(db_url: str) -> Path:
    return cache_folder() / "servers" / store_key(db_url)


class Announcement:
    """This process serves ``db_url`` at ``host:port``: written when the server is up,
    removed when it stops.  A cache folder that cannot be written only means searches do
    not come here."""

    def __init__(self, db_url: str, host: str, port: int, token: str) -> None:
        self.path = _folder(db_url) / f"{os.getpid()}.json"
        self.token = token
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        self.record = {"host": host, "port": port, "version": __version__, "token": self.token}
        self.written = False

    def write(self) -> None:
        try:
            servers = self.path.parent.parent
            servers.mkdir(mode=0o700, parents=True, exist_ok=True)
            servers.chmod(0o700)  # the folder names hash the database URLs: the user's only
            self.path.parent.mkdir(mode=0o700, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(json.dumps(self.record))
            os.replace(tmp, self.path)
            self.written = True
        except OSError as exc:
            log.debug("no search announcement (%s): searches will not ask this server", exc)

    def remove(self) -> None:
        if self.written:
            with contextlib.suppress(OSError):
                self.path.unlink()
            with contextlib.suppress(OSError):
                self.path.parent.rmdir()  # when it was the last server of its database
            self.written = False


def ask_server(
    db_url: str, params: dict[str, Any], accept: Callable[[dict[str, Any]], T | None]
) -> T | None:
    """The JSON API's answer to ``/api/search`` with ``params`` from a server of ``db_url``
    (the newest announced first), as ``accept`` reads it, or None when there is none to ask
    or none answered well.  ``accept`` gives None for an answer it cannot read: that server
    is passed over, as one that did not answer (wave 17: the command line's result keys
    grew two the API did not give, and every search quietly ran in the process again)."""
    try:
        announced = sorted(
            _folder(db_url).glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True
        )
    except OSError:
        return None
    for path in announced:
        answer = _ask(path, params, accept)
        if answer is not None:
            return answer
    return None


def _ask(
    path: Path, params: dict[str, Any], accept: Callable[[dict[str, Any]], T | None]
) -> T | None:
    connection = None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("version") != __version__:
            return None
        host, port, token = str(record["host"]), int(record["port"]), str(record["token"])
        query = urlencode({k: v for k, v in params.items() if v is not None})
        connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
        connection.request("GET", f"/api/search?{query}", headers={"Accept": "application/json"})
        response = connection.getresponse()
        body = response.read()
        if response.status != 200 or response.getheader(HEADER) != token:
            return None
        answer = json.loads(body)
    except Exception:  # whatever it is, the process searches itself
        return None
    finally:
        if connection is not None:
            connection.close()
    taken = accept(answer) if isinstance(answer, dict) else None
    if taken is None:
        log.warning(
            "the finews server at http://%s:%d/ gave an answer this command cannot read:"
            " searching here",
            host,
            port,
        )
        return None
    log.info("answered by the finews server at http://%s:%d/ (--local: search here)", host, port)
    return taken
