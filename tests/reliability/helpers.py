"""Helpers for the reliability tests: clients of both flavours on real loopback HTTP, fault servers, probes."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx

from mistral_agents import MistralAsyncClient, MistralClient, RetryPolicy
from mistral_agents.models.chat_completion import ChatCompletionStreamResponse

MODEL = "mistral-large-latest"
MESSAGES = [{"role": "user", "content": "hi"}]
#: A key that must never show up anywhere it should not.
KEY = "sk-reliability-5ECRET-0123456789abcdef"

Client = MistralClient | MistralAsyncClient


class Sleeps(list[float]):
    """A :class:`RetryPolicy` whose sleeps are recorded, not slept."""

    def policy(self, **options: Any) -> RetryPolicy:
        async def async_sleep(seconds: float) -> None:
            self.append(seconds)

        return RetryPolicy(sleep=self.append, async_sleep=async_sleep, **options)


class Flavour:
    """Runs the same scenario with the sync client (in a worker thread) or the async client; a mode ending in
    ``-httpx2`` runs that flavour on ``http_backend="httpx2"``, ``aiohttp`` the async client on aiohttp."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.is_sync = mode.startswith("sync")
        self.clients: list[Client] = []

    def __repr__(self) -> str:
        return self.mode

    def client(self, url: str, **options: Any) -> Client:
        options.setdefault("max_retries", 0)
        if self.mode == "aiohttp":  # the async client on its opt-in aiohttp backend
            options["http_backend"] = "aiohttp"
        elif self.mode.endswith("-httpx2"):
            options["http_backend"] = "httpx2"
        client: Client = (MistralClient if self.is_sync else MistralAsyncClient)(endpoint=url, **options)
        self.clients.append(client)
        return client

    async def chat(self, client: Client, **request: Any) -> Any:
        request = {"model": MODEL, "messages": MESSAGES, **request}
        if isinstance(client, MistralClient):
            return await asyncio.to_thread(lambda: client.chat(**request))
        return await client.chat(**request)

    async def stream(self, client: Client, received: list[ChatCompletionStreamResponse], **request: Any) -> None:
        """Consume a stream into ``received`` chunk by chunk (so a failure leaves what arrived before it)."""
        request = {"model": MODEL, "messages": MESSAGES, **request}
        if isinstance(client, MistralClient):

            def consume() -> None:
                for chunk in client.chat_stream(**request):
                    received.append(chunk)

            await asyncio.to_thread(consume)
        else:
            async for chunk in client.chat_stream(**request):
                received.append(chunk)

    async def close(self) -> None:
        for client in self.clients:
            if isinstance(client, MistralAsyncClient):
                await client.close()
            else:
                client.close()


def pool_of(client: Client) -> Any:
    """The connection pool behind a client that owns its ``httpx`` client (the async client's: the running
    loop's ``AsyncPool``; the sync client's: httpcore's)."""
    http = client._http if client._http is not None else client._pools.get()  # type: ignore[union-attr]
    session = getattr(http, "session", None)
    if session is not None:  # the aiohttp backend
        return AiohttpPool(session.connector)
    if hasattr(http, "pool"):  # our own pool, driven directly
        return http.pool
    transport = http._transport
    return getattr(transport, "_pool", transport)


class AiohttpPool:
    """An aiohttp connector seen as a pool of connections (idle or busy, closed or not)."""

    class Connection:
        def __init__(self, protocol: Any, idle: bool) -> None:
            self.protocol, self.idle = protocol, idle

        def is_idle(self) -> bool:
            return self.idle

        def is_closed(self) -> bool:
            return self.protocol.transport is None

    def __init__(self, connector: Any) -> None:
        self.connector = connector

    @property
    def connections(self) -> list[AiohttpPool.Connection]:
        busy = [self.Connection(protocol, False) for protocol in self.connector._acquired]
        idle = [self.Connection(protocol, True) for conns in self.connector._conns.values() for protocol, _ in conns]
        return busy + idle


def assert_no_busy_connection(client: Client) -> None:
    """Every pooled connection is idle or closed, and nothing waits for one: nothing leaked by a failure."""
    pool = pool_of(client)
    busy = [c for c in pool.connections if not (c.is_idle() or c.is_closed())]
    assert busy == [], f"connections still in use after the call: {busy}"
    assert not getattr(pool, "_requests", None) and not getattr(pool, "waiting", 0), "requests still queued"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed): connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def unaccepting_server() -> Iterator[str]:
    """A listener whose accept queue is full and never drained: a new connection cannot complete (connect timeout)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        yield f"http://127.0.0.1:{port}"
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


class RawServer:
    """A loopback TCP server that reads one request per connection, writes ``response`` and closes.

    ``reset=True`` closes with an RST (SO_LINGER 0) instead of a FIN: a connection reset by peer.
    """

    def __init__(self, response: bytes, *, reset: bool = False) -> None:
        self.response = response
        self.reset = reset
        self.connections = 0
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="raw-fault-server")
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            with connection:
                connection.settimeout(2)
                data = b""
                with contextlib.suppress(OSError):
                    while b"\r\n\r\n" not in data:
                        piece = connection.recv(65536)
                        if not piece:
                            break
                        data += piece
                    head, _, body = data.partition(b"\r\n\r\n")
                    length = next(
                        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                         if line.lower().startswith(b"content-length:")),
                        0,
                    )  # fmt: skip
                    while len(body) < length:
                        piece = connection.recv(65536)
                        if not piece:
                            break
                        body += piece
                    connection.sendall(self.response)
                if self.reset:
                    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


def completion_json(content: str = "ok") -> bytes:
    import json

    return json.dumps(
        {
            "id": "x",
            "object": "chat.completion",
            "created": 1,
            "model": MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    ).encode()


def http_response(status: str, body: bytes, content_type: str = "application/json", length: int | None = None) -> bytes:
    size = len(body) if length is None else length
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n"
    ).encode() + body


def timeout(seconds: float) -> httpx.Timeout:
    return httpx.Timeout(seconds)
