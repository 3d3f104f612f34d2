"""What OpenTelemetry instrumentation costs per agent step, in-process (no network).

    python benchmarks/otel_overhead.py [--rounds 15] [--count 200]

The same two-step run as ``benchmarks/run.py``'s in-process row (tool call + answer through an
``httpx.MockTransport``), by four agents interleaved round by round: not instrumented; instrumented with no SDK
(the API's no-op providers: our own cost); instrumented with the SDK (a ``TracerProvider`` with a
``BatchSpanProcessor`` whose exporter drops the spans, a ``MeterProvider``); and that with content capture.
Times are the process's CPU time (all its threads, the span processor's too), so other jobs on the machine
disturb them less than wall time. Prints medians per run and the overhead per step (one model call with its
tool call). Needs ``opentelemetry-sdk`` (in the ``dev`` extra). Not a test: timings are noise there.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as suite  # noqa: E402  (the suite's canned responses and timer)


def cpu_block(op: Callable[[], Any], count: int) -> float:
    """Microseconds of process CPU time per call of ``op``, over ``count`` calls."""
    started = time.process_time()
    for _ in range(count):
        op()
    return (time.process_time() - started) / count * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--count", type=int, default=200, help="runs per round and agent")
    args = parser.parse_args(argv)

    import httpx
    from opentelemetry.metrics import NoOpMeterProvider
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
    from opentelemetry.trace import NoOpTracerProvider

    from mistral_agents import Agent, MistralClient, tool
    from mistral_agents.otel import OpenTelemetrySettings

    class Discard(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    tool_call = suite._completion_bytes(tool_name="get_weather")
    answer = suite._completion_bytes(tool_name=None)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=answer if b'"role":"tool"' in request.content else tool_call)

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(Discard(), max_queue_size=100_000))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    client = MistralClient(endpoint="http://bench.local", api_key=suite.API_KEY, transport=httpx.MockTransport(handler))
    weather = tool(suite.get_weather)
    variants: dict[str, Any] = {
        "not instrumented": False,
        "instrumented, no SDK (no-op providers)": OpenTelemetrySettings(NoOpTracerProvider(), NoOpMeterProvider()),
        "instrumented, SDK": OpenTelemetrySettings(tracer_provider, meter_provider),
        "instrumented, SDK, capture_content=True": OpenTelemetrySettings(
            tracer_provider, meter_provider, capture_content=True
        ),
    }
    agents = {name: Agent(suite.MODEL, [weather], client=client, instrument=v) for name, v in variants.items()}
    ops: dict[str, Callable[[], Any]] = {name: (lambda a=agent: a.run(suite.PROMPT)) for name, agent in agents.items()}
    timings: dict[str, list[float]] = {name: [] for name in ops}
    for op in ops.values():
        for _ in range(20):
            op()
    names = list(ops)
    for index in range(args.rounds):
        order = names[index % len(names) :] + names[: index % len(names)]  # rotate who goes first
        for name in order:
            gc.collect()
            timings[name].append(cpu_block(ops[name], args.count))
    tracer_provider.shutdown()

    plain = timings["not instrumented"]
    print(f"{'':44} {'run (2 steps)':>14} {'per step, over not instrumented':>34}")
    for name, values in timings.items():
        overhead = statistics.median((v - p) / 2 for v, p in zip(values, plain, strict=True))
        extra = "" if name == "not instrumented" else f"{overhead:+.1f} µs"
        print(f"{name:44} {statistics.median(values):>11.1f} µs {extra:>34}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
