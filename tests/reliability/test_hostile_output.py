"""Hostile model output: whatever the model sends, the agent answers within bounds — never a crash or a hang.

The model is scripted (the offline model), so each test sends exactly the hostile message it names; every request
the agent sends back is checked against the hosted API's rules (``model.rejections`` must stay empty).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from mistral_agents import Agent, MistralAsyncClient, MistralClient, RunResult, ToolRegistry, tool
from mistral_agents.agent import ToolError
from mistral_agents.testing import OfflineModel, Reply

from .helpers import MODEL

MB = 1024 * 1024


class Runner:
    """Runs an agent on a scripted offline model, synchronously (in a worker thread) or asynchronously."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.agents: list[Agent[Any]] = []

    def agent(self, model: OfflineModel, tools: Any, **options: Any) -> Agent[Any]:
        flavour = MistralClient if self.mode == "sync" else MistralAsyncClient
        client = flavour(endpoint="http://offline", transport=model.transport(), max_retries=0)
        agent: Agent[Any] = Agent(MODEL, tools, client=client, **options)
        self.agents.append(agent)
        return agent

    async def run(self, agent: Agent[Any], prompt: str = "go") -> RunResult[Any]:
        if self.mode == "sync":
            return await asyncio.to_thread(agent.run, prompt)
        return await asyncio.wait_for(agent.arun(prompt), 20)


@pytest.fixture(params=["sync", "async"])
async def runner(request: pytest.FixtureRequest) -> AsyncIterator[Runner]:
    r = Runner(request.param)
    yield r
    for agent in r.agents:
        await agent.aclose()
        client = agent._client
        if isinstance(client, MistralAsyncClient):
            await client.close()
        elif isinstance(client, MistralClient):
            client.close()


class Spy:
    """Tools that record whether their body ever ran."""

    def __init__(self) -> None:
        self.calls: list[Any] = []

        @tool
        def lookup(key: str, limit: int = 3) -> str:
            """Look a key up.

            Args:
                key: The key.
                limit: How many results.
            """
            self.calls.append((key, limit))
            return f"value-of-{key}"

        @tool
        def measure(text: str) -> dict[str, int]:
            """Measure a text.

            Args:
                text: The text.
            """
            self.calls.append(len(text))
            return {"length": len(text)}

        @tool
        def store(data: dict[str, Any]) -> str:
            """Store a document.

            Args:
                data: The document.
            """
            self.calls.append("store")
            return "stored"

        self.tools = [lookup, measure, store]


def tool_contents(model: OfflineModel) -> list[str]:
    last = model.chat_requests[-1]["messages"]
    return [m["content"] for m in last if m["role"] == "tool"]


# ------------------------------------------------------------------------------------------------ bad arguments
@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ("{not json", "the arguments are not valid JSON"),
        ("[1, 2, 3]", "invalid arguments for tool 'lookup'"),
        ('"just a string"', "invalid arguments for tool 'lookup'"),
        ('{"key": 5}', "invalid arguments for tool 'lookup'"),
        ('{"other": "x"}', "invalid arguments for tool 'lookup'"),
        ('{"key": "a", "limit": "many"}', "limit"),
        ('{"key": {"nested": ["deep"]}}', "invalid arguments for tool 'lookup'"),
        ("\x00\x01\x02", "the arguments are not valid JSON"),
    ],
    ids=["not-json", "array", "string", "wrong-type", "unknown-field", "bad-int", "object-for-str", "control-bytes"],
)
async def test_bad_arguments_go_back_to_the_model_and_the_tool_never_runs(
    runner: Runner, arguments: str, expected: str
) -> None:
    spy = Spy()
    model = OfflineModel(script=[Reply.tool_call("lookup", arguments), "Sorry, let me fix that."])
    result = await runner.run(runner.agent(model, spy.tools))
    assert spy.calls == []
    [outcome] = result.tool_calls
    assert outcome.error_kind == "invalid_arguments"
    [content] = tool_contents(model)
    assert content.startswith("Error: ") and expected in content
    assert content.endswith("Fix the arguments and call the tool again.")
    assert result.output == "Sorry, let me fix that."
    assert model.rejections == []


# ------------------------------------------------------------------------------------------------ huge payloads
async def test_a_huge_string_argument_is_handled(runner: Runner) -> None:
    spy = Spy()
    text = "x" * (5 * MB)
    model = OfflineModel(script=[Reply.tool_call("measure", {"text": text}), "Measured."])
    result = await runner.run(runner.agent(model, spy.tools))
    assert spy.calls == [5 * MB]
    assert tool_contents(model) == [json.dumps({"length": 5 * MB}, separators=(",", ":"))]
    assert model.rejections == []
    assert result.output == "Measured."


async def test_a_huge_invalid_argument_is_not_echoed_back_in_full(runner: Runner) -> None:
    spy = Spy()
    model = OfflineModel(script=[Reply.tool_call("lookup", '{"key": "' + "y" * (3 * MB)), "ok"])
    await runner.run(runner.agent(model, spy.tools))
    [content] = tool_contents(model)
    assert spy.calls == [] and len(content) < 2000


