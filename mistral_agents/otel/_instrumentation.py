"""Spans and metrics of a run, by the OpenTelemetry GenAI semantic conventions.

``invoke_agent [{name}]`` (INTERNAL, one per run, a child of whatever span is current when the run starts)
├── ``chat {model}`` (CLIENT, one per model call; current while the client sends, so retries and HTTP spans land
│   inside it; retried attempts are ``mistral_agents.retry`` events and ``http.request.resend_count``)
└── ``execute_tool {name}`` (INTERNAL, one per tool call the model made, run or not; current while the tool runs)
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from .._version import __version__
from ..agent.errors import MaxStepsExceeded
from ..agent.events import FinalResult, ToolCallEvent, ToolResultEvent
from ..exceptions import MistralAPIException, MistralException, MistralTimeoutException
from . import _content
from ._settings import OpenTelemetrySettings

if TYPE_CHECKING:
    from ..agent._observe import RunStart
    from ..agent.events import AgentEvent
    from ..agent.result import RunResult
    from ..models.chat_completion import ChatCompletionResponse
    from ..tools import PreparedCall, ToolOutcome

__all__ = ["OpenTelemetryInstrumentation", "error_type"]

PROVIDER = "mistral_ai"
RETRY_EVENT = "mistral_agents.retry"
_DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
_TOKEN_BUCKETS = tuple(float(4**i) for i in range(14))  # 1, 4, 16, ... 67108864
#: Request parameters recorded on chat and invoke_agent spans: chat keyword → attribute.
_REQUEST_ATTRIBUTES = {
    "temperature": "gen_ai.request.temperature",
    "top_p": "gen_ai.request.top_p",
    "max_tokens": "gen_ai.request.max_tokens",
    "random_seed": "gen_ai.request.seed",
    "presence_penalty": "gen_ai.request.presence_penalty",
    "frequency_penalty": "gen_ai.request.frequency_penalty",
}


def error_type(error: BaseException) -> str:
    """``error.type``: an API error's HTTP status, ``timeout``, or the exception's class name."""
    if isinstance(error, MistralAPIException) and error.status_code is not None:
        return str(error.status_code)
    if isinstance(error, MistralTimeoutException | TimeoutError):
        return "timeout"
    return type(error).__qualname__


def _tool_error_type(outcome: ToolOutcome, raised: str | None) -> str:
    """The exception the tool raised (``raised``: its class, seen leaving the tool), else the kind of error."""
    if outcome.error_kind == "tool_exception":
        if outcome.exception is not None:
            return type(outcome.exception).__qualname__
        if raised is not None:  # an outcome rebuilt from JSON (a durable step) keeps no exception object
            return raised
    return str(outcome.error_kind)


class OpenTelemetryInstrumentation:
    """Makes the spans of each run of the agents it instruments (one per ``Agent(instrument=...)``)."""

    def __init__(self, settings: OpenTelemetrySettings) -> None:
        self.settings = settings
        self.capture = settings.captures_content
        self.tracer = trace.get_tracer("mistral_agents", __version__, tracer_provider=settings.tracer_provider)
        meter = metrics.get_meter("mistral_agents", __version__, meter_provider=settings.meter_provider)
        self.duration = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )
        self.tokens = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=_TOKEN_BUCKETS,
        )
        self._servers: dict[str, dict[str, Any]] = {}

    def __repr__(self) -> str:
        return f"OpenTelemetryInstrumentation(capture_content={self.capture})"

    def start_run(self, run: RunStart) -> RunObservation:
        return RunObservation(self, run)

    def server(self, endpoint: str) -> dict[str, Any]:
        """``server.address`` / ``server.port`` of an endpoint (parsed once per endpoint)."""
        found = self._servers.get(endpoint)
        if found is None:
            parts = urlsplit(endpoint)
            found = {}
            if parts.hostname:
                found["server.address"] = parts.hostname
                found["server.port"] = parts.port or (443 if parts.scheme == "https" else 80)
            self._servers[endpoint] = found
        return found


def _request_attributes(request: Mapping[str, Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for key, name in _REQUEST_ATTRIBUTES.items():
        value = request.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            attributes[name] = value
    stop = request.get("stop")
    if stop is not None:
        attributes["gen_ai.request.stop_sequences"] = [stop] if isinstance(stop, str) else [str(s) for s in stop]
    n = request.get("n")
    if isinstance(n, int) and n != 1:
        attributes["gen_ai.request.choice.count"] = n
    if request.get("response_format") is not None:
        attributes["gen_ai.output.type"] = "json"
    return attributes


class _Active:
    """Makes a span current in this thread or task while entered."""

    __slots__ = ("context", "token")

    def __init__(self, span: trace.Span) -> None:
        self.context = trace.set_span_in_context(span)
        self.token: object = None

    def __enter__(self) -> None:
        self.token = otel_context.attach(self.context)

    def __exit__(self, exc_type: type[BaseException] | None = None, *exc_info: object) -> None:
        otel_context.detach(self.token)  # type: ignore[arg-type]


class _Running(_Active):
    """A tool's span made current while the tool runs; remembers when it started and when it stopped."""

    __slots__ = ("ended", "raised", "span", "start")

    def __init__(self, span: trace.Span, start: int) -> None:
        super().__init__(span)
        self.span, self.start = span, start
        self.ended: int | None = None
        self.raised: str | None = None

    def __exit__(self, exc_type: type[BaseException] | None = None, *exc_info: object) -> None:
        self.ended = time.time_ns()
        if exc_type is not None:
            self.raised = exc_type.__qualname__
        super().__exit__(exc_type)

    def end_time(self, duration: float) -> int:
        """When the tool stopped, or — still running after its timeout — when the run stopped waiting."""
        return self.ended if self.ended is not None else self.start + int(duration * 1e9)


