"""The one exception tree users can see.

Everything finews raises on purpose derives from :class:`FinewsError`; the
CLI turns these into a one-line message and an exit status, never a traceback.
Programming errors (``TypeError``, ``KeyError`` …) are deliberately *not*
wrapped, so they stay loud.

    FinewsError
    ├── ConfigError            bad settings file or FINEWS_* variable
    ├── StoreError             the database cannot be opened or written
    ├── RequestError           a parameter of a search or API request is not usable
    ├── OutputError            a built site or export could not be put in its place
    ├── InputError             one input item could not be understood
    │   └── JekyllFormatError  a post file that is not a post of the original site
    └── SourceError            an upstream could not be polled
        ├── FetchError         transport failure after retries (timeout, reset, 5xx …)
        └── UpstreamFormatError  the upstream answered, but not in the documented shape
"""

from __future__ import annotations


class FinewsError(Exception):
    """Root of every error finews raises deliberately."""


class ConfigError(FinewsError):
    """A setting is missing, malformed or out of range."""


class StoreError(FinewsError):
    """The store could not be opened, migrated or written."""


class RequestError(FinewsError):
    """A parameter a user gave a search or an API call cannot be used (a time that is
    not a time, an unknown sort); the CLI exits 2, the API answers 400."""


class OutputError(FinewsError):
    """A site or export was built but could not be published where it was asked for
    (another build published there first, the folder is not writable)."""


class _Located(FinewsError):
    """An error about one named thing; ``str(e)`` is ``"<thing>: <message>"``."""

    def __init__(self, message: str, context: str = "") -> None:
        super().__init__(message)
        self.context = context

    def __str__(self) -> str:
        base = super().__str__()
        return f"{self.context}: {base}" if self.context else base


class InputError(_Located):
    """One input item (a file, an upstream item) could not be understood.

    ``where`` names the item (a path, a source key and id) so that a report can
    say which one was skipped.
    """

    @property
    def where(self) -> str:
        return self.context


class JekyllFormatError(InputError):
    """A file is not a post in any layout of the original Jekyll site."""


class SourceError(_Located):
    """An upstream source could not be polled; ``source`` is its key."""

    @property
    def source(self) -> str:
        return self.context


class FetchError(SourceError):
    """The request failed at the transport or HTTP level, after any retries.

    ``status`` is the HTTP status when the server answered with an error (None for a
    timeout or a reset): a 404 says the endpoint moved, a 503 that it is busy."""

    def __init__(self, message: str, context: str = "", status: int | None = None) -> None:
        super().__init__(message, context)
        self.status = status


class UpstreamFormatError(SourceError):
    """The upstream answered, but not in the documented shape (``data: null``,
    an empty body, HTML where JSON was expected, …)."""
