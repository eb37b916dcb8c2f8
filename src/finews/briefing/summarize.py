"""The summarizer hook (issue #14): a command of the user's own (a local model, a script
calling a service they chose) reads the briefing's Markdown on standard input and prints a
summary on standard output.  Off unless ``briefing.summarizer`` is set: finews itself never
sends news anywhere.  A summarizer that fails (exit status, timeout, nothing printed, not
found) is logged and the briefing goes out without its summary — never lost for it."""

from __future__ import annotations

import logging
import shlex
import subprocess

log = logging.getLogger("finews.briefing")

MAX_SUMMARY = 4000
"""Characters of a summary kept: a runaway command cannot flood a push or a page."""


def summarize(command: str, markdown: str, timeout: float) -> str:
    """What ``command`` prints for ``markdown`` on its standard input ('' when it fails)."""
    if not command.strip():
        return ""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        log.warning("briefing.summarizer %r is not a command line: %s", command, exc)
        return ""
    try:
        done = subprocess.run(
            argv,
            input=markdown,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        log.warning("briefing.summarizer took more than %.0f s: briefing sent without it", timeout)
        return ""
    except OSError as exc:
        log.warning("briefing.summarizer %r cannot run: %s", argv[0], exc.strerror or exc)
        return ""
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(nothing on stderr)"])[-1]
        log.warning("briefing.summarizer exited %d: %s", done.returncode, last[:300])
        return ""
    summary = done.stdout.strip()
    if not summary:
        log.warning("briefing.summarizer printed nothing")
    return summary[:MAX_SUMMARY]
