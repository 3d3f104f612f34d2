"""``MistralAsyncClient``: the asyncio driver. It sends what `_wire` builds, with one connection pool."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from . import _errors, _retry, _wire
from ._base_client import BaseClient, Timeout
from ._retry import RetryPolicy
from ._sse import aiter_sse_data
from .exceptions import MistralException
from .models.chat_completion import ChatCompletionResponse, ChatCompletionStreamResponse

if TYPE_CHECKING:
    from .client import MistralClient
    from .models.embeddings import EmbeddingResponse
    from .models.models import ModelList

__all__ = ["MistralAsyncClient"]

logger = logging.getLogger("mistral_agents")
#: Owned clients keep every pooled connection alive (httpx keeps 20 of 100, so a busy client reconnects constantly).
_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)


def _in_flight_gate(http: httpx.AsyncClient) -> asyncio.Semaphore | None:
    """At most as many requests in flight as the pool has connections, when the pool says how many.

    With hundreds of tasks on one client, httpcore's pool rescans its whole wait queue for every request
    (quadratic); requests waiting here instead cost nothing.
    """
    pool = getattr(getattr(http, "_transport", None), "_pool", None)
    limit = getattr(pool, "_max_connections", None)
    return asyncio.Semaphore(limit) if isinstance(limit, int) and limit > 0 else None


class MistralAsyncClient(
    BaseClient[
        Coroutine[Any, Any, ChatCompletionResponse],
        AsyncIterator[ChatCompletionStreamResponse],
        Coroutine[Any, Any, "EmbeddingResponse"],
        Coroutine[Any, Any, "ModelList"],
    ]
):
    """The asyncio twin of [`MistralClient`][mistral_agents.client.MistralClient]: ``await client.chat(...)``,
    ``async for chunk in client.chat_stream(...)``. Safe to share between many concurrent tasks."""

    _http: httpx.AsyncClient

    def __init__(
        self,
        api_key: str | None = None,
        endpoint: str = "https://api.mistral.ai",
        max_retries: int = 5,
        timeout: Timeout = 120,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._configure(api_key, endpoint, max_retries, timeout, retry)
        self._transport = transport
        self._owns_http = http_client is None
        # An owned client carries our headers itself: no per-request header merge on the hot path.
        self._http = http_client or httpx.AsyncClient(
            transport=transport, timeout=timeout, limits=_LIMITS, headers=self._settings.headers
        )
        self._gate = _in_flight_gate(self._http)

    def as_sync(self) -> MistralClient:
        """A sync client with the same settings (and transport, when it serves both flavours)."""
        from .client import MistralClient

        transport = self._transport if isinstance(self._transport, httpx.BaseTransport) else None
        s = self._settings
        return MistralClient(s.api_key, s.endpoint, s.max_retries, self._timeout, transport=transport, retry=s.retry)

    # ------------------------------------------------------------------------------------------ lifecycle
    async def close(self) -> None:
        """Release the connection pool (a caller-owned ``http_client`` is left open)."""
        if self._owns_http:
            await self._http.aclose()

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
        request = self._build_request(method, path, body, stream)
        http = self._http

        async def attempt() -> httpx.Response:
            try:
                if self._gate is None:
                    response = await http.send(request, stream=stream)
                else:  # keep httpcore's wait queue short: its bookkeeping grows with the queue
                    async with self._gate:
                        response = await http.send(request, stream=stream)
            except httpx.TransportError as error:
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
