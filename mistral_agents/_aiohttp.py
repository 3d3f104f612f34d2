"""The opt-in aiohttp driver of ``MistralAsyncClient(http_backend="aiohttp")`` (extra ``aiohttp``).

httpx's async stack (client, httpcore, h11, anyio) costs several times what an aiohttp request costs on the
same server; this driver sends the same requests through one ``aiohttp.ClientSession`` per event loop. It
speaks the small part of ``httpx.AsyncClient`` the client uses (``build_request``, ``send``, and a response
with ``status_code``, ``headers``, ``content``, ``aread``, ``aiter_bytes``, ``aclose``) and raises httpx's
exception classes, so errors, retries, streaming and timeouts go through exactly the same code as the default.
Imported only when that backend is chosen: ``import mistral_agents`` never loads aiohttp.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NamedTuple

import httpx

try:
    import aiohttp
except ImportError as error:  # pragma: no cover - exercised without the extra
    raise ImportError(
        'http_backend="aiohttp" needs aiohttp: pip install "mistral-agents[aiohttp]"', name=error.name
    ) from error

__all__ = ["AiohttpSession"]


class Request(NamedTuple):
    method: str
    url: str
    content: bytes | None
    headers: Mapping[str, str] | None


@contextmanager
def _httpx_errors() -> Iterator[None]:
    """aiohttp's failures → httpx's classes (timeouts by phase; connection, protocol and read errors)."""
    try:
        yield
    except aiohttp.ConnectionTimeoutError as error:
        raise httpx.ConnectTimeout(str(error) or "connect timed out") from error
    except (aiohttp.SocketTimeoutError, aiohttp.ServerTimeoutError, asyncio.TimeoutError) as error:
        raise httpx.ReadTimeout(str(error) or "read timed out") from error
    except aiohttp.ClientConnectorError as error:
        cause = f"{type(error.os_error).__name__}: {error.os_error.strerror or error.os_error}"
        raise httpx.ConnectError(f"cannot connect to {error.host}:{error.port} ({cause})") from error
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as error:
        raise httpx.RemoteProtocolError(str(error) or type(error).__name__) from error
    except aiohttp.ClientResponseError as error:  # a malformed response head
        raise httpx.RemoteProtocolError(str(error) or type(error).__name__) from error
    except (aiohttp.ClientError, OSError) as error:
        raise httpx.ReadError(str(error) or type(error).__name__) from error


def client_timeout(timeout: float | httpx.Timeout | None) -> aiohttp.ClientTimeout:
    """httpx's timeout as aiohttp's: ``connect`` covers waiting for a pooled connection and connecting,
    ``sock_read`` each read (as httpx's ``read``); no total, as with httpx."""
    if timeout is None:
        return aiohttp.ClientTimeout()
    if isinstance(timeout, httpx.Timeout):
        waits = [t for t in (timeout.pool, timeout.connect) if t is not None]
        return aiohttp.ClientTimeout(
            connect=sum(waits) if waits else None, sock_connect=timeout.connect, sock_read=timeout.read
        )
    return aiohttp.ClientTimeout(connect=2 * timeout, sock_connect=timeout, sock_read=timeout)


class AiohttpSession:
    """One ``aiohttp.ClientSession`` (made in the running loop) behind httpx's ``build_request``/``send``."""

    def __init__(self, headers: Mapping[str, str], timeout: float | httpx.Timeout | None, limit: int) -> None:
        connector = aiohttp.TCPConnector(limit=limit, ttl_dns_cache=300)
        self.session = aiohttp.ClientSession(
            connector=connector, headers=dict(headers), timeout=client_timeout(timeout)
        )

    def build_request(
        self, method: str, url: Any, *, content: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> Request:
        return Request(method, str(url), content, headers)

    async def send(self, request: Request, *, stream: bool = False) -> Response:
        with _httpx_errors():
            response = await self.session.request(
                request.method, request.url, data=request.content, headers=request.headers
            )
            if stream:
                return Response(response, None)
            try:
                return Response(response, await response.read())
            finally:
                response.release()

    async def aclose(self) -> None:
        await self.session.close()


class Response:
    """The part of ``httpx.Response`` the client reads, over an ``aiohttp.ClientResponse``."""

    __slots__ = ("_body", "_response")

    def __init__(self, response: aiohttp.ClientResponse, body: bytes | None) -> None:
        self._response = response
        self._body = body  # None: a stream, not read yet

    @property
    def status_code(self) -> int:
        return self._response.status

    @property
    def is_success(self) -> bool:
        return 200 <= self._response.status < 300

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    @property
    def content(self) -> bytes:
        if self._body is None:
            raise RuntimeError("the response body has not been read")
        return self._body

    async def aread(self) -> bytes:
        if self._body is None:
            with _httpx_errors():
                self._body = await self._response.read()
        return self._body

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        with _httpx_errors():
            async for part in self._response.content.iter_any():
                yield part

    async def aclose(self) -> None:
        self._response.release()
