"""functools.partial tools: what the caller bound is neither shown to the model nor overridable by it."""

from __future__ import annotations

import functools
import json

import pytest

from mistral_agents import Agent, MistralClient
from mistral_agents.testing import OfflineModel, Reply
from mistral_agents.tools import ToolArgumentError, tool

MODEL = "mistral-large-latest"


def transfer(amount: int, account: str) -> str:
    """Move money.

    Args:
        amount: How much.
        account: Where to.
    """
    paid.append((amount, account))
    return f"sent {amount} to {account}"


paid: list[tuple[int, str]] = []


def lookup(data: dict[str, str], key: str) -> str:
    """Look a key up.

    Args:
        data: The table.
        key: The key.
    """
    return data.get(key, "missing")


BIG = {f"row{i:05d}": "x" * 40 for i in range(2000)}


def test_keyword_bound_arguments_vanish_from_the_schema() -> None:
    t = tool(functools.partial(transfer, account="OWNER"), name="transfer")
    assert t.parameters == {
        "type": "object",
        "properties": {"amount": {"type": "integer", "description": "How much."}},
        "required": ["amount"],
    }
    assert "OWNER" not in json.dumps(t.spec)


def test_the_model_cannot_override_a_bound_argument() -> None:
    t = tool(functools.partial(transfer, account="OWNER"), name="transfer")
    with pytest.raises(ToolArgumentError, match="'account': unknown argument"):
        t.validate('{"amount": 5, "account": "ATTACKER"}')


def test_an_agent_never_runs_the_call_with_the_models_account() -> None:
    paid.clear()
    model = OfflineModel(
        script=[
            Reply.tool_call("transfer", {"amount": 5, "account": "ATTACKER"}),
            Reply.tool_call("transfer", {"amount": 7}),
            "Done.",
        ]
    )
    client = MistralClient(endpoint="http://offline", transport=model.transport(), max_retries=0)
    with Agent(MODEL, [tool(functools.partial(transfer, account="OWNER"), name="transfer")], client=client) as agent:
        result = agent.run("pay")
    assert paid == [(7, "OWNER")]  # the attacker's call never ran; the honest one used the bound account
    assert "unknown argument" in result.tool_calls[0].content
    assert all("OWNER" not in json.dumps(body["tools"]) for body in model.chat_requests)


@pytest.mark.parametrize("bind", ["keyword", "positional"])
def test_a_bound_dataset_is_not_sent_with_every_request(bind: str) -> None:
    bound = functools.partial(lookup, data=BIG) if bind == "keyword" else functools.partial(lookup, BIG)
    t = tool(bound, name="lookup")
    assert list(t.parameters["properties"]) == ["key"]
    model = OfflineModel(script=[Reply.tool_call("lookup", {"key": "row00001"}), "ok"])
    client = MistralClient(endpoint="http://offline", transport=model.transport(), max_retries=0)
    with Agent(MODEL, [t], client=client) as agent:
        result = agent.run("find")
    assert result.tool_calls[0].content == "x" * 40
    for request in model.requests:
        assert len(json.dumps(request.json)) < 5_000  # the 100 kB table stays home


def test_nested_partials_and_documented_bound_parameters_do_not_warn() -> None:
    inner = functools.partial(transfer, account="OWNER")
    outer = functools.partial(inner, amount=3)
    t = tool(outer, name="fixed_transfer")  # filterwarnings=error: a docstring warning would fail here
    assert t.parameters == {"type": "object", "properties": {}}
    with pytest.raises(ToolArgumentError):
        t.validate({"amount": 1_000_000})
    assert t.call(t.validate(None)) == "sent 3 to OWNER"
