"""Tracing an agent with hooks: one span per model call and per tool call, logged (or sent anywhere).

    python examples/tracing_hooks.py

``AgentHooks`` see every model call and tool call with no tracing package at all: for logs, counters or audits.
For OpenTelemetry spans by the GenAI conventions, use ``Agent(..., instrument=True)`` instead: see
``examples/otel_console.py`` and ``docs/observability.md``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from mistral_agents import (
    Agent,
    AgentHooks,
    ChatCompletionResponse,
    MistralClient,
    RunResult,
    ToolCallEvent,
    ToolResultEvent,
)
from mistral_agents.demo import SYSTEM_PROMPT, retrieve_payment_date, retrieve_payment_status
from mistral_agents.testing import OfflineModel


class SpanLogger(AgentHooks):
    """Prints a span line for every model call and tool call, with its duration."""

    def __init__(self) -> None:
        self._tool_started: dict[str, float] = {}

    def on_model_request(self, step: int, request: Mapping[str, Any]) -> None:
        print(f"[span start] model.chat step={step} messages={len(request['messages'])}")

    def on_model_response(self, step: int, response: ChatCompletionResponse, duration: float) -> None:
        usage = response.usage
        print(f"[span end]   model.chat step={step} {duration * 1000:.1f} ms tokens={usage.total_tokens}")

    def on_tool_start(self, event: ToolCallEvent) -> None:
        self._tool_started[event.tool_call_id] = time.perf_counter()
        print(f"[span start] tool.{event.name} id={event.tool_call_id} args={event.arguments}")

    def on_tool_end(self, event: ToolResultEvent) -> None:
        outcome = event.outcome
        status = "ok" if outcome.ok else f"error={outcome.error_kind}"
        print(f"[span end]   tool.{outcome.name} id={outcome.tool_call_id} {outcome.duration * 1000:.2f} ms {status}")

    def on_run_end(self, result: RunResult[Any]) -> None:
        print(f"[run end]    steps={result.steps} tokens={result.usage.total_tokens}")


def main() -> None:
    if os.environ.get("MISTRAL_API_KEY"):
        client = MistralClient()
    else:  # the built-in offline model
        client = MistralClient(endpoint="http://offline.invalid", transport=OfflineModel().transport())
    tools = [retrieve_payment_status, retrieve_payment_date]
    with (
        client,
        Agent("mistral-large-latest", tools, client=client, system_prompt=SYSTEM_PROMPT, hooks=SpanLogger()) as agent,
    ):
        print(agent.run("What's the status of transaction T1001?").output)


if __name__ == "__main__":
    main()
