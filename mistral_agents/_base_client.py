"""What the sync and async clients share: settings, and the public methods that build each request.

Each public method turns its arguments into a request body here, once, then hands it to the flavour's driver
(``_chat``, ``_chat_stream``, ...). The flavours differ only in what the drivers return: values for
`MistralClient`, awaitables and async iterators for
`MistralAsyncClient`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import httpx

from . import _wire
from ._retry import RetryPolicy
from .models.chat_completion import ChatMessage

if TYPE_CHECKING:
    from .testing import Policy
    from .testing._transport import OfflineTransport

ChatT = TypeVar("ChatT")
StreamT = TypeVar("StreamT")
EmbeddingsT = TypeVar("EmbeddingsT")
ModelsT = TypeVar("ModelsT")

_STREAM_HEADERS = {"Accept": "text/event-stream"}

_NO_PRIVATE_CLIENT = (
    "this client has no `_client` (the 0.x SDK's private httpx client): mocking it would not intercept anything. "
    "Pass `transport=` instead, e.g. `MistralClient(transport=httpx.MockTransport(handler))` or "
    "`transport=OfflineModel(...).transport()` from mistral_agents.testing."
)

#: Why a client on a caller-owned ``http_client`` is not converted to the other flavour.
_NO_DERIVING = (
    "this {this} uses a caller-owned http_client, whose settings (proxy, TLS, headers, auth) cannot be carried "
    "over to a {other}; build the {other} yourself with an {sync} configured alike and pass both flavours, "
    "e.g. Agent(model, client=MistralClient(http_client=...), async_client=MistralAsyncClient(http_client=...))"
)

#: The switch: set to ``1`` to make clients built without an ``endpoint`` talk to the built-in offline model.
OFFLINE_ENV = "MISTRAL_AGENTS_OFFLINE"

#: The endpoint the in-process offline model pretends to live at (never contacted: its transport answers).
OFFLINE_ENDPOINT = "http://offline.invalid"

_announced = False


def offline_requested() -> bool:
    """Whether ``MISTRAL_AGENTS_OFFLINE`` is switched on (``1``, ``true``, ``yes`` or ``on``)."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def offline_transport(policy: Policy | None = None) -> OfflineTransport:
    """A transport (sync and async) answering with the built-in offline model (``policy``: default the demo's)."""
    from .testing import OfflineModel

    return OfflineModel(policy=policy).transport()


def _offline_switch(endpoint: str | None, transport: Any, http_client: Any) -> tuple[str | None, Any]:
    """The endpoint and transport a client uses: under ``MISTRAL_AGENTS_OFFLINE=1`` a client given no endpoint,
    transport or http_client talks to the offline model (said once per process on stderr); otherwise as given."""
    global _announced
    if endpoint is not None or transport is not None or http_client is not None or not offline_requested():
        return endpoint, transport
    if not _announced:
        _announced = True
        print(
            f"mistral-agents: {OFFLINE_ENV}=1: answering from the offline model",
            file=sys.stderr,
        )
    return OFFLINE_ENDPOINT, offline_transport()


Messages = Sequence[ChatMessage | Mapping[str, Any]]
Timeout = float | httpx.Timeout | None
#: What sends the requests: httpx (the default), httpx2 (extra ``httpx2``); the async client also takes aiohttp.
HttpBackend = Literal["httpx", "httpx2", "aiohttp"]


def is_httpx2(obj: object) -> bool:
    """Whether ``obj`` is an httpx2 client or transport, without importing httpx2 when nothing else has."""
    module = sys.modules.get("httpx2")
    kinds = () if module is None else (module.Client, module.AsyncClient, module.BaseTransport,
                                        module.AsyncBaseTransport)  # fmt: skip
    return isinstance(obj, kinds)


def backend_of(http_backend: str, http_client: object, transport: object) -> str:
    """The backend a client runs on: a caller-owned client or transport decides the stack (an httpx2 one means
    httpx2, an httpx one httpx, e.g. ``OfflineModel().transport()`` under ``http_backend="httpx2"``)."""
    if http_backend not in ("httpx", "httpx2", "aiohttp"):
        raise ValueError(f'http_backend must be "httpx", "httpx2" or "aiohttp", not {http_backend!r}')
    if http_backend == "aiohttp":
        return http_backend
    given = http_client if http_client is not None else transport
    if given is None:
        return http_backend
    return "httpx2" if is_httpx2(given) else "httpx"


