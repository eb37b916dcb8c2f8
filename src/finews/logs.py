"""One log format for finews's lines and uvicorn's, on standard error.

Times are ISO 8601 with the zone (``2026-12-06T06:52:52+00:00``), not Rich's
``[12/06/26 06:52:52]`` (US order, two-digit year).  A line is never wrapped: a log read
by a program or ``grep`` needs one event per line, whether or not a terminal is
attached.  ``--log-format json`` writes one JSON object per line for log shippers.
The handler looks ``sys.stderr`` up at every line, so that a progress bar that
redirects standard error while it is shown keeps the log lines above it.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime

LOGGERS_WE_OWN = ("uvicorn", "uvicorn.error", "uvicorn.access", "celery")
"""Libraries that install their own handlers (another format): theirs are removed and
their records reach ours through the root logger."""


def _iso(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="seconds")


class TextFormatter(logging.Formatter):
    """``2026-12-06T06:52:52+00:00 WARNING finews.run: message`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info and logging.getLogger().level <= logging.DEBUG:
            message += " | " + self.formatException(record.exc_info).replace("\n", " | ")
        elif record.exc_info and record.exc_info[1] is not None:
            message += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
        message = message.replace("\r", " ").replace("\n", " | ")
        return f"{_iso(record)} {record.levelname} {record.name}: {message}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the exception)."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": _iso(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler on whatever ``sys.stderr`` is when a line is written."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass

    def handleError(self, record: logging.LogRecord) -> None:
        """Standard error closed under us: drop the line rather than print a traceback."""


_chosen = ["text"]


def chosen() -> tuple[int, str]:
    """(level, format) as configured: what a child process (the web app of ``finews run``)
    configures again, so that its lines look like its parent's."""
    return logging.getLogger().level, _chosen[0]


def configure_logging(level: int, log_format: str = "text") -> None:
    """Route every log line (finews, uvicorn, Celery) through one handler and format."""
    _chosen[0] = log_format
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for name in LOGGERS_WE_OWN:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
