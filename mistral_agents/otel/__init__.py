"""OpenTelemetry for agents, by the GenAI semantic conventions (extra ``otel``: ``pip install "mistral-agents[otel]"``).

``Agent(..., instrument=True)`` traces every run of that agent with the global tracer and meter providers;
``instrument=OpenTelemetrySettings(tracer_provider=..., meter_provider=..., capture_content=...)`` chooses them;
``instrument_all`` traces every agent built without ``instrument=``. Each run is an ``invoke_agent`` span, each
model call a ``chat {model}`` span under it, each tool call an ``execute_tool {name}`` span beside them; metrics
``gen_ai.client.operation.duration`` and ``gen_ai.client.token.usage``. See ``docs/observability.md``.
"""

from __future__ import annotations

try:
    import opentelemetry.metrics
    import opentelemetry.trace  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised in a subprocess test
    raise ImportError('mistral_agents.otel needs OpenTelemetry: pip install "mistral-agents[otel]"') from error

from ..agent import _observe
from ._instrumentation import OpenTelemetryInstrumentation
from ._settings import OpenTelemetrySettings

__all__ = ["OpenTelemetrySettings", "instrument_all", "uninstrument_all"]


def instrumentation(settings: OpenTelemetrySettings | None = None) -> OpenTelemetryInstrumentation:
    """The instrumentation ``Agent(instrument=settings)`` uses (global providers when ``settings`` is None)."""
    return OpenTelemetryInstrumentation(settings or OpenTelemetrySettings())


def instrument_all(settings: OpenTelemetrySettings | None = None) -> None:
    """Trace every agent that was built without ``instrument=`` (already built ones too, from their next run)."""
    _observe.default_instrumentation = instrumentation(settings)


def uninstrument_all() -> None:
    """Undo ``instrument_all``."""
    _observe.default_instrumentation = None
