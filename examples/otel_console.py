"""Tracing an agent with OpenTelemetry: every run, model call and tool call as a span, printed to the console.

    pip install "mistral-agents[otel]" opentelemetry-sdk
    python examples/otel_console.py

Runs on the offline model unless MISTRAL_API_KEY is set. Swap ``ConsoleSpanExporter`` for the OTLP exporter
(``opentelemetry-exporter-otlp``) to see the same spans in Jaeger, Tempo, Honeycomb or Datadog.
Set ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`` to record messages and tool results too.
"""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

from mistral_agents import Agent, MistralClient
from mistral_agents.demo import SYSTEM_PROMPT, retrieve_payment_date, retrieve_payment_status
from mistral_agents.testing import OfflineModel


def main() -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "payments-bot"}))
    provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    tracer = trace.get_tracer("support-desk")

    if os.environ.get("MISTRAL_API_KEY"):
        client = MistralClient()
    else:  # the built-in offline model
        client = MistralClient(endpoint="http://offline.invalid", transport=OfflineModel().transport())
    tools = [retrieve_payment_status, retrieve_payment_date]
    with (
        client,
        Agent(
            "mistral-large-latest",
            tools,
            client=client,
            system_prompt=SYSTEM_PROMPT,
            name="payments",
            instrument=True,  # the global tracer provider set above
        ) as agent,
        tracer.start_as_current_span("ticket T1001"),  # the run nests under the caller's span
    ):
        print(agent.run("What's the status of transaction T1001?").output)
    provider.shutdown()


if __name__ == "__main__":
    main()