class RunObservation:
    """One run: its ``invoke_agent`` span, the model call in flight, and the tool calls running."""

    def __init__(self, otel: OpenTelemetryInstrumentation, run: RunStart) -> None:
        self.otel = otel
        self.stream = run.stream
        self.model = str(run.request.get("model", ""))
        server = otel.server(run.endpoint)
        #: What every model call of the run has in common (the agent's request differs by messages only).
        self.metric_attributes = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": PROVIDER,
            "gen_ai.request.model": self.model,
            **server,
        }
        request_attributes = _request_attributes(run.request)
        self.chat_attributes = {**self.metric_attributes, **request_attributes}
        if run.stream:
            self.chat_attributes["gen_ai.request.stream"] = True
        attributes = {
            **self.metric_attributes,
            "gen_ai.operation.name": "invoke_agent",
            **request_attributes,
        }
        if run.conversation_id is not None:
            self.chat_attributes["gen_ai.conversation.id"] = run.conversation_id
            attributes["gen_ai.conversation.id"] = run.conversation_id
        if run.agent_name:
            attributes["gen_ai.agent.name"] = run.agent_name
        name = f"invoke_agent {run.agent_name}" if run.agent_name else "invoke_agent"
        self.span = otel.tracer.start_span(name, kind=SpanKind.INTERNAL, attributes=attributes)
        if otel.capture:
            self.span.set_attribute("gen_ai.input.messages", _content.input_messages(run.messages))
        self.context = trace.set_span_in_context(self.span)
        self.call: ModelCallObservation | None = None
        self.running: dict[str, _Running] = {}  # by tool_call_id
        self.requested: dict[str, int] = {}  # tool_call_id → when the model's call was seen (ns)
        self.response_model: str | None = None
        self.ended = False

    # ------------------------------------------------------------------------------------------ model calls
    def model_call(self, step: int, request: Mapping[str, Any]) -> ModelCallObservation:
        self.call = ModelCallObservation(self, request)
        return self.call

    # ------------------------------------------------------------------------------------------ tools
    def _tool_span(self, call_id: str, name: str, start: int | None, description: str | None) -> trace.Span:
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": name,
            "gen_ai.tool.call.id": call_id,
            "gen_ai.tool.type": "function",
        }
        if description:
            attributes["gen_ai.tool.description"] = description
        return self.otel.tracer.start_span(
            f"execute_tool {name}", self.context, SpanKind.INTERNAL, attributes, start_time=start
        )

    def tool_running(self, call: PreparedCall) -> _Running:
        start = time.time_ns()
        span = self._tool_span(call.tool_call_id, call.name, start, call.tool.description)
        if self.otel.capture:
            span.set_attribute("gen_ai.tool.call.arguments", call.arguments)
        running = self.running[call.tool_call_id] = _Running(span, start)
        return running

    def _tool_finished(self, outcome: ToolOutcome) -> None:
        found = self.running.pop(outcome.tool_call_id, None)
        raised = None
        if found is None and outcome.ok:  # ran in an earlier execution (a durable run's replayed step)
            return
        if found is None:  # never ran: unknown tool, invalid arguments, denied, timed out before starting
            span = self._tool_span(outcome.tool_call_id, outcome.name, self.requested.get(outcome.tool_call_id), None)
            if self.otel.capture:
                span.set_attribute("gen_ai.tool.call.arguments", outcome.arguments)
            end = None
        else:  # the tool's own end, not the end of the step
            span, end, raised = found.span, found.end_time(outcome.duration), found.raised
        if outcome.ok:
            if self.otel.capture:
                span.set_attribute("gen_ai.tool.call.result", outcome.content)
        else:
            span.set_attribute("error.type", _tool_error_type(outcome, raised))
            span.set_status(Status(StatusCode.ERROR, outcome.error if self.otel.capture else None))
        span.end(end)

    # ------------------------------------------------------------------------------------------ the run
    def event(self, event: AgentEvent) -> None:
        if isinstance(event, ToolResultEvent):
            self._tool_finished(event.outcome)
        elif isinstance(event, ToolCallEvent):
            self.requested[event.tool_call_id] = time.time_ns()
        elif isinstance(event, FinalResult):
            self._succeeded(event.result)

    def _succeeded(self, result: RunResult[Any]) -> None:
        span = self.span
        usage = result.usage
        span.set_attribute("gen_ai.usage.input_tokens", usage.prompt_tokens or 0)
        span.set_attribute("gen_ai.usage.output_tokens", usage.completion_tokens or 0)
        if result.finish_reason:
            span.set_attribute("gen_ai.response.finish_reasons", [result.finish_reason])
        if self.response_model:
            span.set_attribute("gen_ai.response.model", self.response_model)
        if self.otel.capture and not result.paused:  # a paused run has no answer yet
            span.set_attribute("gen_ai.output.messages", _content.final_output(result.output, result.finish_reason))
        self.ended = True
        span.end()

    def fail(self, error: BaseException) -> None:
        if self.ended:
            return
        self.ended = True
        if self.call is not None:
            self.call.fail(error)
        for running in self.running.values():  # tools still running when the run stopped
            running.span.end()
        self.running.clear()
        if not isinstance(error, GeneratorExit):  # a streaming caller that stops reading is not an error
            self.span.set_attribute("error.type", error_type(error))
            self.span.set_status(Status(StatusCode.ERROR, self._description(error)))
        self.span.end()

    def _description(self, error: BaseException) -> str | None:
        """The status description: our own messages always; text that may quote users or tools only on capture."""
        if self.otel.capture or isinstance(error, MistralException | MaxStepsExceeded):
            return str(error)
        return None


