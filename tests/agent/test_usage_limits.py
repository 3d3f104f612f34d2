"""UsageLimits: a request over ``requests`` is never sent, token caps end the run after the response that went
over, a step over ``tool_calls`` runs none of its calls; each ends with UsageLimitExceeded carrying the usage
and the transcript so far (and a session keeps what completed). Sync and async, plain and streamed."""

from __future__ import annotations

from typing import Any

import pytest

from mistral_agents import AgentError, UsageLimitExceeded, UsageLimits
from mistral_agents.sessions import SQLiteSession
from mistral_agents.testing import OfflineModel, Reply
from mistral_agents.tools import tool

from .helpers import Harness, roles


def usage(prompt: int, completion: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def status_calls(n: int, **options: Any) -> list[Reply]:
    """``n`` model answers, each one call of ``status`` (for T1, T2, ...)."""
    return [Reply.tool_call("status", {"transaction_id": f"T{i}"}, **options) for i in range(1, n + 1)]


class Ran:
    """A ``status`` tool that records its calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []

        @tool
        def status(transaction_id: str) -> str:
            """The status of a transaction."""
            self.calls.append(transaction_id)
            return "Paid"

        self.tool = status


async def run_or_stream(h: Harness, mode: str, agent: Any, prompt: str = "Hi", **options: Any) -> Any:
    if mode == "run":
        return await h.run(agent, prompt, **options)
    return await h.stream(agent, prompt, **options)


@pytest.mark.parametrize("mode", ["run", "stream"])
async def test_a_request_over_the_limit_is_not_sent(h: Harness, mode: str) -> None:
    ran = Ran()
    model = OfflineModel(script=[*status_calls(3), "Paid."])
    agent = h.agent(model, [ran.tool], usage_limits=UsageLimits(requests=2))

    with pytest.raises(UsageLimitExceeded, match="requests limit of 2") as caught:
        await run_or_stream(h, mode, agent)

    assert len(model.chat_requests) == 2  # the third request was never sent
    assert ran.calls == ["T1", "T2"]
    error = caught.value
    assert isinstance(error, AgentError)
    assert (error.usage.requests, error.usage.tool_calls) == (2, 2)
    assert roles(error.messages) == ["user", "assistant", "tool", "assistant", "tool"]
    assert model.rejections == []


async def test_within_the_limits_the_result_counts_requests_and_tool_calls(h: Harness) -> None:
    ran = Ran()
    model = OfflineModel(
        script=[
            Reply.tool_calls([("status", {"transaction_id": "T1"}), ("status", {"transaction_id": "T2"})]),
            Reply.tool_call("nope", {}),  # an unknown tool: the model is told, nothing runs
            "Both paid.",
        ]
    )
    limits = UsageLimits(requests=3, tool_calls=2, total_tokens=100_000)
    agent = h.agent(model, [ran.tool], usage_limits=limits)

    result = await h.run(agent)

    assert result.output == "Both paid."
    assert (result.usage.requests, result.usage.tool_calls) == (3, 2)


@pytest.mark.parametrize(
    ("limits", "over"),
    [
        (UsageLimits(input_tokens=150), "input_tokens limit of 150 exceeded (200)"),
        (UsageLimits(output_tokens=30), "output_tokens limit of 30 exceeded (40)"),
        (UsageLimits(total_tokens=200), "total_tokens limit of 200 exceeded (240)"),
    ],
)
async def test_a_token_limit_ends_the_run_after_the_response_that_went_over(
    h: Harness, limits: UsageLimits, over: str
) -> None:
    ran = Ran()
    model = OfflineModel(script=[*status_calls(3, usage=usage(100, 20)), "Paid."])
    agent = h.agent(model, [ran.tool], usage_limits=limits)

    with pytest.raises(UsageLimitExceeded, match=f"^{over.replace('(', '[(]').replace(')', '[)]')}$") as caught:
        await h.run(agent)

    assert len(model.chat_requests) == 2
    assert ran.calls == ["T1"]  # the calls of the response that went over never ran
    assert caught.value.usage.total_tokens == 240
    assert roles(caught.value.messages) == ["user", "assistant", "tool", "assistant"]


@pytest.mark.parametrize("mode", ["run", "stream"])
async def test_a_step_over_the_tool_calls_limit_runs_none_of_its_calls(h: Harness, mode: str) -> None:
    ran = Ran()
    model = OfflineModel(
        script=[
            Reply.tool_call("status", {"transaction_id": "T1"}),
            Reply.tool_calls([("status", {"transaction_id": "T2"}), ("status", {"transaction_id": "T3"})]),
            "Paid.",
        ]
    )
    agent = h.agent(model, [ran.tool], usage_limits=UsageLimits(tool_calls=2))

    with pytest.raises(UsageLimitExceeded, match="tool_calls limit of 2") as caught:
        await run_or_stream(h, mode, agent)

    assert ran.calls == ["T1"]  # T2 alone would fit, but the step would go over: neither ran
    assert caught.value.usage.tool_calls == 1
    assert len(model.chat_requests) == 2


async def test_a_run_narrows_its_agents_limits_and_cannot_lift_them(h: Harness) -> None:
    ran = Ran()
    model = OfflineModel(script=[*status_calls(4), "Paid."])
    agent = h.agent(model, [ran.tool], usage_limits=UsageLimits(requests=3))

    with pytest.raises(UsageLimitExceeded, match="requests limit of 1"):
        await h.run(agent, usage_limits=UsageLimits(requests=1))
    assert len(model.chat_requests) == 1

    with pytest.raises(UsageLimitExceeded, match="requests limit of 3"):
        await h.run(agent, usage_limits=UsageLimits(requests=100, total_tokens=10**6))
    assert len(model.chat_requests) == 1 + 3


async def test_per_run_limits_on_an_agent_without_any(h: Harness) -> None:
    model = OfflineModel(script=[*status_calls(2), "Paid."])
    agent = h.agent(model, [Ran().tool])

    with pytest.raises(UsageLimitExceeded, match="tool_calls limit of 1"):
        await h.run(agent, usage_limits=UsageLimits(tool_calls=1))


async def test_a_session_keeps_what_completed_before_the_limit(h: Harness) -> None:
    ran = Ran()
    model = OfflineModel(script=[*status_calls(3, usage=usage(100, 20)), "Paid."])
    agent = h.agent(model, [ran.tool], usage_limits=UsageLimits(total_tokens=200))
    session = SQLiteSession("limits")

    with pytest.raises(UsageLimitExceeded) as caught:
        await h.run(agent, "Status?", session=session)

    stored = session.get_messages()
    assert stored == caught.value.messages[:3]  # the prompt and the finished tool step, not the open call
    assert roles(stored) == ["user", "assistant", "tool"]

    later = OfflineModel(script=["Resumed."])  # the next run on the session sends a valid transcript
    result = await h.run(h.agent(later, [ran.tool]), "And now?", session=session)
    assert result.output == "Resumed."
    assert roles(later.chat_requests[0]["messages"])[:3] == ["user", "assistant", "tool"]
    assert later.rejections == []


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="requests"):
        UsageLimits(requests=-1)
    with pytest.raises(ValueError, match="total_tokens"):
        UsageLimits(total_tokens=1.5)  # type: ignore[arg-type]
    assert UsageLimits(requests=3, tool_calls=1).narrowed(UsageLimits(requests=5, total_tokens=9)) == UsageLimits(
        requests=3, total_tokens=9, tool_calls=1
    )
