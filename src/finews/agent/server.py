"""``finews mcp``: the Model Context Protocol server (issue #14), on the official SDK.

The tools of :mod:`finews.agent.tools` are registered with typed arguments (pydantic
``Field`` constraints become the input schema) and typed results (their models become the
output schema; results go out as structured content and as its JSON text).  Transports:

- **stdio** (the default): what desktop clients start as a subprocess; nothing but
  protocol messages goes to standard output (logs go to standard error);
- **Streamable HTTP** (``--http``): on ``mcp.host`` (loopback unless told otherwise) at
  ``mcp.path``; when ``mcp.token`` is set every request must carry
  ``Authorization: Bearer <token>`` — checked before the SDK sees the request, in constant
  time, answered 401 otherwise.

Errors never reach a client as an exception: arguments that fail the schema, and the
mistakes the tools detect (:class:`~finews.errors.FinewsError`), come back as MCP tool
errors (``isError``) with a one-line message (:class:`FinewsServer`: ``limit: at most 50
(got 1000)``, not pydantic's dump); anything unexpected as the SDK's generic tool error,
logged here with its traceback.
"""

# no `from __future__ import annotations`: the SDK reads the tools' annotations, and the
# limit's bound (a local, from the settings) must be evaluated where the tools are defined
import difflib
import hmac
import json
import logging
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError, UnexpectedToolError
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolResult, InputRequiredResult, ToolAnnotations
from pydantic import Field, ValidationError

from finews.agent.tools import (
    ArticleText,
    NewsList,
    SourceHealth,
    StoryList,
    StoryView,
    Tools,
)
from finews.config import Settings
from finews.errors import FinewsError, InputError, RequestError

log = logging.getLogger("finews.mcp")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

INSTRUCTIONS = (
    "finews: Chinese financial news (财联社, 东方财富, 同花顺 …) gathered into one store. "
    "Times are Beijing time (+08:00). Cite items by title, outlet, time and url. "
    "search_news finds articles by words, names or stock codes; latest_news lists the newest; "
    "stock_news gives one stock's timeline; get_article returns one article's full text; "
    "get_story every report of a story and who was first; top_stories the most widely "
    "reported stories of a period; source_health how each upstream is doing. "
    "An empty answer's note says why and what to try (another period, search_news). "
    "Resources finews://briefing/latest and finews://briefing/{date}/{session} hold the "
    "daily briefings (morning, close) as Markdown."
)

Since = Annotated[
    str | None,
    Field(description="not older than: 2026-08-01, '2026-08-01 09:30' (Beijing), or 30m, 24h, 7d"),
]
Until = Annotated[str | None, Field(description="older than this time (same forms as since)")]
Source = Annotated[
    str | None,
    Field(description="only this finews source key: cls.telegraph, eastmoney.fast, ths.flash …"),
]
StockArg = Annotated[
    str | None, Field(description="only articles tagged with this stock: 600519, 600519.SH")
]


T = TypeVar("T")


def _guard(call: Callable[[], T]) -> T:
    """A user's mistake as a tool error with its message; a bug logged, then re-raised
    (the SDK answers it as a generic tool error)."""
    try:
        return call()
    except FinewsError as exc:
        raise ToolError(str(exc)) from None
    except Exception:
        log.exception("tool failed")
        raise


