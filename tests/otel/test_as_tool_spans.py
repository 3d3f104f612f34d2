"""An agent called as a tool is traced inside the call that ran it: its ``invoke_agent`` span is a child of the
caller's ``execute_tool`` span (in threads and in tasks), with its own model and tool spans below."""

from __future__ import annotations

from typing import Any

from mistral_agents import Agent, tool
from mistral_agents.testing import OfflineModel, Reply
from tests.agent.helpers import MODEL, Harness
from tests.otel.conftest import Telemetry


@tool
def refund_status(refund_id: str) -> str:
    """The status of a refund."""
    return "approved"


async def test_the_inner_run_nests_under_the_callers_execute_tool_span(h: Harness, telemetry: Telemetry) -> None:
    model = OfflineModel(
        script=[
            Reply.tool_call("refunds", {"input": "R1?"}),
            Reply.tool_call("refund_status", {"refund_id": "R1"}),
            "R1 is approved.",
            "Your refund is approved.",
        ]
    )
    refunds: Agent[Any] = Agent(MODEL, [refund_status], name="refunds")  # no client, no instrument=: the caller's
    triage = h.agent(model, [refunds.as_tool()], name="triage", instrument=telemetry.settings())

    await h.run(triage, "Where is my refund?")

    spans = {span.name: span for span in telemetry.spans()}
    by_id = {span.context.span_id: span for span in telemetry.spans()}

    def parent(name: str) -> str:
        span = spans[name]
        assert span.parent is not None, f"{name} has no parent"
        return by_id[span.parent.span_id].name

    assert parent("invoke_agent refunds") == "execute_tool refunds"
    assert parent("execute_tool refunds") == "invoke_agent triage"
    assert parent("execute_tool refund_status") == "invoke_agent refunds"
    chats = [s for s in telemetry.spans() if s.name.startswith("chat")]
    assert sorted(by_id[s.parent.span_id].name for s in chats if s.parent) == [
        "invoke_agent refunds", "invoke_agent refunds", "invoke_agent triage", "invoke_agent triage",
    ]  # fmt: skip
    assert spans["invoke_agent triage"].parent is None
    await refunds.aclose()
