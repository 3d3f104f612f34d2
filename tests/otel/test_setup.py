"""Turning instrumentation on and off, content capture, metrics, and what never reaches telemetry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mistral_agents import Agent, MistralClient, RetryPolicy, tool
from mistral_agents.otel import OpenTelemetrySettings, instrument_all, uninstrument_all
from mistral_agents.testing import OfflineModel, Reply
from tests.agent.helpers import MODEL, Harness
from tests.otel.conftest import Telemetry


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60, check=False
    )


def test_an_uninstrumented_run_never_imports_opentelemetry() -> None:
    done = run_python(
        """
        import sys
        from mistral_agents import Agent, MistralClient
        from mistral_agents.testing import OfflineModel, Reply

        def add(a: int, b: int) -> int:
            '''Add.'''
            return a + b

        calls = Reply.tool_calls([("add", {"a": 1, "b": 2}), ("add", {"a": 3, "b": 4})])
        model = OfflineModel(script=[calls, "3 and 7"] * 4)
        client = MistralClient(endpoint="http://offline", transport=model.transport())
        for instrument in (None, False):
            agent = Agent("mistral-large-latest", [add], client=client, instrument=instrument)
            assert agent.run("add").output == "3 and 7"
            assert "".join(getattr(e, "text", "") for e in agent.run_stream("add")) == "3 and 7"
        print(sorted(m for m in sys.modules if m.startswith("opentelemetry") or m == "mistral_agents.otel"))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_without_the_extra_instrumenting_says_which_extra_to_install() -> None:
    done = run_python(
        """
        import sys
        sys.modules["opentelemetry"] = None  # as if the extra were not installed
        from mistral_agents import Agent
        try:
            Agent("mistral-large-latest", instrument=True)
        except ImportError as error:
            print(error)
        """
    )
    assert done.returncode == 0, done.stderr
    assert 'pip install "mistral-agents[otel]"' in done.stdout


async def test_instrument_all_traces_agents_built_without_instrument(telemetry: Telemetry) -> None:
    harness = Harness("async")
    model = OfflineModel(script=["one", "two", "three"])
    default, opted_out = harness.agent(model), harness.agent(model, instrument=False)
    instrument_all(telemetry.settings())
    try:
        await harness.run(default, "hi")
        await harness.run(opted_out, "hi")
    finally:
        uninstrument_all()
    await harness.run(default, "hi")
    await harness.aclose()
    assert [s.name for s in telemetry.spans()] == [f"chat {MODEL}", "invoke_agent"]


def test_instrument_rejects_what_it_does_not_know() -> None:
    with pytest.raises(TypeError, match="instrument must be"):
        Agent(MODEL, instrument="yes")


async def test_content_capture_records_messages_arguments_and_results_as_the_conventions_say(
    h: Harness, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")

    @tool
    def payment_status(transaction_id: str) -> dict[str, str]:
        """The payment status of a transaction."""
        return {"status": "Paid"}

    model = OfflineModel(script=[Reply.tool_call("payment_status", {"transaction_id": "T1"}, id="aaaaaaaa1"), "Paid."])
    agent = h.agent(model, [payment_status], system_prompt="You are a bank.", instrument=telemetry.settings())
    await h.run(agent, "Status of T1?")

    first, second = sorted(telemetry.named("chat"), key=lambda s: s.start_time or 0)
    (call,) = telemetry.named("execute_tool")
    (run,) = telemetry.named("invoke_agent")
    assert first.attributes is not None and second.attributes is not None and call.attributes is not None
    system = {"role": "system", "parts": [{"type": "text", "content": "You are a bank."}]}
    user = {"role": "user", "parts": [{"type": "text", "content": "Status of T1?"}]}
    tool_call = {
        "type": "tool_call",
        "id": "aaaaaaaa1",
        "name": "payment_status",
        "arguments": {"transaction_id": "T1"},
    }
    assert json.loads(str(first.attributes["gen_ai.input.messages"])) == [system, user]
    assert json.loads(str(first.attributes["gen_ai.output.messages"])) == [
        {"role": "assistant", "parts": [tool_call], "finish_reason": "tool_calls"}
    ]
    assert json.loads(str(second.attributes["gen_ai.input.messages"])) == [
        system,
        user,
        {"role": "assistant", "parts": [tool_call]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "aaaaaaaa1", "response": '{"status":"Paid"}'}]},
    ]
    assert json.loads(str(call.attributes["gen_ai.tool.call.arguments"])) == {"transaction_id": "T1"}
    assert json.loads(str(call.attributes["gen_ai.tool.call.result"])) == {"status": "Paid"}
    assert run.attributes is not None
    assert json.loads(str(run.attributes["gen_ai.output.messages"])) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Paid."}], "finish_reason": "stop"}
    ]


