"""MCP servers as tool sources: `MCPServerStdio` (a subprocess) and `MCPServerHTTP` (streamable HTTP).

Each server object owns one background thread running one event loop, on which its MCP client session lives for
as long as it is connected. Sync runs, async runs on any event loop, and many concurrent runs all hand their
requests to that loop, so the session's streams only ever belong to the loop that opened them, and a sync
``agent.run`` costs no event loop per call. The connection opens on first use, reopens after the server crashed
(or stopped answering), and closes with `close`/`aclose` (the agent calls them).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import AsyncIterator, Callable, Collection, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import mcp.types as mcp_types
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError
from mcp.types.version import MODERN_PROTOCOL_VERSIONS

from ._tools import MCPTimeoutError, MCPTool, MCPToolError

__all__ = ["DEFAULT_TIMEOUT", "MCPServerError", "MCPServerHTTP", "MCPServerSSE", "MCPServerStdio"]

logger = logging.getLogger("mistral_agents.mcp")

T = TypeVar("T")

#: Seconds a tool call (and a listing) may take before it is a timeout error the model sees.
DEFAULT_TIMEOUT = 60.0
#: Seconds a server may take to start and answer the handshake.
DEFAULT_CONNECT_TIMEOUT = 30.0
#: At most this long to check that a server which timed out still answers.
_PROBE_TIMEOUT = 5.0
#: Seconds an SSE event stream may stay silent before the SDK drops it.
_SSE_IDLE = 24 * 3600.0

ToolFilter = Callable[[str], bool] | Collection[str]


class MCPServerError(RuntimeError):
    """An MCP server could not be started or listed (raised from the run; tool calls fail softly instead)."""


class _MCPServer:
    """What both transports share: the background loop, the connection, the tool cache and the calls."""

    def __init__(
        self,
        *,
        tool_filter: ToolFilter | None,
        prefix: str | None,
        timeout: float | None,
        requires_approval: bool | Collection[str],
        connect_timeout: float | None,
    ) -> None:
        if timeout is not None and not timeout > 0:
            raise ValueError("timeout must be a positive number of seconds, or None for no limit")
        if connect_timeout is not None and not connect_timeout > 0:
            raise ValueError("connect_timeout must be a positive number of seconds, or None for no limit")
        if prefix is not None and not (isinstance(prefix, str) and prefix):
            raise ValueError("prefix must be a non-empty string")
        if tool_filter is not None and not callable(tool_filter):
            if isinstance(tool_filter, str):
                raise TypeError("tool_filter takes a collection of names or a callable, not a single string")
            names = frozenset(tool_filter)
            tool_filter = names.__contains__
        self.tool_filter: Callable[[str], bool] | None = tool_filter
        self.prefix = prefix
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.requires_approval = requires_approval
        self._mode = "auto"  # the SDK's protocol negotiation ("legacy" pins the initialize handshake)
        self._lock = threading.Lock()  # guards the loop thread's start and stop
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        # Connection state: only touched on the server's own loop.
        self._client: Client | None = None
        self._holder: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None
        self._repair: asyncio.Task[Client] | None = None  # checking or reopening the connection
        self._retiring: set[asyncio.Task[None]] = set()  # connections being closed
        # The tool cache: read from any thread, replaced on the loop.
        self._tools: tuple[MCPTool, ...] | None = None
        self._stale = True

    # ------------------------------------------------------------------------------------ ToolSource
    def list_tools(self) -> Sequence[MCPTool]:
        """The server's tools (connecting first if needed); cached until the server says its list changed."""
        tools = self._tools
        if tools is not None and not self._stale and self._loop is not None:
            return tools
        return self._submit(self._list()).result()

    async def alist_tools(self) -> Sequence[MCPTool]:
        """`list_tools` from async code, on any event loop."""
        tools = self._tools
        if tools is not None and not self._stale and self._loop is not None:
            return tools
        return await asyncio.wrap_future(self._submit(self._list()))

    def close(self) -> None:
        """Disconnect (a stdio server's process ends) and stop the background loop; using it again reopens it."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()

    async def aclose(self) -> None:
        """`close` without blocking the caller's event loop."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._shutdown(), loop))
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join)

    def __enter__(self: T) -> T:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self: T) -> T:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # ------------------------------------------------------------------------------------ transports
    def _open(self) -> Client:
        """A new, not yet entered, SDK client for this server."""
        raise NotImplementedError

    def _client_options(self) -> dict[str, Any]:
        return {"cache": None, "mode": self._mode, "message_handler": self._on_message}

    # ------------------------------------------------------------------------------------ the loop
    def _submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=_serve_forever, args=(loop,), name=f"mcp {self!r}", daemon=True)
                self._client = self._holder = self._stop = self._repair = None
                self._retiring = set()
                self._stale = True
                thread.start()
                self._loop, self._thread = loop, thread
            return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    async def _call(self, name: str, arguments: dict[str, Any]) -> mcp_types.CallToolResult:
        """The caller handed to each tool: runs on the caller's loop, the call itself on the server's."""
        return await asyncio.wrap_future(self._submit(self._call_here(name, arguments)))

    # ------------------------------------------------------------------------------------ on the server's loop
    async def _list(self) -> tuple[MCPTool, ...]:
        client: Client | None = None
        try:
            client = await self._connection()
            self._stale = False  # a change announced while listing marks it stale again
            listed = await asyncio.wait_for(_list_all(client), self.timeout)
        except Exception as error:
            if client is not None:
                self._drop(client)
            self._stale = True
            if self._tools is not None:  # mid-run: keep the tools; their calls fail (and reconnect) on their own
                logger.warning("%r: listing its tools failed (%s); keeping the last list", self, _reason(error))
                return self._tools
            if isinstance(error, MCPServerError):
                raise
            raise MCPServerError(f"{self!r}: listing its tools failed: {_reason(error)}") from error
        kept = [t for t in listed if self.tool_filter is None or self.tool_filter(t.name)]
        tools = tuple(self._tool(t) for t in kept)
        previous = self._tools
        if previous is not None and [t.spec for t in previous] == [t.spec for t in tools]:
            return previous  # unchanged: the agent keeps its registry
        self._tools = tools
        return tools

    def _tool(self, listed: mcp_types.Tool) -> MCPTool:
        approval = self.requires_approval
        needs = approval if isinstance(approval, bool) else listed.name in approval
        return MCPTool(listed, self._call, prefix=self.prefix, requires_approval=needs)

    async def _call_here(self, name: str, arguments: dict[str, Any]) -> mcp_types.CallToolResult:
        try:
            client = await self._connection()
        except MCPServerError as error:
            raise MCPToolError(str(error)) from None
        try:  # the timeout is the server's answer time: (re)connecting has its own, connect_timeout
            return await asyncio.wait_for(client.call_tool(name, arguments), self.timeout)
        except (asyncio.TimeoutError, asyncio.CancelledError) as error:  # too slow, or the run gave up on it
            self._doubt(client)
            if isinstance(error, asyncio.CancelledError):
                raise
            raise MCPTimeoutError(f"the MCP server did not answer within {self.timeout:g} seconds") from None
        except MCPError as error:
            if error.code == mcp_types.CONNECTION_CLOSED:
                self._drop(client)
                raise MCPToolError(
                    "the MCP server closed the connection (it may have crashed); it is restarted at the next call"
                ) from None
            raise MCPToolError(f"the MCP server answered with an error: {error}") from None
        except Exception as error:
            self._drop(client)
            raise MCPToolError(
                f"calling the MCP server failed ({_reason(error)}); it is reconnected at the next call"
            ) from None

    async def _connection(self) -> Client:
        """The live session; a repair (check, or reconnect) in progress is awaited, or started."""
        client, holder = self._client, self._holder
        if self._repair is None and client is not None and holder is not None and not holder.done():
            return client
        if self._repair is None:
            self._repair = asyncio.create_task(self._restore())
        # shielded: a caller that gives up (its own timeout) does not abort a reconnect the next call needs
        return await asyncio.shield(self._repair)

    def _doubt(self, client: Client) -> None:
        """A call timed out: check, in the background, that the server still answers (else reconnect)."""
        if self._client is client and self._repair is None:
            self._repair = asyncio.create_task(self._restore())
            self._repair.add_done_callback(_consume)

    def _drop(self, client: Client) -> None:
        """Forget a broken connection: the next call opens a new one."""
        if self._client is client:
            self._client = None

    async def _restore(self) -> Client:
        try:
            client, holder = self._client, self._holder
            if client is not None and holder is not None and not holder.done():
                try:
                    await asyncio.wait_for(client.list_tools(), min(self.timeout or _PROBE_TIMEOUT, _PROBE_TIMEOUT))
                except Exception:
                    logger.warning("%r stopped answering; reconnecting", self)
                else:
                    return client
            self._retire()
            return await self._connect()
        finally:
            self._repair = None

    async def _connect(self) -> Client:
        ready: asyncio.Future[Client] = asyncio.get_running_loop().create_future()
        stop = asyncio.Event()
        holder = asyncio.create_task(self._hold(ready, stop))
        try:
            client = await asyncio.wait_for(ready, self.connect_timeout)
        except BaseException as error:
            stop.set()
            holder.cancel()
            with suppress(BaseException):
                await holder
            if isinstance(error, asyncio.CancelledError):
                raise
            raise MCPServerError(f"{self!r} could not be started: {_reason(error)}") from error
        self._client, self._holder, self._stop = client, holder, stop
        self._stale = True  # a new session lists its tools again (a restarted server may have others)
        return client

    def _retire(self) -> None:
        """Close the current connection in the background (a hung stdio server takes seconds to stop)."""
        if self._stop is not None:
            self._stop.set()
        if self._holder is not None:
            self._retiring.add(self._holder)
            self._holder.add_done_callback(self._retiring.discard)
        self._client = self._holder = self._stop = None

    async def _hold(self, ready: asyncio.Future[Client], stop: asyncio.Event) -> None:
        """Keep one connection open until ``stop``: the SDK's contexts are entered and left in this one task."""
        try:
            async with self._open() as client:
                watcher = asyncio.create_task(self._watch(client)) if _announces_changes(client) else None
                ready.set_result(client)
                try:
                    await stop.wait()
                finally:
                    if watcher is not None:
                        watcher.cancel()
                        with suppress(BaseException):
                            await watcher
        except BaseException as error:
            if not ready.done():
                if isinstance(error, asyncio.CancelledError):
                    ready.cancel()
                else:
                    ready.set_exception(error)
            elif not isinstance(error, asyncio.CancelledError):
                logger.debug("%r: the connection ended with %s", self, _reason(error))
            if isinstance(error, asyncio.CancelledError):
                raise

    async def _watch(self, client: Client) -> None:
        """2026-era servers announce list changes on a ``subscriptions/listen`` stream."""
        try:
            async with client.listen(tools_list_changed=True) as subscription:
                async for _event in subscription:
                    self._stale = True
        except Exception as error:
            logger.debug("%r: the tool-change subscription ended: %s", self, _reason(error))

    async def _on_message(self, message: Any) -> None:
        """Handshake-era servers send ``notifications/tools/list_changed``."""
        if isinstance(message, mcp_types.ToolListChangedNotification):
            self._stale = True

    async def _shutdown(self) -> None:
        """Disconnect, then end whatever still runs on the loop: a call in flight fails instead of hanging."""
        await self._disconnect()
        current = asyncio.current_task()
        others = [task for task in asyncio.all_tasks() if task is not current]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _disconnect(self) -> None:
        repair, self._repair = self._repair, None
        if repair is not None:
            repair.cancel()
            with suppress(BaseException):
                await repair
        self._retire()
        for holder in list(self._retiring):
            with suppress(BaseException):
                await holder


