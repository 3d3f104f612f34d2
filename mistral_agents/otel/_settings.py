"""What ``Agent(instrument=...)`` can be told."""

from __future__ import annotations

import os
from dataclasses import dataclass

from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

__all__ = ["CAPTURE_CONTENT_ENV", "OpenTelemetrySettings"]

#: The standard switch of OpenTelemetry's GenAI instrumentations for recording message contents.
CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"


@dataclass(frozen=True)
class OpenTelemetrySettings:
    """Where spans and metrics go, and whether contents are recorded.

    ``tracer_provider`` / ``meter_provider`` default to the global ones (read at each span, so a provider set
    after the agent was built is used). ``capture_content=True`` — or the environment variable
    ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`` — records messages, tool arguments and tool
    results on the spans; off by default, because they hold whatever your users and tools say.
    """

    tracer_provider: TracerProvider | None = None
    meter_provider: MeterProvider | None = None
    capture_content: bool = False

    @property
    def captures_content(self) -> bool:
        """``capture_content``, or the environment variable set to ``true``."""
        return self.capture_content or os.environ.get(CAPTURE_CONTENT_ENV, "").strip().lower() == "true"
