"""The span tree of a run, by the GenAI semantic conventions: exact names, kinds, parents and attributes."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from mistral_agents import Agent, MistralAsyncClient, MistralClient, RetryPolicy, tool
from mistral_agents.agent import MaxStepsExceeded, TextDelta
from mistral_agents.exceptions import MistralAPIException
from mistral_agents.testing import OfflineModel, Reply
from tests.agent.helpers import MODEL, Harness
from tests.otel.conftest import Telemetry

USAGE_1 = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
USAGE_2 = {"prompt_tokens": 150, "completion_tokens": 7, "total_tokens": 157}
SERVER = {"server.address": "offline", "server.port": 80}
CONTENT_KEYS = {
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
}


def attributes(span: ReadableSpan, *volatile: str) -> dict[str, Any]:
    """The span's attributes, without the ``volatile`` ones (checked to be present)."""
    found = dict(span.attributes or {})
    for key in volatile:
        assert found.pop(key), f"{span.name} has no {key}"
    return found


def parent_of(span: ReadableSpan, spans: list[ReadableSpan]) -> ReadableSpan | None:
    if span.parent is None:
        return None
    return next(s for s in spans if s.context.span_id == span.parent.span_id)


def overlap(a: ReadableSpan, b: ReadableSpan) -> bool:
    assert a.start_time is not None and a.end_time is not None and b.start_time is not None
    assert b.end_time is not None
    return a.start_time < b.end_time and b.start_time < a.end_time


def lookup_tools(barrier: threading.Barrier | None = None) -> list[Any]:
    @tool
    def payment_status(transaction_id: str) -> str:
        """The payment status of a transaction.

        Args:
            transaction_id: The transaction id.
        """
        if barrier is not None:
            barrier.wait()  # both calls are running at once, or this times out
        return "Paid"

    @tool
    def payment_date(transaction_id: str) -> str:
        """The payment date of a transaction.

        Args:
            transaction_id: The transaction id.
        """
        if barrier is not None:
            barrier.wait()
        return "2021-10-05"

    return [payment_status, payment_date]


async def test_a_two_tool_parallel_run_is_one_tree_with_the_conventions_attributes(
    h: Harness, telemetry: Telemetry
) -> None:
    model = OfflineModel(
        script=[
            Reply.tool_calls(
                [
                    ("payment_status", {"transaction_id": "T1"}, "aaaaaaaa1"),
                    ("payment_date", {"transaction_id": "T1"}, "bbbbbbbb2"),
                ],
                usage=USAGE_1,
            ),
            Reply.text("Paid on 2021-10-05.", usage=USAGE_2),
        ]
    )
    tools = lookup_tools(threading.Barrier(2, timeout=10))
    agent = h.agent(model, tools, name="support", instrument=telemetry.settings())
    result = await h.run(agent, "When was T1 paid?")
    assert result.output == "Paid on 2021-10-05."

    spans = telemetry.spans()
    assert sorted(s.name for s in spans) == [
        f"chat {MODEL}",
        f"chat {MODEL}",
        "execute_tool payment_date",
        "execute_tool payment_status",
        "invoke_agent support",
    ]
    (run,) = telemetry.named("invoke_agent")
    first, second = sorted(telemetry.named("chat"), key=lambda s: s.start_time or 0)
    status, date = telemetry.named("execute_tool payment_status") + telemetry.named("execute_tool payment_date")

    assert run.kind is SpanKind.INTERNAL and run.parent is None
    assert {s.context.trace_id for s in spans} == {run.context.trace_id}
    for span in (first, second, status, date):
        assert parent_of(span, spans) is run
    assert first.kind is SpanKind.CLIENT and second.kind is SpanKind.CLIENT
    assert status.kind is SpanKind.INTERNAL and date.kind is SpanKind.INTERNAL

    assert attributes(run) == {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.provider.name": "mistral_ai",
        "gen_ai.agent.name": "support",
        "gen_ai.request.model": MODEL,
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 250,
        "gen_ai.usage.output_tokens": 27,
        **SERVER,
    }
    chat = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "mistral_ai", "gen_ai.request.model": MODEL}
    assert attributes(first, "gen_ai.response.id") == {
        **chat,
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ("tool_calls",),
        "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.output_tokens": 20,
        **SERVER,
    }
    assert attributes(second, "gen_ai.response.id") == {
        **chat,
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 150,
        "gen_ai.usage.output_tokens": 7,
        **SERVER,
    }
    assert attributes(status) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "payment_status",
        "gen_ai.tool.call.id": "aaaaaaaa1",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.description": "The payment status of a transaction.",
    }
    assert attributes(date)["gen_ai.tool.call.id"] == "bbbbbbbb2"
    assert all(s.status.status_code is StatusCode.UNSET for s in spans)
    # The two calls ran at the same time; both after the first model call and before the second.
    assert overlap(status, date)
    for span in (status, date):
        assert first.end_time is not None and second.end_time is not None
        assert first.end_time <= (span.start_time or 0) and (span.end_time or 0) <= (second.start_time or 0)
    assert run.start_time is not None and run.end_time is not None
    assert run.start_time <= (first.start_time or 0) and (second.end_time or 0) <= run.end_time