class MCPServerStdio(_MCPServer):
    """An MCP server run as a subprocess, spoken to over its stdin/stdout; put it in `Agent(tools=[...])`.

    The process starts on first use (the first run that lists tools), serves every run of every agent that
    holds this object, is restarted by the next call after it crashed or hung, and ends with
    [`close`][mistral_agents.mcp.MCPServerStdio.close] (the agent calls it when it closes).

    Args:
        command: The program, e.g. `"python"`, `"npx"`, `"uvx"`.
        args: Its arguments, e.g. `["weather_server.py"]`.
        env: Environment variables to add to the small safe set the MCP SDK passes on (`PATH`, `HOME`, ...):
            give the server what it needs, e.g. its API key.
        cwd: The working directory of the server.
        tool_filter: The server's tool names to keep (a collection), or a callable `name -> bool`.
        prefix: Tools are named `{prefix}_{name}`, to keep two servers' tools apart.
        timeout: Seconds the server may take to answer one call (then the model gets a timeout error);
            `None` for no limit. Starting or restarting the server is bounded by `connect_timeout` instead.
        requires_approval: `True` (every tool), or the server's names of the tools that need the agent's
            approver, as `@tool(requires_approval=True)`.
        connect_timeout: Seconds the server may take to start and answer the handshake.
    """

    def __init__(
        self,
        command: str,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        *,
        tool_filter: ToolFilter | None = None,
        prefix: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        requires_approval: bool | Collection[str] = False,
        connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
    ) -> None:
        if not isinstance(command, str) or not command:
            raise ValueError("command must be a non-empty string, e.g. 'python'")
        if isinstance(args, str):
            raise TypeError("args takes a list of arguments, e.g. ['server.py'], not a single string")
        super().__init__(
            tool_filter=tool_filter, prefix=prefix, timeout=timeout, requires_approval=requires_approval,
            connect_timeout=connect_timeout,
        )  # fmt: skip
        self.command = command
        self.args = list(args)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd

    def __repr__(self) -> str:
        return f"MCPServerStdio({self.command!r}, {self.args!r})"

    def _open(self) -> Client:
        parameters = StdioServerParameters(command=self.command, args=self.args, env=self.env, cwd=self.cwd)
        return Client(parameters, **self._client_options())


