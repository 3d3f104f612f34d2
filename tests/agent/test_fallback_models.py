"""fallback_models: after the client's retries, a 429, a 5xx, a timeout or a connection error sends the same request
(but for ``model``) to the next model; a request error never falls back. Every model's usage is counted and the
model that answered each step is in ``result.models_used``. Sync and async, plain and streamed."""

from __future__ import annotations

from typing import Any

import pytest

from mistral_agents import (
    Agent,
    AuthenticationError,
    BadRequestError,
    MistralAsyncClient,
    MistralClient,
    MistralConnectionException,
    MistralTimeoutException,
    NotFoundError,
    PermissionDeniedError,
    RetryPolicy,
    ServerError,
    UsageLimitExceeded,
    UsageLimits,
)
from mistral_agents.exceptions import MistralAPIException
from mistral_agents.testing import OfflineModel, Reply
from mistral_agents.tools import tool

from .helpers import MODEL, Harness

SMALL, MEDIUM = "mistral-small-latest", "mistral-medium-latest"
NO_WAIT = RetryPolicy(initial_wait=0.0, max_wait=0.0)


def error(status: int) -> Reply:
    return Reply.error(status, {"object": "error", "message": f"offline {status}", "type": "test", "code": None})


def by_model(answers: dict[str, list[Reply | str]]) -> OfflineModel:
    """A model whose replies depend on the requested model: each one's own queue, in order."""
    queues = {name: list(replies) for name, replies in answers.items()}
    return OfflineModel(policy=lambda body: queues[body["model"]].pop(0))


def without_model(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "model"}


@tool
def status(transaction_id: str) -> str:
    """The status of a transaction."""
    return "Paid"


FAILURES = [
    pytest.param(error(503), id="503"),
    pytest.param(error(500), id="500"),
    pytest.param(error(502), id="502"),
    pytest.param(error(429), id="429"),
    pytest.param(error(408), id="408"),
    pytest.param(Reply.disconnect(), id="connection-error"),
]


@pytest.mark.parametrize("failure", FAILURES)
async def test_a_failed_call_goes_to_the_next_model_unchanged_but_for_model(h: Harness, failure: Reply) -> None:
    model = by_model({MODEL: [failure], SMALL: [failure], MEDIUM: ["From medium."]})
    agent = h.agent(model, [status], fallback_models=[SMALL, MEDIUM], temperature=0.2)

    result = await h.run(agent, "Status?")

    assert result.output == "From medium."
    assert [body["model"] for body in model.chat_requests] == [MODEL, SMALL, MEDIUM]
    first, *others = model.chat_requests
    assert all(without_model(body) == without_model(first) for body in others)
    assert result.models_used == [MEDIUM]
    assert (result.steps, result.usage.requests) == (1, 3)
    assert model.rejections == []


@pytest.mark.parametrize(
    ("status_code", "raised"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (422, BadRequestError),
    ],
)
async def test_a_request_error_never_falls_back(h: Harness, status_code: int, raised: type[Exception]) -> None:
    model = by_model({MODEL: [error(status_code)], SMALL: ["never"]})
    agent = h.agent(model, fallback_models=[SMALL])

    with pytest.raises(raised) as caught:
        await h.run(agent)

    assert isinstance(caught.value, MistralAPIException) and caught.value.status_code == status_code
    assert [body["model"] for body in model.chat_requests] == [MODEL]


async def test_when_every_model_fails_the_last_error_is_raised(h: Harness) -> None:
    model = by_model({MODEL: [error(503)], SMALL: [error(429)]})
    agent = h.agent(model, fallback_models=[SMALL])

    with pytest.raises(MistralAPIException) as caught:
        await h.run(agent)

    assert caught.value.status_code == 429
    assert caught.value.messages[-1].content == "Hi"  # the transcript so far, as for any API error