async def test_a_huge_text_answer_is_returned(runner: Runner) -> None:
    model = OfflineModel(script=[Reply.text("word " * MB)])
    result = await runner.run(runner.agent(model, Spy().tools))
    assert result.output == "word " * MB


async def test_a_huge_tool_result_is_capped_by_the_agent(runner: Runner) -> None:
    @tool
    def dump() -> str:
        """Dump everything."""
        return "z" * (4 * MB)

    model = OfflineModel(script=[Reply.tool_call("dump", {}), "Too much."])
    result = await runner.run(runner.agent(model, [dump], max_result_chars=10_000))
    [content] = tool_contents(model)
    assert content.startswith("z" * 10_000)
    assert content.endswith(f"[truncated: {4 * MB - 10_000} of {4 * MB} characters omitted]")
    assert len(content) < 10_100
    assert result.tool_calls[0].result == "z" * (4 * MB)  # the caller still has the whole value
    assert model.rejections == []


async def test_a_tool_registry_with_a_cap_can_be_given_directly(runner: Runner) -> None:
    @tool
    def dump() -> list[int]:
        """Dump everything."""
        return list(range(100_000))

    model = OfflineModel(script=[Reply.tool_call("dump", {}), "ok"])
    await runner.run(runner.agent(model, ToolRegistry([dump], max_result_chars=100)))
    [content] = tool_contents(model)
    assert content.startswith("[0,1,2,3") and "[truncated: " in content and len(content) < 200


# ------------------------------------------------------------------------------------------------ deep nesting
@pytest.mark.parametrize("depth", [1_000, 100_000])
async def test_deeply_nested_arguments_are_refused_without_recursion_errors(runner: Runner, depth: int) -> None:
    spy = Spy()
    nested = '{"data": ' + '{"a": ' * depth + "1" + "}" * depth + "}"
    model = OfflineModel(script=[Reply.tool_call("store", nested), "Refused."])
    result = await runner.run(runner.agent(model, spy.tools))
    assert spy.calls == []
    [content] = tool_contents(model)
    assert content.startswith("Error: invalid arguments for tool 'store': the arguments are not valid JSON")
    assert "recursion limit exceeded" in content
    assert result.output == "Refused."
    assert model.rejections == []


async def test_deeply_nested_arrays_in_arguments(runner: Runner) -> None:
    spy = Spy()
    model = OfflineModel(script=[Reply.tool_call("lookup", "[" * 100_000 + "]" * 100_000), "ok"])
    await runner.run(runner.agent(model, spy.tools))
    assert spy.calls == [] and "not valid JSON" in tool_contents(model)[0]


async def test_a_tool_returning_a_deeply_nested_value_does_not_crash(runner: Runner) -> None:
    @tool
    def deep() -> list[Any]:
        """Something deep."""
        value: list[Any] = []
        for _ in range(100_000):
            value = [value]
        return value

    model = OfflineModel(script=[Reply.tool_call("deep", {}), "ok"])
    result = await runner.run(runner.agent(model, [deep], max_tool_errors=5))
    [content] = tool_contents(model)
    assert content.startswith("Error: ") or content.startswith("[[[")
    assert result.output == "ok"
    assert model.rejections == []


async def test_a_deeply_nested_response_body_is_a_decode_error_not_a_crash(runner: Runner) -> None:
    body = b'{"id": "x", "object": "chat.completion", "created": 1, "model": "m", "extra": ' + b"[" * 100_000
    body += b"]" * 100_000 + b', "choices": []}'
    model = OfflineModel(script=[Reply.raw(200, body, "application/json")])
    from mistral_agents import ResponseDecodeError

    with pytest.raises(ResponseDecodeError) as caught:
        await runner.run(runner.agent(model, Spy().tools))
    assert "recursion limit" in str(caught.value) or "not valid JSON" in str(caught.value)
    assert [m.role for m in caught.value.messages or []] == ["user"]


# ------------------------------------------------------------------------------------------------ names and ids
@pytest.mark.parametrize("name", ["nope", "Lookup", "lookup ", "__import__", "os.system", "__class__", "", "x" * 500])
async def test_unknown_tool_names_are_answered_with_an_error(runner: Runner, name: str) -> None:
    spy = Spy()
    model = OfflineModel(script=[Reply.tool_call(name, {"key": "k"}), "I see."])
    result = await runner.run(runner.agent(model, spy.tools))
    assert spy.calls == []
    [outcome] = result.tool_calls
    assert outcome.error_kind == "unknown_tool"
    [content] = tool_contents(model)
    assert content.startswith("Error: unknown tool ")
    assert len(content) < 300  # a long hostile name is shortened, not echoed in full
    assert content.endswith("Available tools: lookup, measure, store.")
    assert model.rejections == [], [r.violation for r in model.rejections]