class MCPServerHTTP(_MCPServer):
    """An MCP server at a streamable HTTP endpoint, e.g. `http://127.0.0.1:8000/mcp`.

    Connects on first use, reconnects at the next call after the connection failed, disconnects with
    [`close`][mistral_agents.mcp.MCPServerHTTP.close].

    Args:
        url: The endpoint, `http://` or `https://`.
        headers: Sent with every request (an `Authorization` token, ...); never shown in `repr` or errors.
        tool_filter: As on [`MCPServerStdio`][mistral_agents.mcp.MCPServerStdio].
        prefix: As on `MCPServerStdio`.
        timeout: As on `MCPServerStdio`.
        requires_approval: As on `MCPServerStdio`.
        connect_timeout: Seconds to connect and answer the handshake.
    """

    def __init__(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        *,
        tool_filter: ToolFilter | None = None,
        prefix: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        requires_approval: bool | Collection[str] = False,
        connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
    ) -> None:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url must be an http(s) URL such as 'http://127.0.0.1:8000/mcp', got {url!r}")
        super().__init__(
            tool_filter=tool_filter, prefix=prefix, timeout=timeout, requires_approval=requires_approval,
            connect_timeout=connect_timeout,
        )  # fmt: skip
        self.url = url
        self._headers = dict(headers) if headers is not None else None
        port = f":{parts.port}" if parts.port else ""
        self._shown = f"{parts.scheme}://{parts.hostname}{port}{parts.path}"  # no credentials, no query

    def __repr__(self) -> str:
        return f"MCPServerHTTP({self._shown!r})"

    def _open(self) -> Client:
        return Client(self._transport(), **self._client_options())

    @asynccontextmanager
    async def _transport(self) -> AsyncIterator[Any]:
        async with (
            create_mcp_http_client(headers=self._headers) as http,
            streamable_http_client(self.url, http_client=http) as streams,
        ):
            yield streams