@pytest.mark.parametrize("mode", ["run", "stream"])
async def test_every_models_usage_is_counted_and_each_step_names_its_model(h: Harness, mode: str) -> None:
    tokens = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    model = by_model(
        {
            MODEL: [Reply.tool_call("status", {"transaction_id": "T1"}, usage=tokens), error(503)],
            SMALL: [Reply.text("Paid.", usage={"prompt_tokens": 30, "completion_tokens": 2, "total_tokens": 32})],
        }
    )
    agent = h.agent(model, [status], fallback_models=[SMALL])

    if mode == "run":
        result = await h.run(agent, "Status?")
    else:
        result = (await h.stream(agent, "Status?"))[-1].result  # type: ignore[union-attr]

    assert result.output == "Paid."
    assert result.models_used == [MODEL, SMALL]
    assert (result.usage.prompt_tokens, result.usage.completion_tokens, result.usage.total_tokens) == (40, 7, 47)
    assert (result.steps, result.usage.requests) == (2, 3)
    # the next step starts again with the agent's own model
    assert [body["model"] for body in model.chat_requests] == [MODEL, MODEL, SMALL]


async def test_fallback_happens_after_the_clients_retries(h: Harness) -> None:
    model = by_model({MODEL: [error(503)] * 3, SMALL: ["Small answers."]})
    client: MistralClient | MistralAsyncClient
    if h.mode == "sync":
        client = MistralClient(endpoint="http://offline", transport=model.transport(), max_retries=2, retry=NO_WAIT)
    else:
        client = MistralAsyncClient(
            endpoint="http://offline", transport=model.transport(), max_retries=2, retry=NO_WAIT
        )
    agent: Agent[Any] = Agent(MODEL, client=client, fallback_models=[SMALL])
    try:
        result = await h.run(agent)
    finally:
        await agent.aclose()
        await client.close() if isinstance(client, MistralAsyncClient) else client.close()

    assert [body["model"] for body in model.chat_requests] == [MODEL, MODEL, MODEL, SMALL]
    assert result.output == "Small answers."
    assert result.usage.requests == 2  # the client's own retries are one request of the run


async def test_a_timeout_falls_back(h: Harness) -> None:
    model = by_model({MODEL: [Reply.text("too late", delay=2.0)], SMALL: ["In time."]})
    with model.server() as server:
        client: MistralClient | MistralAsyncClient
        if h.mode == "sync":
            client = MistralClient(endpoint=server.url, max_retries=0, timeout=0.2)
        else:
            client = MistralAsyncClient(endpoint=server.url, max_retries=0, timeout=0.2)
        agent: Agent[Any] = Agent(MODEL, client=client, fallback_models=[SMALL])
        try:
            result = await h.run(agent)
        finally:
            await agent.aclose()
            await client.close() if isinstance(client, MistralAsyncClient) else client.close()

    assert result.output == "In time."
    assert result.models_used == [SMALL]


async def test_a_fallback_request_counts_against_the_requests_limit(h: Harness) -> None:
    model = by_model({MODEL: [error(503)], SMALL: ["never sent"]})
    agent = h.agent(model, fallback_models=[SMALL], usage_limits=UsageLimits(requests=1))

    with pytest.raises(UsageLimitExceeded, match="requests limit of 1"):
        await h.run(agent)

    assert [body["model"] for body in model.chat_requests] == [MODEL]


def test_fallback_models_must_be_model_names() -> None:
    with pytest.raises(TypeError, match="fallback_models"):
        Agent(MODEL, fallback_models="mistral-small-latest", client=MistralClient(endpoint="http://offline"))


def test_the_errors_that_fall_back() -> None:
    from mistral_agents.agent._steps import falls_back

    assert falls_back(ServerError("x", status_code=503))
    assert falls_back(MistralTimeoutException("slow"))
    assert falls_back(MistralConnectionException("refused"))
    assert not falls_back(BadRequestError("x", status_code=400))
    assert not falls_back(ValueError("not an API error"))
