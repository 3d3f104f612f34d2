"""A real MCP server written with the official SDK's ``MCPServer``, for the tests.

python toolbox_server.py              # stdio
python toolbox_server.py --http PORT  # streamable HTTP on 127.0.0.1:PORT/mcp
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, EmbeddedResource, ImageContent, ResourceLink, TextResourceContents

app = MCPServer("toolbox")


@app.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@app.tool()
def pid() -> int:
    """The server's process id."""
    return os.getpid()


@app.tool()
def refuse(reason: str) -> str:
    """Always fails, with the reason (an MCP error result)."""
    raise ToolError(reason)


@app.tool()
def boom() -> str:
    """Raises an unexpected exception."""
    raise ValueError("an internal detail")


@app.tool()
def crash() -> str:
    """Ends the server process at once."""
    os._exit(3)


@app.tool()
async def nap(seconds: float, tag: str = "") -> dict[str, object]:
    """Sleep without blocking the server; say when the nap started and ended."""
    start = time.monotonic()
    await asyncio.sleep(seconds)
    return {"tag": tag, "start": start, "end": time.monotonic()}


@app.tool()
async def freeze(seconds: float) -> str:
    """Block the server's event loop: it answers nothing meanwhile."""
    time.sleep(seconds)  # noqa: ASYNC251 - on purpose: a hung server
    return "thawed"


@app.tool()
def report() -> CallToolResult:
    """Structured content only."""
    return CallToolResult(content=[], structured_content={"open": 3, "closed": 5})


@app.tool()
def chart() -> CallToolResult:
    """Text, an image, an embedded text resource and a resource link."""
    return CallToolResult(
        content=[
            ImageContent(data="iVBORw0KGgo=", mime_type="image/png"),
            EmbeddedResource(resource=TextResourceContents(uri="file:///notes.txt", text="the notes")),
            ResourceLink(uri="file:///big.csv", name="big.csv", mime_type="text/csv"),
        ]
    )


@app.tool(name="weather.get")
def weather_get(city: str) -> str:
    """A dotted name, which the Mistral API would refuse."""
    return f"sunny in {city}"


@app.tool()
async def grow(ctx: Context) -> str:
    """Add a tool named `hello` and announce that the tool list changed."""
    app.add_tool(lambda: "hello!", name="hello", description="Say hello.")
    await ctx.notify_tools_changed()  # 2026-era clients: the subscriptions/listen stream
    with contextlib.suppress(Exception):  # handshake-era clients: notifications/tools/list_changed
        await ctx.session.send_tool_list_changed()
    return "grown"


if __name__ == "__main__":
    if sys.argv[1:2] == ["--http"]:
        app.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    elif sys.argv[1:2] == ["--sse"]:
        app.run("sse", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        app.run()
