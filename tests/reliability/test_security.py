"""Security: the key stays secret, only registered tools run, arguments are validated first, approvals can deny."""

from __future__ import annotations

import asyncio
import logging
import traceback
from typing import Any

import pytest

from mistral_agents import (
    Agent,
    AuthenticationError,
    MistralAsyncClient,
    MistralClient,
    RateLimitError,
    ToolRegistry,
    tool,
)
from mistral_agents.models.chat_completion import FunctionCall, ToolCall
from mistral_agents.testing import OfflineModel, OfflineServer, Reply

from .helpers import KEY, MODEL, Sleeps

ECHO = {"object": "error", "message": f"Invalid API key: {KEY}", "type": "authentication_error",
        "detail": {"received": f"Bearer {KEY}"}}  # fmt: skip


def everything_about(error: BaseException) -> str:
    parts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    for name in ("message", "body", "headers", "args", "code", "type", "request_id"):
        parts.append(repr(getattr(error, name, None)))
    return "\n".join(parts)


# ------------------------------------------------------------------------------------------------ the key
def test_the_key_is_not_in_reprs() -> None:
    with MistralClient(api_key=KEY, endpoint="http://127.0.0.1:9") as sync:
        agent = Agent(MODEL, [], client=sync)
        texts = [repr(sync), str(sync), repr(sync._settings), repr(agent), repr(sync._settings.retry)]
        async_client = sync.as_async()
        texts.append(repr(async_client))
    assert all(KEY not in text for text in texts), texts
    assert "sk-" not in repr(sync)


def test_the_key_is_not_in_vars_shown_by_dataclass_reprs() -> None:
    from mistral_agents._wire import ClientSettings

    settings = ClientSettings.create(KEY, "https://api.mistral.ai", 2, 10.0, None)
    assert KEY not in repr(settings) and KEY not in str(settings)


async def test_the_key_is_not_in_logs_at_debug_level_nor_in_recorded_requests(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "mistral_agents", "mistral_agents.agent"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    sleeps = Sleeps()
    script = [Reply.error(429, {"message": "slow down"}), Reply.tool_call("echo", {"text": "hi"}), "done"]
    model = OfflineModel(script=script, api_key=KEY)

    @tool
    def echo(text: str) -> str:
        """Echo.

        Args:
            text: Text.
        """
        return text

    with OfflineServer(model) as server:
        async with MistralAsyncClient(api_key=KEY, endpoint=server.url, max_retries=2, retry=sleeps.policy()) as c:
            agent = Agent(MODEL, [echo], client=c)
            result = await agent.arun("hello")
            await agent.aclose()
        with MistralClient(api_key=KEY, endpoint=server.url, max_retries=0) as sync:
            model.add(Reply.text("streamed"))
            assert "".join(
                ch.choices[0].delta.content or "" for ch in sync.chat_stream(MODEL, [{"role": "user", "content": "x"}])
            )
    assert result.output == "done"
    assert len(caplog.records) > 5  # the loggers did speak
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.args!r}" for r in caplog.records)
    assert KEY not in logged
    recorded = repr(model.requests) + repr([r.headers for r in model.requests])
    assert KEY not in recorded
    assert all(r.headers.get("authorization") == "Bearer <redacted>" for r in model.requests)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_server_echoing_the_key_does_not_put_it_in_the_exception(mode: str) -> None:
    model = OfflineModel(script=[Reply.error(401, ECHO)])
    with OfflineServer(model) as server:
        if mode == "sync":
            with MistralClient(api_key=KEY, endpoint=server.url) as client, pytest.raises(AuthenticationError) as c:
                await asyncio.to_thread(client.chat, MODEL, [{"role": "user", "content": "x"}])
        else:
            async with MistralAsyncClient(api_key=KEY, endpoint=server.url) as aclient:
                with pytest.raises(AuthenticationError) as c:
                    await aclient.chat(MODEL, [{"role": "user", "content": "x"}])
    assert str(c.value) == "401 authentication_error: Invalid API key: ***"
    assert KEY not in everything_about(c.value)


async def test_the_key_is_not_in_retry_exhaustion_errors() -> None:
    sleeps = Sleeps()
    body = {"message": f"rate limited for key {KEY}"}
    model = OfflineModel(script=[Reply.error(429, body, headers={"x-echo": KEY})] * 3)
    with OfflineServer(model) as server:
        async with MistralAsyncClient(api_key=KEY, endpoint=server.url, max_retries=2, retry=sleeps.policy()) as c:
            with pytest.raises(RateLimitError) as caught:
                await c.chat(MODEL, [{"role": "user", "content": "x"}])
    assert KEY not in everything_about(caught.value)


def test_no_authorization_header_is_sent_without_a_key() -> None:
    model = OfflineModel(script=["hi"])
    with OfflineServer(model) as server, MistralClient(endpoint=server.url) as client:
        client.chat(MODEL, [{"role": "user", "content": "x"}])
    assert "authorization" not in model.requests[0].headers


# ------------------------------------------------------------------------------------------------ tool dispatch
class Canary:
    def __init__(self) -> None:
        self.ran: list[str] = []

        @tool
        def lookup(key: str) -> str:
            """Look up.

            Args:
                key: Key.
            """
            self.ran.append(key)
            return "v"

        self.tools = [lookup]


DANGEROUS = ["__import__", "os.system", "__class__", "eval", "exec", "__getitem__", "keys", "get", "lookup.__globals__",
             "__init__", "_tools", "function", "LOOKUP", "lookup\x00", "../lookup"]  # fmt: skip


