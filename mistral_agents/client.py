"""``MistralClient``: the synchronous driver. It sends what `_wire` builds, with one connection pool."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import httpx

from . import _errors, _retry, _wire
from ._base_client import _NO_DERIVING, BaseClient, Timeout, _offline_switch, backend_of
from ._retry import RetryPolicy
from ._sse import iter_sse_data
from .exceptions import MistralException
from .models.chat_completion import ChatCompletionResponse, ChatCompletionStreamResponse

if TYPE_CHECKING:
    import httpx2

    from .async_client import MistralAsyncClient
    from .models.embeddings import EmbeddingResponse
    from .models.models import ModelList

__all__ = ["MistralClient"]

logger = logging.getLogger("mistral_agents")


class MistralClient(
    BaseClient[ChatCompletionResponse, Iterator[ChatCompletionStreamResponse], "EmbeddingResponse", "ModelList"]
):
    """A synchronous client for the Mistral API (and OpenAI-compatible servers).

    ``endpoint`` defaults to the Mistral API, or, with ``MISTRAL_AGENTS_OFFLINE=1`` set (and no ``transport`` or
    ``http_client`` given), to the built-in offline model, whatever the key (one line on stderr says so).
    ``api_key`` falls back to ``MISTRAL_API_KEY``; it is required only by the official endpoint. Retryable
    failures (408, 429, 5xx, connection errors, timeouts) are retried ``max_retries`` times with exponential
    backoff and jitter, honouring ``Retry-After``. Pass ``transport`` (e.g. the offline model) or a caller-owned
    ``http_client``; otherwise the client owns one ``httpx.Client`` (one connection pool) until
    [`close`][mistral_agents.client.MistralClient.close]. ``http_backend="httpx2"``
    (``pip install "mistral-agents[httpx2]"``) sends through an ``httpx2.Client`` instead; a caller-owned
    ``httpx2.Client`` (or transport) chooses it too. Errors are ours on both.
    """

    _http: httpx.Client  # (or an httpx2.Client: the same API)

    def __init__(
        self,
        api_key: str | None = None,
        endpoint: str | None = None,
        max_retries: int = 5,
        timeout: Timeout = 120,
        *,
        transport: httpx.BaseTransport | httpx2.BaseTransport | None = None,
        http_client: httpx.Client | httpx2.Client | None = None,
        retry: RetryPolicy | None = None,
        http_backend: Literal["httpx", "httpx2"] = "httpx",
    ) -> None:
        endpoint, transport = _offline_switch(endpoint, transport, http_client)
        self._configure(api_key, endpoint, max_retries, timeout, retry)
        self._transport = transport
        self._owns_http = http_client is None
        self.http_backend = backend_of(http_backend, http_client, transport)
        headers = self._settings.headers
        # An owned client carries our headers itself: no per-request header merge on the hot path.
        if self.http_backend == "httpx2":
            from . import _httpx2

            self._url_text = True
            self._http = http_client or _httpx2.sync_client(headers, timeout, transport)  # type: ignore[assignment]
        elif self.http_backend == "httpx":
            self._http = http_client or httpx.Client(transport=transport, timeout=timeout, headers=headers)  # type: ignore[arg-type,assignment]
        else:
            raise ValueError(f"MistralClient sends with httpx or httpx2, not {http_backend!r}")

    def as_async(self) -> MistralAsyncClient:
        """An async client with the same settings (and transport, when it serves both flavours).

        A client built on a caller-owned ``http_client`` cannot be converted (its proxy, TLS and headers live in
        an ``httpx.Client`` that has no async twin): ``ValueError`` — build the async client yourself.
        """
        from .async_client import MistralAsyncClient

        if not self._owns_http:
            raise ValueError(
                _NO_DERIVING.format(this="MistralClient", other="MistralAsyncClient", sync="httpx.AsyncClient")
            )
        transport: Any = self._transport if hasattr(self._transport, "handle_async_request") else None
        s = self._settings
        return MistralAsyncClient(
            s.api_key,
            s.endpoint,
            s.max_retries,
            self._timeout,
            transport=transport,
            retry=s.retry,
            http_backend=self.http_backend,  # type: ignore[arg-type]
        )

    # ------------------------------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Release the connection pool (a caller-owned ``http_client`` is left open)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> MistralClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------ drivers
    def _chat(self, body: dict[str, Any]) -> ChatCompletionResponse:
        response = self._request("POST", "/chat/completions", body)
        return _wire.decode(ChatCompletionResponse, response.content, response.status_code)

    def _chat_stream(self, body: dict[str, Any]) -> Iterator[ChatCompletionStreamResponse]:
        response = self._request("POST", "/chat/completions", body, stream=True)
        reader = _wire.ChunkReader()
        try:
            with _errors.http_errors():
                events = iter_sse_data(response.iter_bytes())
                for data in events:
                    chunk = reader.read(data)
                    if chunk is None:
                        # Read to the end of the body (normally just its last, empty chunk), so the
                        # connection goes back to the pool instead of being closed.
                        for _ in events:
                            pass
                        return
                    yield chunk
            reader.end()
        finally:
            response.close()

    def _embeddings(self, body: dict[str, Any]) -> EmbeddingResponse:
        response = self._request("POST", "/embeddings", body)
        from .models.embeddings import EmbeddingResponse

        return _wire.decode(EmbeddingResponse, response.content, response.status_code)

    def _list_models(self) -> ModelList:
        response = self._request("GET", "/models", None)
        from .models.models import ModelList

        return _wire.decode(ModelList, response.content, response.status_code)

    def _request(self, method: str, path: str, body: dict[str, Any] | None, stream: bool = False) -> httpx.Response:
        s = self._settings
        request = self._build_request(method, path, body, stream)
        http = self._http

        def attempt() -> httpx.Response:
            try:
                response = http.send(request, stream=stream)
            except _errors.transport_errors() as error:
                raise _errors.transport_error(error) from error
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("%s %s -> %d", method, path, response.status_code)
            if response.is_success:
                s.note_deprecation(response.headers, body)
                return response
            with _errors.http_errors():
                try:
                    response.read()
                finally:
                    response.close()
            raise s.api_error(response)

        try:
            return attempt()
        except MistralException as error:
            if s.max_retries == 0 or not _retry.is_retryable(error):
                raise
            logger.debug("%s %s failed (%s); retrying", method, path, error)
            return _retry.retry_sync(attempt, error, s.max_retries, s.retry)