async def test_tool_calls_that_fail_or_never_run_are_error_spans_with_error_type(
    h: Harness, telemetry: Telemetry
) -> None:
    @tool
    def refund(transaction_id: str) -> str:
        """Refund a transaction."""
        raise LookupError(f"no transaction {transaction_id}")

    @tool(requires_approval=True)
    def close_account(account: str) -> str:
        """Close an account."""
        return "closed"

    model = OfflineModel(
        script=[
            Reply.tool_calls(
                [
                    ("refund", {"transaction_id": "T9"}, "aaaaaaaa1"),
                    ("refnud", {"transaction_id": "T9"}, "bbbbbbbb2"),
                    ("refund", {"transaction_id": 12}, "cccccccc3"),
                    ("close_account", {"account": "A1"}, "dddddddd4"),
                ]
            ),
            "Sorry, that did not work.",
        ]
    )
    agent = h.agent(model, [refund, close_account], instrument=telemetry.settings(), approver=lambda call: False)
    await h.run(agent, "Refund T9 and close A1")

    by_id = {s.attributes["gen_ai.tool.call.id"]: s for s in telemetry.named("execute_tool")}  # type: ignore[index]
    assert {k: (s.name, s.attributes["error.type"]) for k, s in by_id.items()} == {  # type: ignore[index]
        "aaaaaaaa1": ("execute_tool refund", "LookupError"),
        "bbbbbbbb2": ("execute_tool refnud", "unknown_tool"),
        "cccccccc3": ("execute_tool refund", "invalid_arguments"),
        "dddddddd4": ("execute_tool close_account", "denied"),
    }
    for span in by_id.values():
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description is None  # the tool's message may hold user data: only with capture_content
    (run,) = telemetry.named("invoke_agent")
    assert run.name == "invoke_agent"  # no name given
    assert run.status.status_code is StatusCode.UNSET  # the model got the errors and answered


async def test_a_tool_timeout_is_error_type_timeout(h: Harness, telemetry: Telemetry) -> None:
    release = threading.Event()

    @tool(timeout=0.05)
    def slow() -> str:
        """Never answers in time."""
        release.wait(5)
        return "late"

    model = OfflineModel(script=[Reply.tool_call("slow", {}), "gave up"])
    agent = h.agent(model, [slow], instrument=telemetry.settings())
    try:
        await h.run(agent, "go")
    finally:
        release.set()
    (span,) = telemetry.named("execute_tool")
    assert span.attributes is not None and span.attributes["error.type"] == "timeout"


async def test_a_rate_limited_call_retried_then_answered_is_one_chat_span_showing_the_retry(
    h: Harness, telemetry: Telemetry
) -> None:
    model = OfflineModel(script=[Reply.error(429, {"message": "slow down"}), "hello"])
    agent = _retrying_agent(h, model, instrument=telemetry.settings())
    result = await h.run(agent, "hi")
    assert result.output == "hello"

    (chat,) = telemetry.named("chat")
    assert chat.status.status_code is StatusCode.UNSET and "error.type" not in (chat.attributes or {})
    assert chat.attributes is not None and chat.attributes["http.request.resend_count"] == 1
    assert [(e.name, e.attributes["error.type"], e.attributes["http.request.resend_count"]) for e in chat.events] == [  # type: ignore[index]
        ("mistral_agents.retry", "429", 1)
    ]
    (point,) = telemetry.points("gen_ai.client.operation.duration")
    assert point.count == 1 and "error.type" not in point.attributes