class FinewsServer(MCPServer[Any]):
    """The SDK's server, its tool errors in one line (wave 10).

    The SDK answers arguments that fail the input schema with pydantic's dump (``1
    validation error for search_newsArguments … For further information visit
    https://errors.pydantic.dev/…``) and prefixes every tool error with ``Error executing
    tool <name>:``.  Both are converted here, the one place every call passes
    (:meth:`MCPServer.call_tool`, which the SDK's request handler calls): an argument's
    mistake becomes ``limit: at most 50 (got 1000)``, a mistake a tool finds its own
    message.  A crash stays the SDK's generic error (its text never reaches the client)."""

    _parameters: dict[str, list[str]] | None = None

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        unknown = await self._unknown_arguments(name, arguments or {})
        if unknown:
            raise ToolError(unknown)
        try:
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError:
            raise
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                raise ToolError(argument_errors(cause)) from cause
            if isinstance(cause, ToolError | ResourceError):
                raise ToolError(str(cause)) from cause
            raise

    async def _unknown_arguments(self, name: str, arguments: dict[str, Any]) -> str:
        """An argument the tool does not take, said (``until: no such argument; latest_news
        takes limit, since, source``), or "".  The SDK drops unknown names silently: a
        mistyped filter (``stocks`` for ``stock``, ``until`` on a tool that has none) gave
        unfiltered answers without a word (wave 13's walk: 1,014 articles for a window of
        one minute)."""
        if self._parameters is None:
            listed = await self.list_tools()
            self._parameters = {
                t.name: sorted(t.input_schema.get("properties", {})) for t in listed
            }
        known = self._parameters.get(name)
        if known is None:
            return ""  # an unknown tool: the SDK's own error
        said = []
        for given in sorted(set(arguments) - set(known)):
            near = difflib.get_close_matches(given, known, n=1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            said.append(f"{given}: no such argument{hint}")
        if not said:
            return ""
        takes = ", ".join(known) if known else "no arguments"
        return "; ".join(said) + f"; {name} takes {takes}"


_SAID = {
    "less_than_equal": "at most {le}",
    "less_than": "less than {lt}",
    "greater_than_equal": "at least {ge}",
    "greater_than": "more than {gt}",
    "string_too_short": "at least {min_length} characters",
    "string_too_long": "at most {max_length} characters",
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "a string",
    "missing": "required",
}


def argument_errors(exc: ValidationError) -> str:
    """pydantic's validation errors in one line an agent can act on: ``limit: at most 50
    (got 1000)``; ``story: a whole number (got "abc")``; several joined by ``; ``."""
    said = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        kind = error["type"]
        text = _SAID[kind].format(**error.get("ctx", {})) if kind in _SAID else error["msg"]
        if kind == "string_too_short" and error.get("ctx", {}).get("min_length") == 1:
            text = "must not be empty"
        if kind != "missing":
            given = json.dumps(error.get("input"), ensure_ascii=False, default=str)
            text += f" (got {given if len(given) <= 40 else given[:39] + '…'})"
        said.append(f"{where}: {text}")
    return "; ".join(said)


def build_server(tools: Tools) -> MCPServer[Any]:
    """The MCPServer with finews' tools and briefing resources."""

    most = tools.settings.mcp.max_results
    Limit = Annotated[int, Field(ge=1, le=most, description=f"items to return (1..{most})")]
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)
    server = FinewsServer(
        "finews",
        title="finews — 金融消息",
        instructions=INSTRUCTIONS,
        version=_version(),
        log_level="WARNING",
    )

    @server.tool(annotations=read_only)
    def search_news(
        query: Annotated[
            str,
            Field(
                min_length=1,
                max_length=200,
                description="words, a phrase in quotes, a name (英伟达) or a stock code",
            ),
        ],
        source: Source = None,
        media: Annotated[str | None, Field(description="only this outlet: 财联社 …")] = None,
        stock: StockArg = None,
        since: Since = None,
        until: Until = None,
        important: Annotated[bool, Field(description="only important (加红) items")] = False,
        recent: Annotated[bool, Field(description="newest first instead of best first")] = False,
        limit: Limit = 10,
        offset: Annotated[int, Field(ge=0, le=10000, description="skip this many")] = 0,
    ) -> NewsList:
        """Full-text search of the stored news in Chinese and English, best match first."""
        return _guard(
            lambda: tools.search_news(
                query,
                source=source,
                media=media,
                stock=stock,
                since=since,
                until=until,
                important=important,
                recent=recent,
                limit=limit,
                offset=offset,
            )
        )

    @server.tool(annotations=read_only)
    def latest_news(
        since: Since = None,
        source: Source = None,
        important: Annotated[bool, Field(description="only important (加红) items")] = False,
        stock: Annotated[
            str | None, Field(description="only this stock: a code (600519) or a name (贵州茅台)")
        ] = None,
        limit: Limit = 20,
    ) -> NewsList:
        """The newest articles, newest first, optionally narrowed."""
        return _guard(
            lambda: tools.latest_news(
                since=since, source=source, important=important, stock=stock, limit=limit
            )
        )

    @server.tool(annotations=read_only)
    def stock_news(
        stock: Annotated[
            str,
            Field(min_length=1, max_length=40, description="a code (600519, 600519.SH) or a name"),
        ],
        since: Since = None,
        until: Until = None,
        limit: Limit = 20,
    ) -> NewsList:
        """One stock's news timeline, newest first (articles tagged with the stock)."""
        return _guard(lambda: tools.stock_news(stock, since=since, until=until, limit=limit))

    @server.tool(annotations=read_only)
    def get_article(
        id: Annotated[
            str,
            Field(
                min_length=3,
                max_length=300,
                description="source/upstream_id, as an item's id gives it",
            ),
        ],
        max_chars: Annotated[
            int | None, Field(ge=200, description="cut the text here (at most mcp.max_chars)")
        ] = None,
    ) -> ArticleText:
        """One article's full text, cleaned to plain text (never HTML)."""
        return _guard(lambda: tools.get_article(id, max_chars=max_chars))

    @server.tool(annotations=read_only)
    def get_story(
        story: Annotated[int, Field(ge=1, description="a story id, as an item's story gives it")],
        limit: Annotated[
            int | None, Field(ge=1, le=most, description="reports to return, oldest first")
        ] = None,
    ) -> StoryView:
        """Every report of one story in time order, and who reported it first (首发)."""
        return _guard(lambda: tools.get_story(story, limit=limit))

    @server.tool(annotations=read_only)
    def top_stories(
        since: Annotated[
            str, Field(description="the period's start: 24h, 7d, 2026-08-01, '2026-08-01 09:30'")
        ] = "24h",
        until: Until = None,
        limit: Limit = 10,
    ) -> StoryList:
        """The period's stories, most widely reported first (outlets, reports, importance)."""
        return _guard(lambda: tools.top_stories(since=since, until=until, limit=limit))

    @server.tool(annotations=read_only)
    def source_health() -> SourceHealth:
        """How each upstream source is doing: ok, stale, failing or unknown, and why."""
        return _guard(tools.source_health)

    @server.resource(
        "finews://briefing/latest",
        name="briefing-latest",
        title="最新简报",
        description="The briefing of the latest session that has ended: a trading day's "
        "morning (the previous trading day's 15:30 to 08:00 Beijing time) from 08:00, its "
        "close (08:00 to 15:30) from 15:30; before 08:00, at weekends and on exchange "
        "holidays the previous trading day's close; Markdown with links",
        mime_type="text/markdown",
    )
    def briefing_latest() -> str:
        return _resource(tools.briefing, "finews://briefing/latest")

    @server.resource(
        "finews://briefing/{date}/{session}",
        name="briefing",
        title="简报",
        description="The briefing of a day (2026-06-16) and session: morning (the previous "
        "trading day's 15:30 to 08:00) or close (08:00 to 15:30) of a trading day, or day "
        "(any day, 00:00 to 24:00); Markdown with links",
        mime_type="text/markdown",
    )
    def briefing_of(date: str, session: str) -> str:
        return _resource(
            lambda: tools.briefing(date, session), f"finews://briefing/{date}/{session}"
        )

    return server


