"""The async client's connection pool: httpcore's HTTP/1.1 connections, kept in O(1) structures.

Why not httpcore's own ``AsyncConnectionPool``: at every request and every response close it rescans all its
connections (``_assign_requests_to_connections``): for each one an ``is_idle`` count over the whole list
(quadratic in the pool size) and a ``has_expired`` check that fetches the socket through anyio's attribute
table and polls it. With 100 idle keep-alive connections that bookkeeping costs more than the requests
(profiled: 70 % of the time of 100 concurrent chats). Here an idle connection is popped from a stack, checked
once, and pushed back when its response is closed; a request that finds the pool full waits in a FIFO queue and
is handed the next free connection directly. Everything else (HTTP/1.1, TLS, timeouts) is httpcore's, and
errors are httpx's, exactly as with ``httpx.AsyncHTTPTransport``.

Why it stays with httpx2 out (issue 22; ``benchmarks/httpx2_sweep.py``, 2 shared cores, median of 3 paired
rounds, ÷ raw ``httpx2.AsyncClient`` with 100 kept-alive connections): httpcore2 fixed the quadratic count, but
still walks every connection twice per request (41 % of the time of 100 concurrent chats, cProfile). This
pool on httpcore: 0.64x at N = 100 and 1,000 concurrent (fast_server.py), 0.62x / 0.83x (uvicorn), 1.01-1.19x
at N = 1 and sequential (two runs); the client on httpx2's own pool (``http_backend="httpx2"``): 1.01-1.13x
everywhere, slower at every concurrent N. So the default keeps this pool.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any

import httpcore
import httpx

__all__ = ["AsyncPool", "PoolSender"]

_Origin = tuple[bytes, bytes, int]
_DEFAULT_PORTS = {b"http": 80, b"https": 443}


@contextmanager
def _httpx_errors() -> Iterator[None]:
    """httpcore's exception → httpx's class of the same name (as httpx's own transport maps them)."""
    try:
        yield
    except httpcore.TimeoutException as error:
        raise getattr(httpx, type(error).__name__, httpx.TimeoutException)(str(error)) from error
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.ProxyError, httpcore.UnsupportedProtocol) as error:
        raise getattr(httpx, type(error).__name__, httpx.TransportError)(str(error)) from error


