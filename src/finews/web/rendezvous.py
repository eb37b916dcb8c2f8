"""Where a running web app can be asked: ``finews search`` answered by ``finews serve``/``run``.

A new ``finews search`` process spends most of its time importing the store's machinery
(SQLAlchemy alone ≈ 0.2 s on a slow core) before it runs a query of a few milliseconds.
When a ``finews serve`` or ``finews run`` is already up on the same database, it has all
that loaded and its answers cached: asking it over HTTP takes the new process well under
0.4 s (issue #11, docs/benchmarks.md).

The web app announces itself with a small file in the user's cache folder
(``servers/<key>.json``: its address and process), where ``<key>`` is a hash of the
database URL — so a search is only ever answered by a server of *its* database.  The
server also names the key in every search answer (``X-Finews-Store``): a stale file whose
port another program (or another finews of another database) took is told apart and
ignored.  Anything that goes wrong on the way — no file, a refused connection, a timeout,
an error answer — means the search runs in the process as before: asking a server is
never the only way to an answer, and never changes it.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from finews.search.quickseg import cache_folder

log = logging.getLogger("finews.search")

HEADER = "X-Finews-Store"
TIMEOUT = 5.0
"""seconds to wait for a server's answer before searching in the process instead (a
server answers in milliseconds; one that is still starting may take a second or two)"""


def store_key(db_url: str) -> str:
    """The database a server serves, as a name that does not reveal its password."""
    return hashlib.sha256(db_url.encode("utf-8")).hexdigest()[:24]


def _announcement(db_url: str) -> Path:
    return cache_folder() / "servers" / f"{store_key(db_url)}.json"


@contextlib.contextmanager
def announced(db_url: str, host: str, port: int) -> Iterator[None]:
    """Say where this process serves ``db_url`` for as long as the block runs.

    A cache folder that cannot be written only means searches do not come here."""
    path = _announcement(db_url)
    ask = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    if ask == "::":
        ask = "::1"
    record = json.dumps({"host": ask, "port": port, "pid": os.getpid()})
    written = False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(record)
        os.replace(tmp, path)
        written = True
    except OSError:
        pass
    try:
        yield
    finally:
        if written:
            with contextlib.suppress(OSError, ValueError):
                # only our own announcement: another server of the same database may
                # have announced itself since
                if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
                    path.unlink()


def ask_server(db_url: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON API's answer to ``/api/search`` with ``params`` from a server of ``db_url``,
    or None when there is none to ask (or it did not answer well)."""
    try:
        record = json.loads(_announcement(db_url).read_text(encoding="utf-8"))
        host, port = str(record["host"]), int(record["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    query = urlencode({k: v for k, v in params.items() if v is not None})
    connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
    try:
        connection.request("GET", f"/api/search?{query}", headers={"Accept": "application/json"})
        response = connection.getresponse()
        body = response.read()
        if response.status != 200 or response.getheader(HEADER) != store_key(db_url):
            return None
        answer = json.loads(body)
    except (OSError, ValueError, http.client.HTTPException):
        return None
    finally:
        connection.close()
    if not isinstance(answer, dict):
        return None
    log.info("answered by the finews server at http://%s:%d/ (--local: search here)", host, port)
    return answer
