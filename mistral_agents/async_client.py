"""``MistralAsyncClient``: the asyncio driver. It sends what `_wire` builds, with one connection pool."""

from __future__ import annotations

import asyncio
import logging
import urllib.request
from collections.abc import AsyncIterator, Coroutine
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import httpx

from . import _errors, _retry, _wire
from ._base_client import _NO_DERIVING, BaseClient, HttpBackend, Timeout, _offline_switch, backend_of
from ._loops import PerLoop
from ._pool import PoolSender
from ._retry import RetryPolicy
from ._sse import aiter_sse_data
from .exceptions import MistralException
from .models.chat_completion import ChatCompletionResponse, ChatCompletionStreamResponse

if TYPE_CHECKING:
    import httpx2

    from ._aiohttp import AiohttpSession
    from .client import MistralClient
    from .models.embeddings import EmbeddingResponse
    from .models.models import ModelList

__all__ = ["MistralAsyncClient"]

logger = logging.getLogger("mistral_agents")
#: Connections per owned pool (per event loop); every idle one is kept alive, so a busy client never reconnects.
MAX_CONNECTIONS = 100


def _in_flight_gate(http: httpx.AsyncClient) -> asyncio.Semaphore | None:
    """For a caller-owned ``httpx.AsyncClient``: at most as many requests in flight as its pool has connections.

    httpcore's pool rescans its whole wait queue for every request (quadratic); requests waiting here instead
    cost nothing. (Owned clients use `mistral_agents._pool.AsyncPool`, which needs no gate.)
    """
    pool = getattr(getattr(http, "_transport", None), "_pool", None)
    limit = getattr(pool, "_max_connections", None)
    return asyncio.Semaphore(limit) if isinstance(limit, int) and limit > 0 else None


async def _aclose(http: httpx.AsyncClient | PoolSender | AiohttpSession) -> None:
    await http.aclose()


