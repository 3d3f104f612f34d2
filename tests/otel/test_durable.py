"""DBOSAgent runs are traced like Agent's: spans come from the steps that really run in this process."""

from __future__ import annotations

from typing import Any

import pytest

from mistral_agents import Agent, MistralClient, tool
from mistral_agents.testing import OfflineModel, Reply
from tests.otel.conftest import Telemetry

pytest.importorskip("dbos", reason='needs the dbos extra: pip install -e ".[dev]"')

from tests.durable.conftest import dbos_config

__all__ = ["dbos_config"]


@tool
def lookup(i: int) -> dict[str, int]:
    """Look an item up.

    Args:
        i: Item number.
    """
    return {"item": i}


def test_a_durable_run_is_one_trace_and_a_finished_workflow_traces_nothing_again(
    dbos_config: dict[str, Any], telemetry: Telemetry
) -> None:
    from dbos import DBOS

    from mistral_agents.durable import DBOSAgent

    model = OfflineModel(script=[Reply.tool_calls([("lookup", {"i": 1}), ("lookup", {"i": 2})]), "Two items."])
    client = MistralClient(endpoint="http://offline", transport=model.transport())
    with Agent("mistral-small-latest", [lookup], client=client, name="bot", instrument=telemetry.settings()) as agent:
        bot = DBOSAgent(agent)
        DBOS.launch()
        assert bot.run("Items 1 and 2?", workflow_id="w-otel").output == "Two items."
        assert bot.run("Items 1 and 2?", workflow_id="w-otel").output == "Two items."  # stored: nothing runs

    spans = [
        s for s in telemetry.spans() if s.instrumentation_scope and s.instrumentation_scope.name == "mistral_agents"
    ]
    assert sorted(s.name for s in spans) == [
        "chat mistral-small-latest",
        "chat mistral-small-latest",
        "execute_tool lookup",
        "execute_tool lookup",
        "invoke_agent bot",
    ]
    (run,) = [s for s in spans if s.name == "invoke_agent bot"]
    for span in spans:
        if span is not run:
            assert span.parent is not None and span.parent.span_id == run.context.span_id, span.name