class ModelCallObservation:
    """One ``chat {model}`` span, from request to response (or to the end of the stream)."""

    def __init__(self, run: RunObservation, request: Mapping[str, Any]) -> None:
        self.run = run
        otel = run.otel
        model = str(request.get("model") or run.model)  # a fallback model's request names that model
        attributes = run.chat_attributes
        self.metric_attributes = run.metric_attributes
        if model != run.model:
            attributes = {**attributes, "gen_ai.request.model": model}
            self.metric_attributes = {**self.metric_attributes, "gen_ai.request.model": model}
        self.span = otel.tracer.start_span(f"chat {model}", run.context, SpanKind.CLIENT, attributes)
        if otel.capture:
            self.span.set_attribute("gen_ai.input.messages", _content.input_messages(request.get("messages") or ()))
        self.started = time.perf_counter()
        self.first_chunk: float | None = None
        self.resends = 0
        self._active = _Active(self.span)

    def active(self) -> ModelCallObservation:
        return self

    def __enter__(self) -> None:
        self._active.__enter__()

    def __exit__(self, *exc_info: object) -> None:
        self._active.__exit__()
        if self.run.stream and self.first_chunk is None:
            self.first_chunk = time.perf_counter() - self.started

    def retrying(self, attempt: int, error: BaseException, wait: float) -> None:
        self.resends = attempt
        self.span.add_event(
            RETRY_EVENT,
            {"error.type": error_type(error), "http.request.resend_count": attempt, "mistral_agents.retry.wait": wait},
        )

    def _metric_attributes(self, response_model: str | None) -> dict[str, Any]:
        attributes = self.metric_attributes
        if response_model:
            attributes = {**attributes, "gen_ai.response.model": response_model}
        return attributes

    def end(self, response: ChatCompletionResponse) -> None:
        span, run, otel = self.span, self.run, self.run.otel
        run.call = None
        duration = time.perf_counter() - self.started
        usage = response.usage
        input_tokens, output_tokens = usage.prompt_tokens or 0, usage.completion_tokens or 0
        attributes: dict[str, Any] = {
            "gen_ai.response.finish_reasons": [_content.finish_reason(c.finish_reason) for c in response.choices],
            "gen_ai.usage.input_tokens": input_tokens,
            "gen_ai.usage.output_tokens": output_tokens,
        }
        if response.model:
            attributes["gen_ai.response.model"] = run.response_model = response.model
        if response.id:
            attributes["gen_ai.response.id"] = response.id
        if self.resends:
            attributes["http.request.resend_count"] = self.resends
        if self.first_chunk is not None:
            attributes["gen_ai.response.time_to_first_chunk"] = self.first_chunk
        if otel.capture:
            attributes["gen_ai.output.messages"] = _content.output_messages(response)
        span.set_attributes(attributes)
        span.end()
        metric = self._metric_attributes(response.model or None)
        otel.duration.record(duration, metric)
        otel.tokens.record(input_tokens, {**metric, "gen_ai.token.type": "input"})
        otel.tokens.record(output_tokens, {**metric, "gen_ai.token.type": "output"})

    def fail(self, error: BaseException) -> None:
        if self.run.call is not self:  # already ended (the driver reported it, then the run failed)
            return
        self.run.call = None
        duration = time.perf_counter() - self.started
        attributes = self._metric_attributes(None)
        span = self.span
        resends = max(self.resends, getattr(error, "attempts", 1) - 1)
        if resends:
            span.set_attribute("http.request.resend_count", resends)
        if not isinstance(error, GeneratorExit):
            kind = error_type(error)
            span.set_attribute("error.type", kind)
            span.set_status(Status(StatusCode.ERROR, self.run._description(error)))
            attributes = {**attributes, "error.type": kind}
        span.end()
        self.run.otel.duration.record(duration, attributes)