async def test_metrics_record_tokens_and_durations_per_model_call(h: Harness, telemetry: Telemetry) -> None:
    usage = {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}
    model = OfflineModel(script=[Reply.text("a", usage=usage), Reply.text("b", usage=usage)])
    agent = h.agent(model, (), instrument=telemetry.settings())
    await h.run(agent, "one")
    await h.run(agent, "two")

    common = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "mistral_ai",
        "gen_ai.request.model": MODEL,
        "gen_ai.response.model": MODEL,
        "server.address": "offline",
        "server.port": 80,
    }
    tokens = {p.attributes["gen_ai.token.type"]: p for p in telemetry.points("gen_ai.client.token.usage")}
    assert {k: (dict(p.attributes), p.count, p.sum) for k, p in tokens.items()} == {
        "input": ({**common, "gen_ai.token.type": "input"}, 2, 22),
        "output": ({**common, "gen_ai.token.type": "output"}, 2, 6),
    }
    (duration,) = telemetry.points("gen_ai.client.operation.duration")
    assert dict(duration.attributes) == common and duration.count == 2


def test_the_api_key_never_reaches_a_span_an_event_or_a_metric(telemetry: Telemetry) -> None:
    key = "sk-live-0123456789abcdefSECRET"

    @tool
    def echo_headers(text: str) -> str:
        """Echo."""
        raise RuntimeError(f"failed on {text}")

    model = OfflineModel(
        api_key=key,
        script=[
            Reply.error(429, {"message": "slow down"}),
            Reply.tool_call("echo_headers", {"text": "hi"}),
            Reply.error(401, {"message": "Unauthorized"}),
        ],
    )
    client = MistralClient(
        api_key=key, endpoint="http://offline", transport=model.transport(), retry=RetryPolicy(sleep=lambda s: None)
    )
    agent = Agent(MODEL, [echo_headers], client=client, instrument=telemetry.settings(capture_content=True))
    with pytest.raises(Exception):  # noqa: B017 - the 401 ends the run; what matters is what was exported
        agent.run("go")
    exported = [
        (s.name, dict(s.attributes or {}), s.status.description, [(e.name, dict(e.attributes or {})) for e in s.events])
        for s in telemetry.spans()
    ]
    assert len(exported) == 4 and any(s[3] for s in exported)  # chat (with a retry event), tool, chat, run
    metrics = telemetry.reader.get_metrics_data()
    assert metrics is not None
    everything = repr(exported) + metrics.to_json()
    assert "0123456789abcdef" not in everything and "Bearer" not in everything
    assert "Unauthorized" in everything  # the error itself is there


def test_settings_read_the_capture_switch_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)
    assert OpenTelemetrySettings().captures_content is False
    assert OpenTelemetrySettings(capture_content=True).captures_content is True
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "TRUE")
    assert OpenTelemetrySettings().captures_content is True
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "false")
    assert OpenTelemetrySettings().captures_content is False


def test_the_console_example_prints_the_runs_spans_nested_under_the_callers() -> None:
    root = Path(__file__).resolve().parents[2]
    env = {key: value for key, value in os.environ.items() if key != "MISTRAL_API_KEY"}
    done = subprocess.run(
        [sys.executable, str(root / "examples" / "otel_console.py")],
        capture_output=True, text=True, timeout=60, check=False, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "The status of transaction T1001 is Paid." in done.stdout
    for name in ("invoke_agent payments", "chat mistral-large-latest", "execute_tool retrieve_payment_status"):
        assert f'"name": "{name}"' in done.stdout


async def test_a_run_on_a_session_carries_its_id_as_the_conversation_id(h: Harness, telemetry: Telemetry) -> None:
    from mistral_agents.sessions import SQLiteSession

    session = SQLiteSession("customer-42")
    model = OfflineModel(script=["Hello.", "Again."])
    agent = h.agent(model, (), instrument=telemetry.settings())
    await h.run(agent, "hi", session=session)
    await h.run(agent, "hi again", session=session)
    spans = telemetry.spans()
    assert len(spans) == 4
    assert {s.attributes["gen_ai.conversation.id"] for s in spans if s.attributes} == {"customer-42"}  # type: ignore[index]
    for point in telemetry.points("gen_ai.client.operation.duration"):
        assert "gen_ai.conversation.id" not in point.attributes  # one series per session would explode metrics


async def test_a_paused_run_ends_its_span_without_an_answer(h: Harness, telemetry: Telemetry) -> None:
    @tool(requires_approval=True)
    def refund(transaction_id: str) -> str:
        """Refund a transaction."""
        return "refunded"

    model = OfflineModel(script=[Reply.tool_call("refund", {"transaction_id": "T1"}), "Refunded."])
    agent = h.agent(model, [refund], instrument=telemetry.settings(capture_content=True))
    result = await h.run(agent, "refund T1")
    assert result.paused
    (run,) = telemetry.named("invoke_agent")
    assert run.status.status_code.name == "UNSET" and "gen_ai.output.messages" not in (run.attributes or {})
    assert telemetry.named("execute_tool") == []  # nothing ran yet
    await h.run(agent, None, history=result.messages, approvals={result.pending[0].tool_call_id: True})
    (call,) = telemetry.named("execute_tool")
    assert call.attributes is not None and call.attributes["gen_ai.tool.call.result"] == "refunded"