async def test_retries_that_run_out_fail_the_chat_and_the_run_with_the_status(h: Harness, telemetry: Telemetry) -> None:
    model = OfflineModel(script=[Reply.error(503, {"message": "busy"})] * 3)
    agent = _retrying_agent(h, model, instrument=telemetry.settings())
    with pytest.raises(MistralAPIException):
        await h.run(agent, "hi")

    (chat,) = telemetry.named("chat")
    (run,) = telemetry.named("invoke_agent")
    assert chat.attributes is not None and chat.attributes["error.type"] == "503"
    assert chat.attributes["http.request.resend_count"] == 2
    assert len(chat.events) == 2
    assert chat.status.status_code is StatusCode.ERROR and "busy" in (chat.status.description or "")
    assert run.attributes is not None and run.attributes["error.type"] == "503"
    assert run.status.status_code is StatusCode.ERROR
    (point,) = telemetry.points("gen_ai.client.operation.duration")
    assert point.attributes["error.type"] == "503"


async def test_max_steps_exceeded_fails_the_run_span(h: Harness, telemetry: Telemetry) -> None:
    @tool
    def again() -> str:
        """Call me."""
        return "again"

    model = OfflineModel(script=[Reply.tool_call("again", {})])
    agent = h.agent(model, [again], instrument=telemetry.settings(), max_steps=1)
    with pytest.raises(MaxStepsExceeded):
        await h.run(agent, "loop")
    (run,) = telemetry.named("invoke_agent")
    assert run.attributes is not None and run.attributes["error.type"] == "MaxStepsExceeded"
    assert run.status.status_code is StatusCode.ERROR and "max_steps=1" in (run.status.description or "")
    (chat,) = telemetry.named("chat")
    assert chat.status.status_code is StatusCode.UNSET  # the model call itself went fine


async def test_a_stream_is_traced_and_its_chat_span_ends_with_the_stream(h: Harness, telemetry: Telemetry) -> None:
    model = OfflineModel(script=[Reply.text("one two three four", chunk_delay=0.01)])
    agent = h.agent(model, (), instrument=telemetry.settings())
    events = await h.stream(agent, "count")
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "one two three four"

    (chat,) = telemetry.named("chat")
    (run,) = telemetry.named("invoke_agent")
    assert parent_of(chat, telemetry.spans()) is run
    assert chat.attributes is not None and chat.attributes["gen_ai.request.stream"] is True
    first_chunk = chat.attributes["gen_ai.response.time_to_first_chunk"]
    assert isinstance(first_chunk, float)
    # The chunks came 10 ms apart: the span lasted past the first chunk, to the end of the stream.
    assert chat.end_time is not None and chat.start_time is not None
    assert (chat.end_time - chat.start_time) / 1e9 > first_chunk + 0.02
    assert chat.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert chat.attributes["gen_ai.usage.output_tokens"] > 0


async def test_a_stream_the_caller_stops_reading_still_ends_its_spans(h: Harness, telemetry: Telemetry) -> None:
    model = OfflineModel(script=[Reply.text("one two three four five six")])
    agent = h.agent(model, (), instrument=telemetry.settings())
    if h.mode == "sync":
        stream = agent.run_stream("count")
        assert isinstance(next(stream), TextDelta)
        stream.close()  # type: ignore[attr-defined]
    else:
        astream = agent.arun_stream("count")
        assert isinstance(await anext(astream), TextDelta)
        await astream.aclose()  # type: ignore[attr-defined]
    (chat,) = telemetry.named("chat")
    (run,) = telemetry.named("invoke_agent")
    assert run.status.status_code is StatusCode.UNSET and chat.status.status_code is StatusCode.UNSET


async def test_content_is_not_recorded_unless_asked(h: Harness, telemetry: Telemetry) -> None:
    model = OfflineModel(script=[Reply.tool_call("payment_status", {"transaction_id": "T1"}), "Paid."])
    agent = h.agent(model, lookup_tools(), system_prompt="You are a bank.", instrument=telemetry.settings())
    await h.run(agent, "secret question")
    for span in telemetry.spans():
        assert not CONTENT_KEYS & set(span.attributes or {}), span.name
        assert "secret" not in str(span.attributes) and "Paid" not in str(span.attributes)


def _retrying_agent(h: Harness, model: OfflineModel, **options: Any) -> Agent[Any]:
    """An agent like the harness's, whose client retries twice without sleeping."""

    async def no_wait(seconds: float) -> None:
        return None

    policy = RetryPolicy(sleep=lambda seconds: None, async_sleep=no_wait)
    client: MistralClient | MistralAsyncClient
    if h.mode == "sync":
        client = MistralClient(endpoint="http://offline", transport=model.transport(), max_retries=2, retry=policy)
    else:
        client = MistralAsyncClient(endpoint="http://offline", transport=model.transport(), max_retries=2, retry=policy)
    h._clients.append(client)
    return Agent(MODEL, client=client, **options)