class MistralAsyncClient(
    BaseClient[
        Coroutine[Any, Any, ChatCompletionResponse],
        AsyncIterator[ChatCompletionStreamResponse],
        Coroutine[Any, Any, "EmbeddingResponse"],
        Coroutine[Any, Any, "ModelList"],
    ]
):
    """The asyncio twin of [`MistralClient`][mistral_agents.client.MistralClient]: ``await client.chat(...)``,
    ``async for chunk in client.chat_stream(...)``. Safe to share between many concurrent tasks.

    It keeps one connection pool per event loop (closed when that loop ends), up to 100 connections each, all
    kept alive when idle. ``http_backend="aiohttp"`` (``pip install "mistral-agents[aiohttp]"``) sends through
    aiohttp instead of httpx: several times the throughput under concurrency, with the same errors, retries,
    streaming and timeouts (it takes no ``transport``/``http_client``, which are httpx objects).
    ``http_backend="httpx2"`` (``pip install "mistral-agents[httpx2]"``) sends through httpx2's
    ``AsyncClient`` and pool; a caller-owned ``httpx2.AsyncClient`` (or transport) chooses it too. Errors are ours
    on every backend.
    """

    _http: httpx.AsyncClient | None  # type: ignore[assignment]  # None: one owned pool per event loop

    def __init__(
        self,
        api_key: str | None = None,
        endpoint: str | None = None,
        max_retries: int = 5,
        timeout: Timeout = 120,
        *,
        transport: httpx.AsyncBaseTransport | httpx2.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | httpx2.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
        http_backend: HttpBackend = "httpx",
    ) -> None:
        if http_backend != "aiohttp":
            endpoint, transport = _offline_switch(endpoint, transport, http_client)
        self._configure(api_key, endpoint, max_retries, timeout, retry)
        self._transport = transport
        self._owns_http = http_client is None
        self._pools: PerLoop[Any] | None = None
        self.http_backend = http_backend = backend_of(http_backend, http_client, transport)  # type: ignore[assignment]
        self._gate = _in_flight_gate(http_client) if isinstance(http_client, httpx.AsyncClient) else None
        if http_backend == "httpx2":
            from . import _httpx2

            self._url_text = True
            if http_client is not None or transport is not None:
                self._http = http_client or _httpx2.async_client(self._settings.headers, timeout, transport)  # type: ignore[assignment]
            else:  # httpx2's own pool, one per event loop
                self._http = None
                headers = self._settings.headers
                self._pools = PerLoop(lambda: _httpx2.async_client(headers, timeout), _aclose)
        elif http_backend == "aiohttp":
            if http_client is not None or transport is not None:
                raise ValueError('http_backend="aiohttp" sends with aiohttp: it takes no httpx transport/http_client')
            from ._aiohttp import AiohttpSession

            self._http = None
            headers, limit = self._settings.headers, MAX_CONNECTIONS
            self._pools = PerLoop(lambda: AiohttpSession(headers, timeout, limit), _aclose)
        elif http_client is not None or transport is not None:
            # An owned client carries our headers itself: no per-request header merge on the hot path.
            self._http = http_client or httpx.AsyncClient(  # type: ignore[assignment]
                transport=transport,  # type: ignore[arg-type]
                timeout=timeout,
                headers=self._settings.headers,
            )
        else:
            # Our own pool, one per event loop (an asyncio connection belongs to its loop), closed with its loop.
            self._http = None
            self._pools = PerLoop(self._new_pool, _aclose)

    def _new_pool(self) -> httpx.AsyncClient | PoolSender:
        headers = self._settings.headers
        if not urllib.request.getproxies():
            return PoolSender(headers, self._timeout, MAX_CONNECTIONS)
        # With HTTP(S)_PROXY set: httpx's own client and transport, which honour it.
        limits = httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS)
        return httpx.AsyncClient(limits=limits, timeout=self._timeout, headers=headers)

    def as_sync(self) -> MistralClient:
        """A sync client with the same settings (and transport, when it serves both flavours).

        A client built on a caller-owned ``http_client`` cannot be converted (its proxy, TLS and headers live in
        an ``httpx.AsyncClient`` that has no sync twin): ``ValueError`` — build the sync client yourself.
        """
        from .client import MistralClient

        if not self._owns_http:
            raise ValueError(_NO_DERIVING.format(this="MistralAsyncClient", other="MistralClient", sync="httpx.Client"))
        transport: Any = self._transport if hasattr(self._transport, "handle_request") else None
        s = self._settings  # (the aiohttp backend has no sync twin: the sync client uses httpx)
        backend: Literal["httpx", "httpx2"] = "httpx2" if self.http_backend == "httpx2" else "httpx"
        return MistralClient(
            s.api_key, s.endpoint, s.max_retries, self._timeout, transport=transport, retry=s.retry,
            http_backend=backend,
        )  # fmt: skip

    # ------------------------------------------------------------------------------------------ lifecycle
    async def close(self) -> None:
        """Release the connection pools (a caller-owned ``http_client`` is left open)."""
        if self._pools is not None:
            await self._pools.aclose()
        elif self._owns_http and self._http is not None:
            await self._http.aclose()

    def _close_from_sync(self) -> None:
        """`close` from sync code with no running loop (each pool is closed on its own loop)."""
        if self._pools is not None:
            self._pools.close()
        elif self._owns_http and self._http is not None:
            from ._loops import run_coroutine

            run_coroutine(self._http.aclose())

    async def __aenter__(self) -> MistralAsyncClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # ------------------------------------------------------------------------------------------ drivers
    async def _chat(self, body: dict[str, Any]) -> ChatCompletionResponse:
        response = await self._request("POST", "/chat/completions", body)
        return _wire.decode(ChatCompletionResponse, response.content, response.status_code)

    async def _chat_stream(self, body: dict[str, Any]) -> AsyncIterator[ChatCompletionStreamResponse]:
        response = await self._request("POST", "/chat/completions", body, stream=True)
        reader = _wire.ChunkReader()
        try:
            with _errors.http_errors():
                events = aiter_sse_data(response.aiter_bytes())
                async for data in events:
                    chunk = reader.read(data)
                    if chunk is None:
                        # Read to the end of the body (normally just its last, empty chunk), so the
                        # connection goes back to the pool instead of being closed.
                        async for _ in events:
                            pass
                        return
                    yield chunk
            reader.end()
        finally:
            await response.aclose()

    async def _embeddings(self, body: dict[str, Any]) -> EmbeddingResponse:
        response = await self._request("POST", "/embeddings", body)
        from .models.embeddings import EmbeddingResponse

        return _wire.decode(EmbeddingResponse, response.content, response.status_code)

    async def _list_models(self) -> ModelList:
        response = await self._request("GET", "/models", None)
        from .models.models import ModelList

        return _wire.decode(ModelList, response.content, response.status_code)

    async def _request(
        self, method: str, path: str, body: dict[str, Any] | None, stream: bool = False
    ) -> httpx.Response:
        s = self._settings
        pools = self._pools
        http = pools.get() if pools is not None else self._http
        assert http is not None
        request = self._build_request(method, path, body, stream, http)

        async def attempt() -> httpx.Response:
            try:
                if self._gate is None:
                    response = await http.send(request, stream=stream)
                else:  # keep httpcore's wait queue short: its bookkeeping grows with the queue
                    async with self._gate:
                        response = await http.send(request, stream=stream)
            except _errors.transport_errors() as error:
                raise _errors.transport_error(error) from error
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("%s %s -> %d", method, path, response.status_code)
            if response.is_success:
                s.note_deprecation(response.headers, body)
                return response
            with _errors.http_errors():
                try:
                    await response.aread()
                finally:
                    await response.aclose()
            raise s.api_error(response)

        try:
            return await attempt()
        except MistralException as error:
            if s.max_retries == 0 or not _retry.is_retryable(error):
                raise
            logger.debug("%s %s failed (%s); retrying", method, path, error)
            return await _retry.retry_async(attempt, error, s.max_retries, s.retry)
