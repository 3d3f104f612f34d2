"""ToolRegistry: name → Tool, specs, and running the model's tool calls without raising for its mistakes."""

import asyncio
import threading
import time
from typing import Any

import pytest

from mistral_agents.models.chat_completion import ChatMessage, FunctionCall, ToolCall
from mistral_agents.tools import (
    PreparedCall,
    RunContext,
    ToolArgumentError,
    ToolDefinitionError,
    ToolOutcome,
    ToolRegistry,
    tool,
)

PAYMENTS = {"T1001": "Paid", "T1002": "Unpaid"}


@tool
def retrieve_payment_status(transaction_id: str) -> dict[str, str]:
    """Get payment status of a transaction id

    Args:
        transaction_id: The transaction id.
    """
    return {"status": PAYMENTS[transaction_id]}


@tool
def divide(a: float, b: float) -> float:
    return a / b


def call(name: str, arguments: str, call_id: str = "D681PevKs") -> ToolCall:
    return ToolCall(id=call_id, function=FunctionCall(name=name, arguments=arguments))


@pytest.fixture
def registry() -> ToolRegistry:
    return ToolRegistry([retrieve_payment_status, divide])


# --- the mapping ---------------------------------------------------------------------------------------


def test_a_mapping_of_name_to_tool(registry: ToolRegistry) -> None:
    assert list(registry) == ["retrieve_payment_status", "divide"]
    assert len(registry) == 2
    assert registry["divide"] is divide
    assert "divide" in registry
    assert "missing" not in registry


def test_plain_callables_are_wrapped() -> None:
    def shout(text: str) -> str:
        return text.upper()

    registry = ToolRegistry([shout])
    assert registry["shout"]("a") == "A"
    assert registry.specs()[0]["function"]["name"] == "shout"


def test_duplicate_names_are_an_error_naming_the_duplicate() -> None:
    with pytest.raises(ToolDefinitionError, match="two tools are named 'divide'"):
        ToolRegistry([divide, tool(name="divide")(lambda: None)])


def test_specs_are_the_list_sent_to_the_api(registry: ToolRegistry) -> None:
    assert registry.specs() == [retrieve_payment_status.spec, divide.spec]
    assert registry.specs()[0] == {
        "type": "function",
        "function": {
            "name": "retrieve_payment_status",
            "description": "Get payment status of a transaction id",
            "parameters": {
                "type": "object",
                "properties": {"transaction_id": {"type": "string", "description": "The transaction id."}},
                "required": ["transaction_id"],
            },
        },
    }
    registry.specs().clear()
    assert len(registry.specs()) == 2


# --- dispatch: successes and every kind of model mistake -----------------------------------------------


def test_dispatch_returns_the_tool_message(registry: ToolRegistry) -> None:
    message = registry.dispatch(call("retrieve_payment_status", '{"transaction_id": "T1001"}'))
    assert message == ChatMessage(
        role="tool", tool_call_id="D681PevKs", name="retrieve_payment_status", content='{"status":"Paid"}'
    )


def test_unknown_tool_lists_the_available_ones(registry: ToolRegistry) -> None:
    outcome = registry.execute(call("retrieve_payment", "{}"))
    assert outcome.error_kind == "unknown_tool"
    assert not outcome.ok
    assert (
        outcome.content == "Error: unknown tool 'retrieve_payment'. Available tools: retrieve_payment_status, divide."
    )
    assert outcome.message.name == "retrieve_payment"
    assert outcome.message.tool_call_id == "D681PevKs"


def test_names_are_looked_up_exactly(registry: ToolRegistry) -> None:
    for name in ("__class__", "keys", "get", "_tools", "Divide", "divide "):
        assert registry.execute(call(name, "{}")).error_kind == "unknown_tool"


def test_invalid_arguments_go_back_to_the_model(registry: ToolRegistry) -> None:
    outcome = registry.execute(call("divide", '{"a": "one"}'))
    assert outcome.error_kind == "invalid_arguments"
    assert isinstance(outcome.exception, ToolArgumentError)
    assert outcome.args is None
    assert outcome.content == (
        "Error: invalid arguments for tool 'divide': 'a': Input should be a valid number, unable to parse string "
        "as a number (got 'one'); 'b': Field required. Fix the arguments and call the tool again."
    )


