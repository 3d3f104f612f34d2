"""``mistral-agents mcp serve``: our @tool modules as MCP servers, judged by the official SDK's client."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from mistral_agents import Agent, MistralClient
from mistral_agents.cli import main as cli_main
from mistral_agents.mcp import MCPServerStdio
from mistral_agents.testing import OfflineModel, Reply

from .conftest import start_http, stop

EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "mcp_payment_tools.py")
SERVE = [sys.executable, "-m", "mistral_agents.mcp", "serve", EXAMPLE]


def our_specs() -> list[dict[str, Any]]:
    out = subprocess.run(
        [sys.executable, "-m", "mistral_agents.cli", "tools", EXAMPLE], capture_output=True, text=True, check=True
    ).stdout
    return [spec["function"] for spec in json.loads(out)]


@pytest.fixture(scope="module")
def served_url() -> Iterator[str]:
    process, url = start_http(*SERVE, "--http", "--port")
    yield url
    stop(process)


@pytest.fixture(params=["stdio", "http"])
def target(request: pytest.FixtureRequest) -> Any:
    if request.param == "stdio":
        return StdioServerParameters(command=SERVE[0], args=SERVE[1:])
    return request.getfixturevalue("served_url")


async def test_the_sdk_client_sees_our_specs_exactly(target: Any) -> None:
    async with Client(target, cache=None) as client:
        listed = (await client.list_tools()).tools
    assert [{"name": t.name, "description": t.description, "parameters": t.input_schema} for t in listed] == our_specs()


async def test_calls_results_and_errors(target: Any) -> None:
    async with Client(target, cache=None) as client:
        ok = await client.call_tool("retrieve_payment_status", {"transaction_id": "T1001"})
        missing = await client.call_tool("retrieve_payment_status", {"transaction_id": "T9"})
        invalid = await client.call_tool("retrieve_payment_date", {"transaction_id": 7, "extra": 1})
        unknown = await client.call_tool("refund", {})
    assert not ok.is_error and [c.text for c in ok.content] == ['{"status":"Paid"}']  # type: ignore[union-attr]
    assert missing.is_error
    assert missing.content[0].text == "Error: tool 'retrieve_payment_status' raised KeyError: 'no transaction T9'"  # type: ignore[union-attr]
    assert invalid.is_error and "invalid arguments for tool 'retrieve_payment_date'" in invalid.content[0].text  # type: ignore[union-attr]
    assert "'extra': unknown argument" in invalid.content[0].text  # type: ignore[union-attr]
    assert unknown.is_error and "unknown tool 'refund'" in unknown.content[0].text  # type: ignore[union-attr]


def test_an_agent_uses_our_served_tools_over_stdio() -> None:
    model = OfflineModel(
        script=[Reply.tool_call("retrieve_payment_date", {"transaction_id": "T1002"}), "It was paid on 2021-10-06."]
    )
    with MistralClient(endpoint="http://offline", transport=model.transport()) as client:
        with Agent("mistral-large-latest", [MCPServerStdio(SERVE[0], SERVE[1:])], client=client) as agent:
            result = agent.run("When was T1002 paid?")
    assert [c.content for c in result.tool_calls] == ['{"date":"2021-10-06"}']
    assert model.chat_requests[0]["tools"] == [{"type": "function", "function": f} for f in our_specs()]


def test_serve_reports_a_bad_module_clearly(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli_main(["mcp", "serve", str(tmp_path / "missing.py")]) == 2
    assert "no such file" in capsys.readouterr().err
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    assert cli_main(["mcp", "serve", str(empty)]) == 2
    assert "no tools found" in capsys.readouterr().err


def test_the_mcp_agent_example_runs(tmp_path: Path) -> None:
    example = Path(EXAMPLE).with_name("mcp_agent.py")
    env = {k: v for k, v in os.environ.items() if k != "MISTRAL_API_KEY"}
    result = subprocess.run(
        [sys.executable, str(example)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        '[MCP] retrieve_payment_status({"transaction_id": "T1001"}) -> {"status":"Paid"}',
        "The status of transaction T1001 is Paid.",
    ]


def test_chat_takes_mcp_servers(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)  # the offline model
    command = shlex.join(SERVE)
    assert cli_main(["chat", "--mcp", command, "What's the status of my transaction T1001?"]) == 0
    assert '`retrieve_payment_status` returned: `{"status":"Paid"}`' in capsys.readouterr().out


def test_chat_refuses_an_empty_mcp_server(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["chat", "--mcp", "  ", "hi"]) == 2
    assert "--mcp needs a command" in capsys.readouterr().err
