"""Tool sources: tools listed at run time (the seam MCP servers plug into), beside fixed ``@tool`` functions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from mistral_agents import Agent, MistralClient, tool
from mistral_agents.testing import OfflineModel, Reply
from mistral_agents.tools import Tool, ToolDefinitionError, ToolSource

from .helpers import Harness, retrieve_payment_status


@tool
def lookup_refund(transaction_id: str) -> str:
    """Look a refund up.

    Args:
        transaction_id: The transaction id.
    """
    return f"no refund for {transaction_id}"


@tool
def retrieve_payment_date(transaction_id: str) -> str:
    """Get the payment date of a transaction.

    Args:
        transaction_id: The transaction id.
    """
    return "2021-10-05"


class Catalogue:
    """A tool source whose list the test changes; it counts how often it is listed and closed."""

    def __init__(self, *tools: Tool[..., Any]) -> None:
        self.tools: Sequence[Tool[..., Any]] = tuple(tools)
        self.listed = 0
        self.closed = 0

    def list_tools(self) -> Sequence[Tool[..., Any]]:
        self.listed += 1
        return self.tools

    async def alist_tools(self) -> Sequence[Tool[..., Any]]:
        return self.list_tools()

    def close(self) -> None:
        self.closed += 1

    async def aclose(self) -> None:
        self.closed += 1

    def __repr__(self) -> str:
        return "Catalogue()"


def _tool_names(request: dict[str, Any]) -> list[str]:
    return [t["function"]["name"] for t in request.get("tools", [])]


def test_a_catalogue_is_a_tool_source() -> None:
    assert isinstance(Catalogue(), ToolSource)
    assert not isinstance(retrieve_payment_date, ToolSource)


async def test_listed_tools_are_sent_and_called_beside_fixed_tools(h: Harness) -> None:
    catalogue = Catalogue(lookup_refund)
    model = OfflineModel(script=[Reply.tool_call("lookup_refund", {"transaction_id": "T1"}), "None."])
    agent = h.agent(model, [retrieve_payment_status, catalogue])
    assert catalogue.listed == 0  # nothing is listed before the first run
    result = await h.run(agent)
    assert result.output == "None."
    assert [c.content for c in result.tool_calls] == ["no refund for T1"]
    assert [_tool_names(r) for r in model.chat_requests] == [["retrieve_payment_status", "lookup_refund"]] * 2
    assert model.rejections == []


async def test_a_changed_list_is_used_from_the_next_step(h: Harness) -> None:
    catalogue = Catalogue(lookup_refund)

    @tool
    def grow() -> str:
        """Add a tool to the catalogue."""
        catalogue.tools = (lookup_refund, retrieve_payment_date)
        return "grown"

    model = OfflineModel(
        script=[
            Reply.tool_call("grow"),
            Reply.tool_call("retrieve_payment_date", {"transaction_id": "T1"}),
            "Done.",
        ]
    )
    result = await h.run(h.agent(model, [grow, catalogue]))
    assert [c.content for c in result.tool_calls] == ["grown", "2021-10-05"]
    assert [_tool_names(r) for r in model.chat_requests] == [
        ["grow", "lookup_refund"],
        ["grow", "lookup_refund", "retrieve_payment_date"],
        ["grow", "lookup_refund", "retrieve_payment_date"],
    ]


async def test_a_source_with_no_tools_sends_none(h: Harness) -> None:
    model = OfflineModel(script=["Hello."])
    result = await h.run(h.agent(model, [Catalogue()]))
    assert result.output == "Hello."
    assert "tools" not in model.chat_requests[0]
    assert "tool_choice" not in model.chat_requests[0]


async def test_a_name_clash_is_a_clear_error_when_first_listed(h: Harness) -> None:
    model = OfflineModel(script=["never sent"])
    agent = h.agent(model, [lookup_refund, Catalogue(lookup_refund)])  # construction lists nothing: no error yet
    with pytest.raises(ToolDefinitionError, match=r"'lookup_refund' from Catalogue\(\) clashes with a tool given"):
        await h.run(agent)
    assert model.chat_requests == []


async def test_sources_close_with_the_agent() -> None:
    catalogue = Catalogue(lookup_refund)
    with Agent("mistral-small-latest", [catalogue], client=_offline()):
        pass
    assert catalogue.closed == 1
    async with Agent("mistral-small-latest", [catalogue], client=_offline()):
        pass
    assert catalogue.closed >= 2


def _offline() -> MistralClient:
    return MistralClient(endpoint="http://offline", transport=OfflineModel(script=[]).transport())