def test_invalid_json_goes_back_to_the_model(registry: ToolRegistry) -> None:
    outcome = registry.execute(call("divide", '{"a": 1, "b": '))
    assert outcome.error_kind == "invalid_arguments"
    assert outcome.content.startswith("Error: invalid arguments for tool 'divide': the arguments are not valid JSON")
    assert outcome.arguments == '{"a": 1, "b": '


def test_tool_exceptions_become_error_results(registry: ToolRegistry) -> None:
    outcome = registry.execute(call("divide", '{"a": 1, "b": 0}'))
    assert outcome.error_kind == "tool_exception"
    assert isinstance(outcome.exception, ZeroDivisionError)
    assert outcome.content == "Error: tool 'divide' raised ZeroDivisionError: float division by zero"
    assert outcome.error == "tool 'divide' raised ZeroDivisionError: float division by zero"
    assert outcome.args == {"a": 1.0, "b": 0.0}
    assert registry.dispatch(call("retrieve_payment_status", '{"transaction_id": "nope"}')).content == (
        "Error: tool 'retrieve_payment_status' raised KeyError: 'nope'"
    )


def test_a_tool_can_reject_its_arguments_itself() -> None:
    @tool
    def book(city: str) -> str:
        raise ToolArgumentError(f"no hotel in {city}; try a bigger city")

    outcome = ToolRegistry([book]).execute(call("book", '{"city": "Nowhere"}'))
    assert outcome.error_kind == "invalid_arguments"
    assert outcome.content == (
        "Error: invalid arguments for tool 'book': no hotel in Nowhere; try a bigger city. "
        "Fix the arguments and call the tool again."
    )


def test_base_exceptions_are_not_swallowed() -> None:
    @tool
    def interrupt() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ToolRegistry([interrupt]).dispatch(call("interrupt", "{}"))


def test_outcome_of_a_success(registry: ToolRegistry) -> None:
    outcome = registry.execute(call("divide", '{"a": 1, "b": 4}'))
    assert outcome.ok
    assert (outcome.result, outcome.content, outcome.error, outcome.error_kind) == (0.25, "0.25", None, None)
    assert outcome.args == {"a": 1.0, "b": 4.0}
    assert outcome.duration >= 0


# --- sans-I/O steps: prepare → (agent runs it) → finish --------------------------------------------------


def test_prepare_then_finish(registry: ToolRegistry) -> None:
    prepared = registry.prepare(call("divide", '{"a": 3, "b": 2}', "abcDEF123"))
    assert isinstance(prepared, PreparedCall)
    assert (prepared.tool, prepared.tool_call_id, prepared.name) == (divide, "abcDEF123", "divide")
    assert prepared.args == {"a": 3.0, "b": 2.0}
    outcome = registry.finish(prepared, result=prepared.call(), duration=0.5)
    assert outcome == ToolOutcome(
        "abcDEF123", "divide", '{"a": 3, "b": 2}', {"a": 3.0, "b": 2.0}, 1.5, "1.5", duration=0.5
    )


def test_prepare_returns_a_finished_outcome_for_mistakes(registry: ToolRegistry) -> None:
    assert isinstance(registry.prepare(call("nope", "{}")), ToolOutcome)
    assert isinstance(registry.prepare(call("divide", "[]")), ToolOutcome)


def test_timeout_and_denied_outcomes() -> None:
    @tool(timeout=2.5, requires_approval=True)
    def wire(amount: int) -> None:
        pass

    registry = ToolRegistry([wire])
    prepared = registry.prepare(call("wire", '{"amount": 5}'))
    assert isinstance(prepared, PreparedCall)
    timed_out = registry.finish(prepared, error=TimeoutError(), error_kind="timeout", duration=2.5)
    assert timed_out.error_kind == "timeout"
    assert timed_out.content.startswith("Error: tool 'wire' did not finish within 2.5 seconds. It could not be stopped")
    assert timed_out.still_running
    unstarted = registry.finish(prepared, error=TimeoutError(), error_kind="timeout", started=False)
    assert (
        unstarted.content
        == "Error: tool 'wire' did not start within 2.5 seconds (all tool workers were busy) and was not run."
    )
    assert not unstarted.still_running
    denied = registry.deny(prepared, "amount above the daily limit")
    assert denied.error_kind == "denied"
    assert denied.content == "Error: the call to tool 'wire' was denied. Reason: amount above the daily limit"
    assert registry.deny(prepared).content == "Error: the call to tool 'wire' was denied."


