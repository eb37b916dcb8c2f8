"""`finews mcp` (issue #14) driven by the MCP SDK's own client: over stdio (the real command
in a subprocess) and over Streamable HTTP (the real server on 127.0.0.1), on a real store of
real flashes (tests/daydata.py).  Initialise, list the tools, call each one, validate inputs
and results against the schemas the server publishes, a bad argument is a tool error with a
clear message, and the bearer token holds over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult

from daydata import day_store

SRC = str(Path(__file__).resolve().parents[1] / "src")
GOLDEN = Path(__file__).parent / "golden" / "briefing"
TOOLS = {
    "search_news",
    "latest_news",
    "stock_news",
    "get_article",
    "get_story",
    "top_stories",
    "source_health",
}
FINEWS = [sys.executable, "-m", "finews"]
NOW_AFTER = 1781600000.0
DAY = {"since": "2026-06-16 07:00", "until": "2026-06-16 10:00"}


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mcp") / "finews.db"
    day_store(f"sqlite:///{path}").close()
    return path


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINEWS_")}
    env.update(
        PYTHONPATH=SRC,
        XDG_CONFIG_HOME=str(tmp / "xdg-config"),
        XDG_DATA_HOME=str(tmp / "xdg-data"),
        **extra,
    )
    return env


def _check(result: CallToolResult, schemas: dict[str, Any], name: str) -> dict[str, Any]:
    """A successful call: structured content valid against the tool's output schema, and the
    same JSON as text for clients that read only text."""
    assert not result.is_error, result.content
    data = result.structured_content
    assert isinstance(data, dict)
    jsonschema.validate(data, schemas[name])
    assert json.loads(result.content[0].text) == data  # type: ignore[union-attr]
    return data


def _error_text(result: CallToolResult) -> str:
    assert result.is_error
    return " ".join(getattr(c, "text", "") for c in result.content)


async def exercise(client: Client) -> dict[str, Any]:
    """Every tool once (and the mistakes), as an agent would use them."""
    listed = (await client.list_tools()).tools
    assert {t.name for t in listed} == TOOLS
    inputs = {t.name: t.input_schema for t in listed}
    outputs = {t.name: t.output_schema for t in listed}
    for t in listed:
        assert t.description and t.output_schema, t.name
        jsonschema.Draft202012Validator.check_schema(t.input_schema)
        assert t.annotations is not None and t.annotations.read_only_hint
    seen: dict[str, Any] = {}

    async def call(name: str, args: dict[str, Any]) -> dict[str, Any]:
        jsonschema.validate(args, inputs[name])
        seen[name] = _check(await client.call_tool(name, args), outputs, name)
        return seen[name]

    found = await call("search_news", {"query": "央行", **DAY, "limit": 5})
    assert found["items"], "央行 is in the slice"
    for item in found["items"]:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", item["time"])
        assert item["outlet"] and item["url"].startswith("http") and item["story"] >= 1
        assert "<" not in item["digest"]
    latest = await call("latest_news", {"since": "2026-06-16 09:30", "limit": 3})
    assert len(latest["items"]) == 3 and latest["truncated"]
    times = [i["time"] for i in latest["items"]]
    assert times == sorted(times, reverse=True)
    important = await call("latest_news", {"since": "2026-06-16 00:00", "important": True})
    assert important["items"] and all(i["important"] for i in important["items"])
    stock = await call("stock_news", {"stock": "宁波韵升"})
    assert stock["items"] and all(
        any(s["code"] == "600366.SH" for s in i["stocks"]) for i in stock["items"]
    )
    assert (await call("stock_news", {"stock": "600366"}))["items"] == stock["items"]
    top = await call("top_stories", {**DAY, "limit": 3})
    assert len(top["stories"]) == 3 and top["truncated"]
    heats = [(s["heat"]["outlets"], s["heat"]["reports"]) for s in top["stories"]]
    assert heats == sorted(heats, reverse=True) and heats[0][0] >= 2
    story = await call("get_story", {"story": top["stories"][0]["story"]})
    assert len(story["reports"]) == top["stories"][0]["heat"]["reports"]
    assert story["reports"][0]["first"] and story["reports"][0]["minutes_after_first"] == 0
    assert story["first_outlet"] == story["reports"][0]["outlet"]
    article = await call("get_article", {"id": found["items"][0]["id"]})
    assert article["text"] and "<p>" not in article["text"] and not article["truncated"]
    cut = await call("get_article", {"id": found["items"][0]["id"], "max_chars": 200})
    assert cut["truncated"] == (cut["chars"] > 200) and len(cut["text"]) <= 200
    health = await call("source_health", {})
    states = {s["source"]: s for s in health["sources"]}
    assert states["cls.telegraph"]["articles"] == 24

    # mistakes: tool errors with a message that says what to do, never a crash
    bad_limit = await client.call_tool("latest_news", {"limit": 100000})
    assert "limit" in _error_text(bad_limit)
    bad_type = await client.call_tool("get_story", {"story": "first"})
    assert "story" in _error_text(bad_type)
    missing = await client.call_tool("get_article", {"id": "cls.telegraph/0"})
    assert "no article 'cls.telegraph/0'" in _error_text(missing)
    bad_time = await client.call_tool("search_news", {"query": "央行", "since": "yesterday"})
    assert "since: not a time: 'yesterday'" in _error_text(bad_time)
    unknown = await client.call_tool("stock_news", {"stock": "宁波韵"})
    assert "unknown stock" in _error_text(unknown) and "宁波韵升" in _error_text(unknown)
    assert (await client.call_tool("no_such_tool", {})).is_error

    # the briefings as resources: the same Markdown as `finews briefing`
    listed_resources = (await client.list_resources()).resources
    assert [str(r.uri) for r in listed_resources] == ["finews://briefing/latest"]
    templates = (await client.list_resource_templates()).resource_templates
    assert [t.uri_template for t in templates] == ["finews://briefing/{date}/{session}"]
    read = await client.read_resource("finews://briefing/2026-06-16/close")
    text = read.contents[0].text  # type: ignore[union-attr]
    assert text == (GOLDEN / "2026-06-16-close.md").read_text(encoding="utf-8")
    assert read.contents[0].mime_type == "text/markdown"
    latest = await client.read_resource("finews://briefing/latest")
    assert latest.contents[0].text.startswith("# 金融消息 ")  # type: ignore[union-attr]
    # the client's mistakes in a URI: invalid params (-32602), not an internal error
    with pytest.raises(MCPError, match="not a date: '2026-02-30'") as bad_date:
        await client.read_resource("finews://briefing/2026-02-30/close")
    with pytest.raises(MCPError, match="session 'noon' is not one of") as bad_session:
        await client.read_resource("finews://briefing/2026-06-16/noon")
    assert bad_date.value.error.code == bad_session.value.error.code == -32602
    assert bad_date.value.error.data == {"uri": "finews://briefing/2026-02-30/close"}
    # a year past Python's dates (a period reaches a day either side): no traceback
    with pytest.raises(MCPError, match="a year from 1900 to 9998") as far:
        await client.read_resource("finews://briefing/9999-12-31/day")
    assert far.value.error.code == -32602
    return seen


def test_stdio_initialise_list_and_call_every_tool(store_path: Path, tmp_path: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "finews", "--db", str(store_path), "mcp"],
        env=_env(tmp_path),
    )

    async def main() -> dict[str, Any]:
        async with Client(params, mode="legacy") as client:  # the initialize handshake
            assert client.server_info is not None and client.server_info.name == "finews"
            assert "+08:00" in (client.instructions or "")
            return await exercise(client)

    seen = asyncio.run(main())
    assert set(seen) == TOOLS


class HttpServer:
    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc = proc
        self.url = url


@pytest.fixture
def http_server(store_path: Path, tmp_path: Path) -> Iterator[HttpServer]:
    config = tmp_path / "config.toml"
    config.write_text('[mcp]\ntoken = "s3cret-token"\nmax_results = 30\n', encoding="utf-8")
    proc = subprocess.Popen(
        [*FINEWS, "--db", str(store_path), "--config", str(config), "mcp", "--http", "--port", "0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=_env(tmp_path),
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/mcp)", line)
        assert match, line
        assert "bearer token required" in line
        yield HttpServer(proc, match.group(1))
    finally:
        proc.terminate()
        proc.wait(10)
        assert proc.stderr is not None
        proc.stderr.close()


@contextlib.asynccontextmanager
async def _client(url: str, token: str | None, mode: str = "legacy") -> AsyncIterator[Client]:
    """The SDK's client over Streamable HTTP, sending the token (the SDK's own HTTP client,
    httpx2, carries the header)."""
    import httpx2

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,
    ):
        yield client


def test_http_serves_every_tool_behind_the_token(http_server: HttpServer) -> None:
    async def main() -> dict[str, Any]:
        async with _client(http_server.url, "s3cret-token") as client:
            seen = await exercise(client)
            # the limit's bound in the schema is the setting's (30), and it holds
            listed = {t.name: t for t in (await client.list_tools()).tools}
            assert listed["latest_news"].input_schema["properties"]["limit"]["maximum"] == 30
            assert "limit" in _error_text(await client.call_tool("latest_news", {"limit": 31}))
        async with _client(http_server.url, "s3cret-token", mode="auto") as client:
            assert {t.name for t in (await client.list_tools()).tools} == TOOLS
        return seen

    assert set(asyncio.run(main())) == TOOLS


def test_http_refuses_requests_without_the_token(http_server: HttpServer) -> None:
    hello = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    headers = {"Accept": "application/json, text/event-stream"}
    for given in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-token"}):
        response = httpx.post(http_server.url, json=hello, headers={**headers, **given})
        assert response.status_code == 401
        assert "Bearer" in response.headers["www-authenticate"]
    good = httpx.post(
        http_server.url, json=hello, headers={**headers, "Authorization": "Bearer s3cret-token"}
    )
    assert good.status_code == 200, good.text

    async def main() -> None:
        async with _client(http_server.url, "wrong") as client:
            await client.list_tools()

    with pytest.raises(Exception) as refused:  # the SDK's client cannot even initialise
        asyncio.run(main())
    assert "MCPError" in repr(refused.value)


def test_mcp_on_a_missing_database_is_one_error_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "finews", "--db", str(tmp_path / "none.db"), "mcp"],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: no database at"), proc.stderr
    assert proc.stdout == "" and not (tmp_path / "none.db").exists()


def test_source_health_follows_polls_and_writes(store_path: Path, tmp_path: Path) -> None:
    """The per-source counts are kept between calls, never past a poll or a new article."""
    import shutil

    from daydata import day_articles
    from finews.agent.tools import Tools
    from finews.config import load_settings
    from finews.store import Store

    db = tmp_path / "copy.db"
    shutil.copy(store_path, db)
    with Store.open(f"sqlite:///{db}") as store:
        tools = Tools(store, load_settings(env={}), now=NOW_AFTER)
        before = {s.source: s for s in tools.source_health().sources}
        assert before["ths.flash"].health == "unknown" and before["ths.flash"].articles == 20
        store.record_poll("ths.flash", ok=False, error="HTTP 503", now=NOW_AFTER)
        failing = {s.source: s for s in tools.source_health().sources}["ths.flash"]
        assert failing.health == "failing" and "HTTP 503" in failing.reason
        store.delete([day_articles()[0].key])
        after = {s.source: s for s in tools.source_health().sources}
        gone = day_articles()[0].source
        assert after[gone].articles == before[gone].articles - 1


def test_the_tools_read_filters_as_every_face_does(store_path: Path, tmp_path: Path) -> None:
    """Wave 9's review: the MCP tools passed a stock's name and an outlet given as the source
    to the store as they were (0 results), where the page, the API and the feeds now resolve
    them (finews.search.filters)."""
    import shutil

    from finews.agent.tools import Tools
    from finews.config import load_settings
    from finews.store import Store

    db = tmp_path / "copy.db"
    shutil.copy(store_path, db)
    with Store.open(f"sqlite:///{db}") as store:
        tools = Tools(store, load_settings(env={}), now=NOW_AFTER)
        by_media = tools.search_news("央行", media="财联社", **DAY)
        by_source = tools.search_news("央行", source="财联社", **DAY)
        assert by_media.items and by_source.total == by_media.total
        latest = tools.latest_news(source="财联社", since=DAY["since"])
        assert latest.items and all(i.outlet == "财联社" for i in latest.items)
        tagged = next(
            i
            for i in tools.latest_news(since=DAY["since"], limit=50).items
            if i.stocks and i.stocks[0].name and i.stocks[0].code[0].isdigit()
        )
        name, code = tagged.stocks[0].name, tagged.stocks[0].code
        by_name = tools.search_news(name, stock=name, **DAY)
        by_code = tools.search_news(name, stock=code, **DAY)
        assert by_code.items and [i.id for i in by_name.items] == [i.id for i in by_code.items]