@pytest.mark.parametrize("name", DANGEROUS)
def test_only_registered_tools_can_be_dispatched(name: str) -> None:
    canary = Canary()
    registry = ToolRegistry(canary.tools)
    call = ToolCall(id="abcABC123", function=FunctionCall(name=name, arguments='{"key": "x"}'))
    outcome = registry.execute(call)
    assert outcome.error_kind == "unknown_tool" and canary.ran == []
    assert outcome.content.startswith("Error: unknown tool ")


async def test_dangerous_names_from_the_model_never_run_anything() -> None:
    canary = Canary()
    model = OfflineModel(script=[Reply.tool_calls([(name, {"key": "x"}) for name in DANGEROUS]), "ok"])
    client = MistralAsyncClient(endpoint="http://offline", transport=model.transport(), max_retries=0)
    agent = Agent(MODEL, canary.tools, client=client, max_tool_errors=100)
    result = await agent.arun("go")
    await agent.aclose()
    await client.close()
    assert canary.ran == []
    assert {o.error_kind for o in result.tool_calls} == {"unknown_tool"}
    assert model.rejections == []


@pytest.mark.parametrize(
    "arguments",
    [
        '{"key": 1}',
        '{"key": "x", "extra": "__import__(\'os\')"}',
        '{"key": ["x"]}',
        '{"key": null}',
        "{}",
        '{"key": "x"',
        '{"key": "x"} {"key": "y"}',
    ],
)
def test_arguments_are_validated_before_the_tool_runs(arguments: str) -> None:
    canary = Canary()
    registry = ToolRegistry(canary.tools)
    outcome = registry.execute(ToolCall(id="abcABC123", function=FunctionCall(name="lookup", arguments=arguments)))
    assert outcome.error_kind == "invalid_arguments" and canary.ran == []


# ------------------------------------------------------------------------------------------------ approvals
def make_transfer(ran: list[Any]) -> Any:
    @tool(requires_approval=True)
    def transfer(amount: int, to: str) -> str:
        """Transfer money.

        Args:
            amount: Amount in cents.
            to: Recipient.
        """
        ran.append((amount, to))
        return "sent"

    return transfer


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_an_approver_can_deny_with_a_reason_sent_to_the_model(mode: str) -> None:
    ran: list[Any] = []
    asked: list[Any] = []

    def approver(call: Any) -> bool | str:
        asked.append((call.name, call.args))
        return True if call.args["amount"] < 1000 else "amounts over 1000 need a human"

    calls = [("transfer", {"amount": 5000, "to": "eve"}), ("transfer", {"amount": 10, "to": "bob"})]
    script = [Reply.tool_calls(calls), "One transfer was refused."]
    model = OfflineModel(script=script)
    flavour = MistralClient if mode == "sync" else MistralAsyncClient
    client = flavour(endpoint="http://offline", transport=model.transport(), max_retries=0)
    agent = Agent(MODEL, [make_transfer(ran)], client=client, approver=approver)
    result = await (asyncio.to_thread(agent.run, "pay") if mode == "sync" else agent.arun("pay"))
    await agent.aclose()
    assert ran == [(10, "bob")]
    assert sorted(asked, key=repr) == [
        ("transfer", {"amount": 10, "to": "bob"}),
        ("transfer", {"amount": 5000, "to": "eve"}),
    ]
    contents = [m["content"] for m in model.chat_requests[-1]["messages"] if m["role"] == "tool"]
    assert contents == ["Error: the call to tool 'transfer' was denied. Reason: amounts over 1000 need a human", "sent"]
    assert [o.error_kind for o in result.tool_calls] == ["denied", None]
    assert model.rejections == []


async def test_an_async_approver_can_deny_and_no_approver_pauses() -> None:
    ran: list[Any] = []

    async def deny(call: Any) -> bool:
        await asyncio.sleep(0)
        return False

    model = OfflineModel(script=[Reply.tool_call("transfer", {"amount": 1, "to": "x"}), "ok"])
    client = MistralAsyncClient(endpoint="http://offline", transport=model.transport(), max_retries=0)
    agent = Agent(MODEL, [make_transfer(ran)], client=client, approver=deny)
    result = await agent.arun("pay")
    assert result.tool_calls[0].error_kind == "denied"
    content = model.chat_requests[-1]["messages"][-1]["content"]
    assert content.startswith("Error: the call to tool 'transfer' was denied.")

    model = OfflineModel(script=[Reply.tool_call("transfer", {"amount": 1, "to": "x"})])
    client = MistralAsyncClient(endpoint="http://offline", transport=model.transport(), max_retries=0)
    paused = await Agent(MODEL, [make_transfer(ran)], client=client).arun("pay")
    await client.close()
    assert paused.paused and [p.name for p in paused.pending] == ["transfer"]
    assert ran == []


async def test_arguments_are_validated_before_the_approver_is_asked() -> None:
    ran: list[Any] = []
    asked: list[Any] = []
    model = OfflineModel(script=[Reply.tool_call("transfer", {"amount": "all of it", "to": "x"}), "ok"])
    client = MistralAsyncClient(endpoint="http://offline", transport=model.transport(), max_retries=0)
    agent = Agent(MODEL, [make_transfer(ran)], client=client, approver=lambda call: asked.append(call) or True)
    result = await agent.arun("pay")
    await client.close()
    assert ran == [] and asked == [] and result.tool_calls[0].error_kind == "invalid_arguments"