class BaseClient(Generic[ChatT, StreamT, EmbeddingsT, ModelsT]):
    """The public API of both clients; see [`MistralClient`][mistral_agents.client.MistralClient]."""

    _settings: _wire.ClientSettings
    _http: httpx.Client | httpx.AsyncClient
    _owns_http: bool
    _url_text = False  # httpx2 takes a URL as a string (not httpx's parsed ``httpx.URL``)

    def _configure(
        self,
        api_key: str | None,
        endpoint: str | None,
        max_retries: int,
        timeout: Timeout,
        retry: RetryPolicy | None,
    ) -> None:
        seconds = timeout.read if isinstance(timeout, httpx.Timeout) else timeout
        self._settings = _wire.ClientSettings.create(api_key, endpoint, max_retries, seconds, retry)
        self._timeout = timeout

    @property
    def endpoint(self) -> str:
        return self._settings.endpoint

    @property
    def max_retries(self) -> int:
        return self._settings.max_retries

    @property
    def timeout(self) -> Timeout:
        return self._timeout

    @property
    def _client(self) -> Any:
        """The 0.x client's private ``httpx.Client``: seed-era tests mocked it. Here it does not exist, and saying so
        beats letting such a test reach the network."""
        raise AttributeError(_NO_PRIVATE_CLIENT)

    @_client.setter
    def _client(self, value: Any) -> None:
        raise AttributeError(_NO_PRIVATE_CLIENT)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(endpoint={self._settings.endpoint!r}, "
            f"max_retries={self._settings.max_retries}, timeout={self._settings.timeout!r})"
        )

    def chat(
        self,
        model: str,
        messages: Messages,
        *,
        tools: Sequence[Any] | None = None,
        tool_choice: Any = None,
        response_format: Any = None,
        temperature: float | None = None,
        top_p: float | None = None,
        max_tokens: int | None = None,
        random_seed: int | None = None,
        safe_prompt: bool | None = None,
        stop: str | Sequence[str] | None = None,
        parallel_tool_calls: bool | None = None,
        presence_penalty: float | None = None,
        frequency_penalty: float | None = None,
        n: int | None = None,
        **extra: Any,
    ) -> ChatT:
        """A chat completion. Only the parameters you set are sent; ``extra`` passes newer fields through.

        Args:
            model: The model name, e.g. ``"mistral-large-latest"``.
            messages: [`ChatMessage`][mistral_agents.models.chat_completion.ChatMessage] objects or dicts in
                wire form.
            tools: Tool specs (``Tool.spec``, or dicts as the API takes them).
            tool_choice: ``"auto"``, ``"any"``, ``"required"``, ``"none"`` or a named tool.
            response_format: ``{"type": "json_object"}``, a JSON schema format, or a pydantic model class.
            temperature: Sampling temperature.
            top_p: Nucleus sampling.
            max_tokens: At most this many tokens in the answer.
            random_seed: A seed for reproducible sampling.
            safe_prompt: Prepend the API's safety prompt.
            stop: Stop sequences.
            parallel_tool_calls: Allow several tool calls in one answer.
            presence_penalty: Penalise tokens already present.
            frequency_penalty: Penalise frequent tokens.
            n: Number of answers.
            **extra: Sent as they are (fields newer than this library).

        Returns:
            A [`ChatCompletionResponse`][mistral_agents.models.chat_completion.ChatCompletionResponse] (an
                awaitable of one from [`MistralAsyncClient`][mistral_agents.async_client.MistralAsyncClient]).
        """
        body = _chat_body(False, model, messages, tools, tool_choice, response_format, temperature, top_p, max_tokens,
                          random_seed, safe_prompt, stop, parallel_tool_calls, presence_penalty, frequency_penalty, n,
                          extra)  # fmt: skip
        return self._chat(body)

    def chat_stream(
        self,
        model: str,
        messages: Messages,
        *,
        tools: Sequence[Any] | None = None,
        tool_choice: Any = None,
        response_format: Any = None,
        temperature: float | None = None,
        top_p: float | None = None,
        max_tokens: int | None = None,
        random_seed: int | None = None,
        safe_prompt: bool | None = None,
        stop: str | Sequence[str] | None = None,
        parallel_tool_calls: bool | None = None,
        presence_penalty: float | None = None,
        frequency_penalty: float | None = None,
        n: int | None = None,
        **extra: Any,
    ) -> StreamT:
        """A streamed chat completion: chunks as the server sends them (retried only before the first byte).

        Takes the same arguments as [`chat`][mistral_agents.client.MistralClient.chat].

        Returns:
            An iterator of
                [`ChatCompletionStreamResponse`][mistral_agents.models.chat_completion.ChatCompletionStreamResponse]
                chunks (an async iterator from the async client: ``async for``, no ``await``).
        """
        body = _chat_body(True, model, messages, tools, tool_choice, response_format, temperature, top_p, max_tokens,
                          random_seed, safe_prompt, stop, parallel_tool_calls, presence_penalty, frequency_penalty, n,
                          extra)  # fmt: skip
        return self._chat_stream(body)

    def embeddings(self, model: str, input: str | Sequence[str], **extra: Any) -> EmbeddingsT:
        """Embeddings of one text or a list of texts.

        Returns:
            An [`EmbeddingResponse`][mistral_agents.models.embeddings.EmbeddingResponse] (awaitable from the async
                client).
        """
        texts = input if isinstance(input, str) else list(input) if isinstance(input, Sequence) else None
        if texts is None or (isinstance(texts, list) and not all(isinstance(text, str) for text in texts)):
            raise TypeError("input must be a string or a list of strings")
        body: dict[str, Any] = {"model": model, "input": texts}
        body.update({key: value for key, value in extra.items() if value is not None})
        return self._embeddings(body)

    def list_models(self) -> ModelsT:
        """The models available to this key.

        Returns:
            A [`ModelList`][mistral_agents.models.models.ModelList] (awaitable from the async client).
        """
        return self._list_models()

    def _build_request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        stream: bool,
        http: Any = None,
    ) -> httpx.Request:
        """The HTTP request for ``path`` (built by ``http``, default the client's own); a client we own already
        carries our headers as its defaults."""
        s = self._settings
        if self._owns_http:
            headers: dict[str, str] | None = _STREAM_HEADERS if stream else None
        else:
            headers = s.headers if not stream else {**s.headers, **_STREAM_HEADERS}
        content = _wire.encode_json(body) if body is not None else None
        url = s.url(path) if self._url_text else s.request_url(path)
        return (http or self._http).build_request(method, url, content=content, headers=headers)

    # The flavour's drivers.
    def _chat(self, body: dict[str, Any]) -> ChatT:
        raise NotImplementedError

    def _chat_stream(self, body: dict[str, Any]) -> StreamT:
        raise NotImplementedError

    def _embeddings(self, body: dict[str, Any]) -> EmbeddingsT:
        raise NotImplementedError

    def _list_models(self) -> ModelsT:
        raise NotImplementedError


def _chat_body(
    stream: bool,
    model: str,
    messages: Messages,
    tools: Sequence[Any] | None,
    tool_choice: Any,
    response_format: Any,
    temperature: float | None,
    top_p: float | None,
    max_tokens: int | None,
    random_seed: int | None,
    safe_prompt: bool | None,
    stop: str | Sequence[str] | None,
    parallel_tool_calls: bool | None,
    presence_penalty: float | None,
    frequency_penalty: float | None,
    n: int | None,
    extra: Mapping[str, Any],
) -> dict[str, Any]:
    """The body of ``chat``/``chat_stream``, from explicit names (never ``locals()``, which would put any local
    variable added to those methods on the wire); the arguments come in their signature's order."""
    params = {
        "temperature": temperature,
        "top_p": top_p,
        "max_tokens": max_tokens,
        "random_seed": random_seed,
        "safe_prompt": safe_prompt,
        "stop": stop,
        "parallel_tool_calls": parallel_tool_calls,
        "presence_penalty": presence_penalty,
        "frequency_penalty": frequency_penalty,
        "n": n,
        **extra,
    }
    return _wire.chat_body(
        model, messages, stream=stream, tools=tools, tool_choice=tool_choice, response_format=response_format,
        params=params,
    )  # fmt: skip