class MCPServerSSE(MCPServerHTTP):
    """An MCP server on the older HTTP+SSE transport (an SSE endpoint such as `http://127.0.0.1:8000/sse`).

    For servers that do not speak streamable HTTP yet; arguments and options as on
    [`MCPServerHTTP`][mistral_agents.mcp.MCPServerHTTP].
    """

    def __repr__(self) -> str:
        return f"MCPServerSSE({self._shown!r})"

    @asynccontextmanager
    async def _transport(self) -> AsyncIterator[Any]:
        # An idle event stream is not a dead server: wait long for the next event (calls have their own timeout).
        async with sse_client(self.url, headers=self._headers, sse_read_timeout=_SSE_IDLE) as streams:
            yield streams


async def _list_all(client: Client) -> list[mcp_types.Tool]:
    tools: list[mcp_types.Tool] = []
    cursor: str | None = None
    for _ in range(100):  # a paginator that never ends cannot hang a run
        page = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if cursor is None:
            break
    return tools


def _announces_changes(client: Client) -> bool:
    tools = client.server_capabilities.tools
    return bool(tools and tools.list_changed) and client.protocol_version in MODERN_PROTOCOL_VERSIONS


def _reason(error: BaseException) -> str:
    inner = getattr(error, "exceptions", None)  # an exception group (anyio task groups raise them)
    if isinstance(inner, tuple) and inner and isinstance(inner[0], BaseException):
        return _reason(inner[0])
    if isinstance(error, TimeoutError | asyncio.TimeoutError):
        return "timed out"
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _consume(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()  # a background check's failure is logged by it; the next call sees its own


def _serve_forever(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        loop.close()