class AsyncPool(httpx.AsyncBaseTransport):
    """An ``httpx`` async transport: at most ``max_connections`` HTTP/1.1 connections, all kept alive when idle
    (until ``keepalive_expiry`` seconds unused). Bound to the event loop it is first used in."""

    def __init__(
        self,
        *,
        max_connections: int = 100,
        keepalive_expiry: float = 5.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._max = max_connections
        self._expiry = keepalive_expiry
        self._ssl_context = ssl_context
        self._backend = httpcore.AnyIOBackend()
        self._idle: dict[_Origin, list[httpcore.AsyncHTTPConnection]] = {}
        self._open = 0  # connections counted against the limit: idle, busy or connecting
        self._waiters: deque[tuple[_Origin, asyncio.Future[httpcore.AsyncHTTPConnection | None]]] = deque()
        self._closed = False
        self._closing: set[asyncio.Task[None]] = set()
        self._all: set[httpcore.AsyncHTTPConnection] = set()

    @property
    def connections(self) -> list[httpcore.AsyncHTTPConnection]:
        """The connections not yet closed by the pool (idle, busy or connecting)."""
        return list(self._all)

    @property
    def waiting(self) -> int:
        """Requests queued for a connection."""
        return sum(1 for _, future in self._waiters if not future.done())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.raw_scheme
        origin = (scheme, url.raw_host, url.port or _DEFAULT_PORTS.get(scheme, 80))
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        connection = await self._acquire(origin, timeouts.get("pool"))
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=scheme, host=url.raw_host, port=url.port, target=url.raw_path),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            with _httpx_errors():
                response = await connection.handle_async_request(core_request)
        except BaseException:
            self._release(connection)
            raise
        stream = _Stream(self, connection, response.stream)
        return httpx.Response(response.status, headers=response.headers, stream=stream, extensions=response.extensions)

    # ------------------------------------------------------------------------------------------ the pool
    async def _acquire(self, origin: _Origin, timeout: float | None) -> httpcore.AsyncHTTPConnection:
        if self._closed:
            raise RuntimeError("the connection pool is closed")
        stack = self._idle.get(origin)
        while stack:
            connection = stack.pop()
            if connection.is_available() and not connection.has_expired():
                return connection
            await self._discard(connection)
        if self._open < self._max:
            self._open += 1
            return self._new(origin)
        if self._evict_idle_of_other_origin(origin):
            return self._new(origin)
        future: asyncio.Future[httpcore.AsyncHTTPConnection | None] = asyncio.get_running_loop().create_future()
        entry = (origin, future)
        self._waiters.append(entry)
        try:
            if timeout is None:
                handed = await future
            else:
                handed = await asyncio.wait_for(asyncio.shield(future), timeout)
        except asyncio.TimeoutError:
            self._forget_waiter(entry)
            raise httpx.PoolTimeout("no connection became free within the pool timeout") from None
        except BaseException:
            self._forget_waiter(entry)
            raise
        # A connection (or, as None, the right to open one) was handed over with the slot already counted.
        return handed if handed is not None else self._new(origin)

    def _forget_waiter(self, entry: tuple[_Origin, asyncio.Future[Any]]) -> None:
        """A waiter that gave up: pass on anything it was handed meanwhile."""
        _, future = entry
        if future.done() and not future.cancelled() and future.exception() is None:
            handed = future.result()
            if handed is None:
                self._open -= 1
                self._wake_one()
            else:
                self._release(handed)
        else:
            future.cancel()
            with suppress(ValueError):
                self._waiters.remove(entry)

    def _new(self, origin: _Origin) -> httpcore.AsyncHTTPConnection:
        scheme, host, port = origin
        connection = httpcore.AsyncHTTPConnection(
            httpcore.Origin(scheme, host, port),
            ssl_context=self._ssl_context if scheme == b"https" else None,
            keepalive_expiry=self._expiry,
            network_backend=self._backend,
        )
        self._all.add(connection)
        return connection

    def _release(self, connection: httpcore.AsyncHTTPConnection) -> None:
        """A response is done with ``connection``: keep it for the next request, or free its slot."""
        if self._closed:
            self._open -= 1
            self._close_later(connection)
            return
        if connection.is_idle() and not connection.is_closed():
            origin = _origin_of(connection)
            while self._waiters:
                wanted, future = self._waiters.popleft()
                if future.done():
                    continue
                if wanted == origin:
                    future.set_result(connection)
                    return
                # Someone waits for another server: close this one and let them open theirs in its slot.
                self._waiters.appendleft((wanted, future))
                self._close_later(connection)
                self._give_slot()
                return
            self._idle.setdefault(origin, []).append(connection)
            return
        if connection.is_closed():
            self._all.discard(connection)
        else:
            self._close_later(connection)
        self._open -= 1
        self._wake_one()

    def _give_slot(self) -> None:
        """Hand a free slot (already counted) to the first live waiter, or give it back."""
        while self._waiters:
            _, future = self._waiters.popleft()
            if not future.done():
                future.set_result(None)
                return
        self._open -= 1

    def _wake_one(self) -> None:
        """A slot was freed: the first live waiter gets it."""
        if self._waiters and self._open < self._max:
            self._open += 1
            self._give_slot()

    def _evict_idle_of_other_origin(self, origin: _Origin) -> bool:
        for other, stack in self._idle.items():
            if other != origin and stack:
                connection = stack.pop()
                self._close_later(connection)
                return True
        return False

    def _close_later(self, connection: httpcore.AsyncHTTPConnection) -> None:
        self._all.discard(connection)
        task = asyncio.get_running_loop().create_task(connection.aclose())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _discard(self, connection: httpcore.AsyncHTTPConnection) -> None:
        self._open -= 1
        self._all.discard(connection)
        await connection.aclose()

    async def aclose(self) -> None:
        self._closed = True
        idle = [c for stack in self._idle.values() for c in stack]
        self._idle.clear()
        self._open -= len(idle)
        for connection in idle:
            self._all.discard(connection)
            await connection.aclose()
        while self._waiters:
            _, future = self._waiters.popleft()
            if not future.done():
                future.set_exception(httpx.PoolTimeout("the connection pool was closed"))
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)


def _origin_of(connection: httpcore.AsyncHTTPConnection) -> _Origin:
    origin: httpcore.Origin = connection._origin
    return (origin.scheme, origin.host, origin.port)


class _Stream(httpx.AsyncByteStream):
    """A response body that gives its connection back to the pool when closed."""

    __slots__ = ("_connection", "_pool", "_released", "_stream")

    def __init__(self, pool: AsyncPool, connection: httpcore.AsyncHTTPConnection, stream: Any) -> None:
        self._pool = pool
        self._connection = connection
        self._stream = stream
        self._released = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors():
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        if self._released:
            return
        self._released = True
        try:
            with _httpx_errors():
                await self._stream.aclose()
        finally:
            self._pool._release(self._connection)


class PoolSender:
    """An owned `AsyncPool` driven directly, as the client's sender (``build_request``/``send``, as on
    ``httpx.AsyncClient``). What ``AsyncClient.send`` adds — the auth and redirect flows, the cookie jar (an
    ``urllib`` request and a ``cookiejar`` pass per response), event hooks — has nothing to do for our requests."""

    def __init__(self, headers: Mapping[str, str], timeout: float | httpx.Timeout | None, max_connections: int) -> None:
        self.pool = AsyncPool(max_connections=max_connections, ssl_context=httpx.create_ssl_context())
        defaults = {"Accept": "*/*", "Accept-Encoding": "gzip, deflate", "Connection": "keep-alive"}
        self._headers = {**defaults, **headers}
        self._extensions = {"timeout": httpx.Timeout(timeout).as_dict()}

    def build_request(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Request:
        merged = self._headers if headers is None else {**self._headers, **headers}
        return httpx.Request(method, url, content=content, headers=merged, extensions=self._extensions)

    async def send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        response = await self.pool.handle_async_request(request)
        if not stream:
            try:
                await response.aread()
            finally:
                await response.aclose()
        return response

    async def aclose(self) -> None:
        await self.pool.aclose()
