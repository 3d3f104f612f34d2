"""``MistralAsyncClient``: the asyncio driver. It sends what :mod:`._wire` builds, with one connection pool."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Coroutine
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from . import _retry, _wire
from ._base_client import BaseClient, Timeout
from ._retry import RetryPolicy
from ._sse import aiter_sse_data
from .exceptions import MistralException
from .models.chat_completion import ChatCompletionResponse, ChatCompletionStreamResponse
from .models.embeddings import EmbeddingResponse
from .models.models import ModelList

if TYPE_CHECKING:
    from .client import MistralClient

__all__ = ["MistralAsyncClient"]

logger = logging.getLogger("mistral_agents")


class MistralAsyncClient(
    BaseClient[
        Coroutine[Any, Any, ChatCompletionResponse],
        AsyncIterator[ChatCompletionStreamResponse],
        Coroutine[Any, Any, EmbeddingResponse],
        Coroutine[Any, Any, ModelList],
    ]
):
    """The asyncio twin of :class:`~mistral_agents.client.MistralClient`: ``await client.chat(...)``,
    ``async for chunk in client.chat_stream(...)``. Safe to share between many concurrent tasks."""

    def __init__(
        self,
        api_key: str | None = None,
        endpoint: str = _wire.OFFICIAL_ENDPOINT,
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
        self._http = http_client or httpx.AsyncClient(transport=transport, timeout=timeout)

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
            with _wire.http_errors():
                async for data in aiter_sse_data(response.aiter_bytes()):
                    chunk = reader.read(data)
                    if chunk is None:
                        return
                    yield chunk
            reader.end()
        finally:
            await response.aclose()

    async def _embeddings(self, body: dict[str, Any]) -> EmbeddingResponse:
        response = await self._request("POST", "/embeddings", body)
        return _wire.decode(EmbeddingResponse, response.content, response.status_code)

    async def _list_models(self) -> ModelList:
        response = await self._request("GET", "/models", None)
        return _wire.decode(ModelList, response.content, response.status_code)

    async def _request(
        self, method: str, path: str, body: dict[str, Any] | None, stream: bool = False
    ) -> httpx.Response:
        s = self._settings
        headers = s.headers if not stream else {**s.headers, "Accept": "text/event-stream"}
        request = self._http.build_request(
            method, s.url(path), content=_wire.encode_json(body) if body is not None else None, headers=headers
        )

        async def attempt() -> httpx.Response:
            with _wire.http_errors():
                response = await self._http.send(request, stream=stream)
                logger.debug("%s %s -> %d", method, path, response.status_code)
                if response.is_success:
                    return response
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