def test_context_gets_the_call_id_and_tool_name() -> None:
    @tool
    def whoami(ctx: RunContext[str]) -> list[Any]:
        return [ctx.deps, ctx.tool_call_id, ctx.tool_name, ctx.step]

    registry = ToolRegistry([whoami])
    ctx = RunContext(deps="alice", step=3)
    assert registry.dispatch(call("whoami", "", "Xyz123abc"), ctx).content == '["alice","Xyz123abc","whoami",3]'
    assert ctx.tool_call_id is None  # the caller's context is not modified


def test_max_result_chars_truncates_with_a_marker() -> None:
    @tool
    def big() -> str:
        return "x" * 100

    outcome = ToolRegistry([big], max_result_chars=10).execute(call("big", "{}"))
    assert outcome.content == "x" * 10 + "\n[truncated: 90 of 100 characters omitted]"
    assert outcome.result == "x" * 100
    assert ToolRegistry([big], max_result_chars=100).dispatch(call("big", "{}")).content == "x" * 100
    with pytest.raises(ValueError, match="max_result_chars"):
        ToolRegistry([big], max_result_chars=0)


# --- async ---------------------------------------------------------------------------------------------


@tool
async def fetch_rate(currency: str) -> float:
    await asyncio.sleep(0)
    if currency == "XXX":
        raise LookupError("unknown currency")
    return 1.1


def test_sync_dispatch_runs_async_tools_when_no_loop_is_running() -> None:
    registry = ToolRegistry([fetch_rate])
    assert registry.dispatch(call("fetch_rate", '{"currency": "USD"}')).content == "1.1"
    assert registry.dispatch(call("fetch_rate", '{"currency": "XXX"}')).content == (
        "Error: tool 'fetch_rate' raised LookupError: unknown currency"
    )


async def test_sync_dispatch_of_an_async_tool_inside_a_loop_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match=r"is async and an event loop is running.*adispatch"):
        ToolRegistry([fetch_rate]).dispatch(call("fetch_rate", '{"currency": "USD"}'))


async def test_adispatch_awaits_async_tools() -> None:
    registry = ToolRegistry([fetch_rate])
    message = await registry.adispatch(call("fetch_rate", '{"currency": "USD"}', "aaaaaaaa1"))
    assert message == ChatMessage(role="tool", tool_call_id="aaaaaaaa1", name="fetch_rate", content="1.1")
    outcome = await registry.aexecute(call("fetch_rate", '{"currency": "XXX"}'))
    assert outcome.error_kind == "tool_exception"


async def test_adispatch_runs_sync_tools_in_threads_concurrently() -> None:
    threads: set[int] = set()
    spans: list[tuple[float, float]] = []

    @tool
    def block(n: int) -> int:
        threads.add(threading.get_ident())
        started = time.perf_counter()
        time.sleep(0.2)
        spans.append((started, time.perf_counter()))
        return n

    registry = ToolRegistry([block])
    messages = await asyncio.gather(*(registry.adispatch(call("block", f'{{"n": {i}}}')) for i in range(4)))
    assert [m.content for m in messages] == ["0", "1", "2", "3"]
    assert max(start for start, _ in spans) < min(end for _, end in spans)  # the four calls overlapped
    assert threading.get_ident() not in threads


async def test_adispatch_mistakes_are_messages_too(registry: ToolRegistry) -> None:
    assert (await registry.adispatch(call("nope", "{}"))).content.startswith("Error: unknown tool 'nope'")
    assert (await registry.adispatch(call("divide", "{}"))).content.startswith("Error: invalid arguments")
    assert (await registry.adispatch(call("divide", '{"a": 1, "b": 0}'))).content.startswith(
        "Error: tool 'divide' raised ZeroDivisionError"
    )
