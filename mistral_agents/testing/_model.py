"""`OfflineModel`: the sans-I/O core — one HTTP request in, one `WireResponse` out."""

from __future__ import annotations

import copy
import hmac
import json
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from ._catalog import embeddings_body, model_cards
from ._judge import second_opinion
from ._render import RenderOptions, render_reply
from ._reply import Reply, as_reply
from ._rules import RuleViolation, check_chat_request, check_embeddings_request, validation_error
from ._tokens import digest, make_tool_call_ids
from ._wire_response import WireResponse, json_response

if TYPE_CHECKING:
    from ._server import OfflineServer
    from ._transport import OfflineTransport

__all__ = ["OfflineModel", "Policy", "RecordedRequest"]

Policy = Callable[[dict[str, Any]], "Reply | str"]
CHAT_PATH = "/v1/chat/completions"
EMBEDDINGS_PATH = "/v1/embeddings"
MODELS_PATH = "/v1/models"
SECRET_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "proxy-authorization"})


@dataclass(frozen=True)
class RecordedRequest:
    """One request the model received. Secret headers are redacted; the key is never stored."""

    method: str
    path: str
    headers: Mapping[str, str]
    json: Any
    #: The error the hosted API would have answered with (rule violation or 401), when the request was rejected.
    violation: RuleViolation | None = None


def _redact(name: str, value: str) -> str:
    if name not in SECRET_HEADERS:
        return value
    scheme = value.split(" ", 1)[0] if " " in value else ""
    return f"{scheme} <redacted>".strip()