async def test_colliding_ids_in_one_message_are_made_distinct(runner: Runner) -> None:
    spy = Spy()
    calls = [("lookup", {"key": "a"}, "SAMEid123"), ("lookup", {"key": "b"}, "SAMEid123"),
             ("lookup", {"key": "c"}, "SAMEid123")]  # fmt: skip
    model = OfflineModel(script=[Reply.tool_calls(calls), Reply.tool_call("lookup", {"key": "d"}, id="SAMEid123"),
                                 "Done."])  # fmt: skip
    result = await runner.run(runner.agent(model, spy.tools))
    assert sorted(spy.calls) == [("a", 3), ("b", 3), ("c", 3), ("d", 3)]
    ids = [o.tool_call_id for o in result.tool_calls]
    assert len(set(ids)) == 4 and ids[0] == "SAMEid123"
    last = model.chat_requests[-1]["messages"]
    answered = [m["tool_call_id"] for m in last if m["role"] == "tool"]
    assert answered == ids
    assert [m["content"] for m in last if m["role"] == "tool"] == ["value-of-a", "value-of-b", "value-of-c",
                                                                    "value-of-d"]  # fmt: skip
    assert model.rejections == []


@pytest.mark.parametrize("bad_id", ["", "null", "call_abc123def456", "short", "has space", "x" * 200, "tést12345"])
async def test_invalid_ids_are_replaced_consistently(runner: Runner, bad_id: str) -> None:
    spy = Spy()
    model = OfflineModel(script=[Reply.tool_call("lookup", {"key": "a"}, id=bad_id or None), "ok"], validate=True)
    result = await runner.run(runner.agent(model, spy.tools))
    assert result.output == "ok" and model.rejections == []


# ------------------------------------------------------------------------------------------------ call floods
async def test_hundreds_of_calls_in_one_message_are_capped(runner: Runner) -> None:
    spy = Spy()
    calls = [("lookup", {"key": f"k{i}"}) for i in range(300)]
    model = OfflineModel(script=[Reply.tool_calls(calls), "Done."])
    agent = runner.agent(model, spy.tools, max_tool_calls_per_step=32, max_tool_errors=1000)
    result = await runner.run(agent)
    assert sorted(spy.calls) == sorted((f"k{i}", 3) for i in range(32))
    contents = tool_contents(model)
    assert len(contents) == 300  # every call answered, in order
    assert contents[:32] == [f"value-of-k{i}" for i in range(32)]
    assert all(
        c.startswith("Error: too many tool calls in one message: only the first 32 were run.") for c in contents[32:]
    )
    assert result.output == "Done." and model.rejections == []


async def test_a_call_flood_against_the_default_error_budget_ends_with_the_transcript(runner: Runner) -> None:
    spy = Spy()
    model = OfflineModel(script=[Reply.tool_calls([("lookup", {"key": f"k{i}"}) for i in range(500)]), "never"])
    with pytest.raises(ToolError) as caught:
        await runner.run(runner.agent(model, spy.tools))
    assert len(spy.calls) == 32
    messages = caught.value.messages
    assert [m.role for m in messages[:2]] == ["user", "assistant"] and len(messages) == 2 + 500
    assert model.remaining == 1


async def test_floods_of_bad_calls_exhaust_the_error_budget_quickly(runner: Runner) -> None:
    spy = Spy()
    script = [Reply.tool_call("lookup", "{bad") for _ in range(50)]
    model = OfflineModel(script=script)
    with pytest.raises(ToolError) as caught:
        await runner.run(runner.agent(model, spy.tools, max_tool_errors=3, max_steps=100))
    assert len(model.chat_requests) == 4 and spy.calls == []
    assert "too many failed tool calls (4, max_tool_errors=3)" in str(caught.value)


async def test_a_model_that_never_stops_calling_tools_hits_max_steps(runner: Runner) -> None:
    from mistral_agents import MaxStepsExceeded

    spy = Spy()
    model = OfflineModel(script=[Reply.tool_call("lookup", {"key": "k"}) for _ in range(20)])
    with pytest.raises(MaxStepsExceeded) as caught:
        await runner.run(runner.agent(model, spy.tools, max_steps=5))
    assert len(spy.calls) == 5 and len(caught.value.messages) == 1 + 5 * 2
    assert model.rejections == []


async def test_content_and_tool_calls_together_and_odd_finish_reasons(runner: Runner) -> None:
    spy = Spy()
    model = OfflineModel(
        script=[
            Reply.tool_call("lookup", {"key": "a"}, finish_reason="weird_reason"),
            Reply.text("answer", finish_reason="something_new"),
        ]
    )
    result = await runner.run(runner.agent(model, spy.tools))
    assert result.output == "answer" and result.finish_reason == "something_new"


async def test_an_invalid_name_never_reaches_the_tool_its_cleaned_up_form_would_name(runner: Runner) -> None:
    ran: list[str] = []

    @tool
    def os_system(command: str) -> str:
        """Pretend to run a command.

        Args:
            command: The command.
        """
        ran.append(command)
        return "ran"

    model = OfflineModel(script=[Reply.tool_call("os.system", {"command": "rm -rf /"}), "ok"])
    result = await runner.run(runner.agent(model, [os_system]))
    assert ran == []
    [outcome] = result.tool_calls
    assert outcome.error_kind == "unknown_tool" and outcome.name == "os_system"  # the transcript's valid name
    assert tool_contents(model) == ["Error: unknown tool 'os.system'. Available tools: os_system."]
    assert model.rejections == []