def _resource(call: Callable[[], str], uri: str) -> str:
    """A resource's text, or a resource error with the user's mistake as its message:
    a date or session the URI got wrong is the client's (-32602, invalid params), as
    JSON-RPC says; anything else — the store unreadable — the server's (-32603)."""
    try:
        return call()
    except (RequestError, InputError) as exc:
        raise MCPError(code=INVALID_PARAMS, message=str(exc), data={"uri": uri}) from None
    except FinewsError as exc:
        raise ResourceError(str(exc)) from None


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("finews")
    except PackageNotFoundError:
        return "0"


def bearer_guard(app: ASGIApp, token: str) -> ASGIApp:
    """Wrap an ASGI app: HTTP requests without ``Authorization: Bearer <token>`` get 401."""
    expected = f"Bearer {token}".encode()

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = b""
            for name, value in scope.get("headers", []):
                if name.lower() == b"authorization":
                    given = value
                    break
            if not hmac.compare_digest(given, expected):
                body = b'{"error":"unauthorized: send Authorization: Bearer <mcp.token>"}'
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"www-authenticate", b'Bearer realm="finews"'),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await app(scope, receive, send)

    return guarded


def http_app(server: MCPServer[Any], settings: Settings, host: str) -> ASGIApp:
    """The Streamable HTTP app, behind the bearer check when a token is set."""
    app: ASGIApp = server.streamable_http_app(
        streamable_http_path=settings.mcp.path, json_response=True, host=host
    )
    return bearer_guard(app, settings.mcp.token) if settings.mcp.token else app


def serve_http(server: MCPServer[Any], settings: Settings, sock: socket.socket, host: str) -> None:
    import uvicorn

    config = uvicorn.Config(
        http_app(server, settings, host),
        log_level="warning",
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=3,
    )
    uvicorn.Server(config).run(sockets=[sock])


def serve_stdio(server: MCPServer[Any]) -> None:
    server.run("stdio")