class OfflineModel:
    """A deterministic model speaking the Mistral wire protocol.

    - ``OfflineModel()``: the built-in demo policy (``mistral_agents.demo.policy``).
    - ``OfflineModel(script=[...])``: one reply per chat request, in order (a ``str`` is a text reply); when the
      script runs out, a 400 whose message says so.
    - ``OfflineModel(policy=fn)``: ``fn(request_body) -> Reply | str`` decides each chat reply.

    ``validate`` enforces the hosted API's request rules (rejected requests never reach the script or policy);
    ``api_key`` makes ``Authorization: Bearer <api_key>`` mandatory; ``openai_compatible`` relaxes the
    Mistral-only rules and answers like a vLLM/Ollama-style server (``call_…`` ids, incremental tool-call streams).
    """

    def __init__(
        self,
        script: Iterable[Reply | str] | None = None,
        *,
        policy: Policy | None = None,
        api_key: str | None = None,
        validate: bool = True,
        openai_compatible: bool = False,
        tool_call_streaming: Literal["whole", "incremental"] = "whole",
        embedding_dimensions: int = 1024,
    ) -> None:
        if script is not None and policy is not None:
            raise ValueError("give either a script or a policy, not both")
        self._script: deque[Reply] | None = None if script is None else deque(as_reply(r) for r in script)
        self._scripted = 0 if script is None else len(self._script or ())
        self._policy: Policy = policy or _demo_policy()
        self._api_key = api_key
        self.validate = validate
        self.openai_compatible = openai_compatible
        self.tool_call_streaming: Literal["whole", "incremental"] = (
            "incremental" if openai_compatible else tool_call_streaming
        )
        self.embedding_dimensions = embedding_dimensions
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []

    def __repr__(self) -> str:
        mode = "script" if self._script is not None else "policy" if self._policy is not _demo_policy() else "demo"
        return f"OfflineModel(mode={mode!r}, openai_compatible={self.openai_compatible}, requests={len(self.requests)})"

    # --- recording -------------------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, in order of arrival (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        """The JSON bodies of the chat-completion requests."""
        return [r.json for r in self.requests if r.path == CHAT_PATH and isinstance(r.json, dict)]

    @property
    def last_request(self) -> RecordedRequest | None:
        with self._lock:
            return self._requests[-1] if self._requests else None

    @property
    def rejections(self) -> list[RecordedRequest]:
        """The requests the hosted API would have rejected; each carries its ``violation``."""
        return [r for r in self.requests if r.violation is not None]

    @property
    def remaining(self) -> int | None:
        """Replies left in the script (None without a script)."""
        with self._lock:
            return None if self._script is None else len(self._script)

    def add(self, *replies: Reply | str) -> None:
        """Append replies to the script."""
        with self._lock:
            if self._script is None:
                raise ValueError("this model has no script")
            self._script.extend(as_reply(r) for r in replies)
            self._scripted += len(replies)

    # --- front doors -----------------------------------------------------------------------------------------

    def transport(self) -> OfflineTransport:
        """An httpx transport (sync and async) answering with this model."""
        from ._transport import OfflineTransport

        return OfflineTransport(self)

    def server(self, host: str = "127.0.0.1", port: int = 0) -> OfflineServer:
        """A loopback HTTP server answering with this model (use it as a context manager)."""
        from ._server import OfflineServer

        return OfflineServer(self, host=host, port=port)

    # --- the core --------------------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes) -> WireResponse:
        """Answer one HTTP request (``target`` may carry a query string)."""
        method = method.upper()
        path = "/" + target.split("?", 1)[0].lstrip("/")
        header_map = {name.lower(): value for name, value in headers}
        parsed, bad_json = _parse_body(body)
        recorded = RecordedRequest(
            method, path, {name: _redact(name, value) for name, value in header_map.items()}, parsed
        )
        violation = self._auth_violation(header_map.get("authorization"))
        if violation is None and bad_json is not None and method == "POST":
            violation = bad_json
        if violation is not None:
            self._record(replace(recorded, violation=violation))
            return json_response(violation.status, violation.body)
        route = self._route(method, path)
        if isinstance(route, WireResponse):
            self._record(recorded)
            return route
        return route(recorded)

    def _auth_violation(self, authorization: str | None) -> RuleViolation | None:
        if self._api_key is None:
            return None
        expected = f"Bearer {self._api_key}".encode()
        if authorization is not None and hmac.compare_digest(authorization.encode(), expected):
            return None
        return RuleViolation(401, {"message": "Unauthorized", "request_id": digest("401", authorization)[:32]})

    def _route(self, method: str, path: str) -> Callable[[RecordedRequest], WireResponse] | WireResponse:
        routes: dict[str, tuple[str, Callable[[RecordedRequest], WireResponse]]] = {
            CHAT_PATH: ("POST", self._chat),
            EMBEDDINGS_PATH: ("POST", self._embeddings),
            MODELS_PATH: ("GET", self._models),
        }
        if path.startswith(MODELS_PATH + "/"):
            return self._model_card(path[len(MODELS_PATH) + 1 :]) if method == "GET" else _method_not_allowed()
        if path not in routes:
            return json_response(404, {"detail": "Not Found"})
        expected, handler = routes[path]
        return handler if method == expected else _method_not_allowed()

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _reject(self, request: RecordedRequest, violation: RuleViolation | None) -> WireResponse | None:
        if violation is None:
            self._record(request)
            return None
        self._record(replace(request, violation=violation))
        return json_response(violation.status, violation.body)

    def _chat(self, request: RecordedRequest) -> WireResponse:
        body = request.json
        checked = self.validate or not isinstance(body, dict)
        violation = check_chat_request(body, openai_compatible=self.openai_compatible) if checked else None
        if self.validate and not self.openai_compatible:
            second_opinion(body, violation)
        rejected = self._reject(request, violation)
        if rejected is not None:
            return rejected
        reply = self._next_reply(copy.deepcopy(body))
        if reply is None:  # 400, not 5xx: a client would retry a 5xx, and the test would wait out the backoff
            return json_response(400, self._exhausted_body())
        reply = self._with_call_ids(reply, body)
        options = RenderOptions(self.tool_call_streaming, self.openai_compatible)
        return render_reply(reply, body, options)

    def _next_reply(self, body: dict[str, Any]) -> Reply | None:
        if self._script is None:
            return as_reply(self._policy(body))
        with self._lock:
            return self._script.popleft() if self._script else None

    def _exhausted_body(self) -> dict[str, Any]:
        return {
            "object": "error",
            "message": f"OfflineModel script exhausted: all {self._scripted} scripted replies were used and "
            "another chat request arrived. Add replies to the script (or use model.add(...)).",
            "type": "offline_script_exhausted",
            "param": None,
            "code": None,
        }

    def _with_call_ids(self, reply: Reply, body: dict[str, Any]) -> Reply:
        missing = [call for call in reply.calls if call.id is None]
        if not missing:
            return reply
        messages = body.get("messages") or []
        taken = [c.id for c in reply.calls if c.id] + [
            str(call.get("id")) for m in messages for call in (m.get("tool_calls") or []) if isinstance(call, dict)
        ]
        fresh = iter(
            make_tool_call_ids(
                len(missing), (messages, [c.name for c in reply.calls]), taken, openai_style=self.openai_compatible
            )
        )
        return reply.with_(calls=tuple(call if call.id else replace(call, id=next(fresh)) for call in reply.calls))

    def _embeddings(self, request: RecordedRequest) -> WireResponse:
        body = request.json
        checked = self.validate or not isinstance(body, dict)
        violation = check_embeddings_request(body, openai_compatible=self.openai_compatible) if checked else None
        rejected = self._reject(request, violation)
        return rejected or json_response(200, embeddings_body(body, self.embedding_dimensions))

    def _models(self, request: RecordedRequest) -> WireResponse:
        self._record(request)
        return json_response(200, {"object": "list", "data": model_cards()})

    def _model_card(self, model_id: str) -> WireResponse:
        card = next((card for card in model_cards() if model_id in (card["id"], *card["aliases"])), None)
        if card is None:
            return json_response(
                404,
                {
                    "object": "error",
                    "message": f"Model {model_id!r} not found",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": None,
                },
            )
        return json_response(200, card)


def _demo_policy() -> Policy:
    """The built-in policy, which lives with the demo it was written for (imported on first use)."""
    from ..demo.policy import demo_policy

    return demo_policy


def _method_not_allowed() -> WireResponse:
    return json_response(405, {"detail": "Method Not Allowed"})


def _parse_body(body: bytes) -> tuple[Any, RuleViolation | None]:
    if not body:
        return None, None
    try:
        return json.loads(body), None
    except ValueError as error:
        detail = {
            "type": "json_invalid",
            "loc": ["body", 0],
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": str(error)},
        }
        return None, validation_error([detail])
