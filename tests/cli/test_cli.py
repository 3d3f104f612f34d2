"""The command line as a newcomer uses it: ``cli.main([...])`` with modules written to ``tmp_path``."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from mistral_agents import cli
from mistral_agents.testing import OfflineModel

MYTOOLS = '''
from mistral_agents import tool

CALLS = []

@tool
def retrieve_payment_status(transaction_id: str) -> dict:
    """Get the payment status of a transaction.

    Args:
        transaction_id: The transaction id, e.g. T1001.
    """
    CALLS.append(transaction_id)
    return {"status": {"T1001": "Paid", "T1002": "Unpaid"}[transaction_id]}
'''

SPEC = [
    {
        "type": "function",
        "function": {
            "name": "retrieve_payment_status",
            "description": "Get the payment status of a transaction.",
            "parameters": {
                "type": "object",
                "properties": {"transaction_id": {"description": "The transaction id, e.g. T1001.", "type": "string"}},
                "required": ["transaction_id"],
            },
        },
    }
]


@pytest.fixture
def mytools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "mytools.py"
    path.write_text(MYTOOLS)
    monkeypatch.chdir(tmp_path)
    saved_path = list(sys.path)
    yield path
    sys.path[:] = saved_path
    sys.modules.pop("mytools", None)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------------------------- the new-user path
def test_chat_once_json_on_the_offline_model(mytools: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "chat", "--tools", "mytools.py", "--once", "What's the status of T1001?", "--json")
    assert code == 0
    data = json.loads(out)  # stdout is exactly one JSON object
    assert data["output"] == "The status of transaction T1001 is Paid."
    assert data["tool_calls"] == [
        {
            "name": "retrieve_payment_status",
            "arguments": {"transaction_id": "T1001"},
            "content": '{"status":"Paid"}',
            "error": None,
        }
    ]
    assert data["steps"] == 2
    assert set(data["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert data["usage"]["total_tokens"] > 0
    assert sys.modules["mytools"].CALLS == ["T1001"]  # the user's function really ran
    assert "offline model" in err


def test_chat_once_shows_tool_calls_as_they_happen(mytools: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "chat", "--tools", str(mytools), "--once", "What's the status of T1002?")
    assert code == 0
    assert out.splitlines() == [
        '  -> retrieve_payment_status({"transaction_id": "T1002"})',
        '  <- retrieve_payment_status: {"status":"Unpaid"}',
        "Assistant: The status of transaction T1002 is Unpaid.",
    ]


def test_chat_interactive_keeps_the_conversation(
    mytools: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["What's the status of my transaction?", "It is T1001.", ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    code, out, _ = run(capsys, "chat", "--tools", "mytools.py", "--system", "You are a payments assistant.")
    assert code == 0
    assert "tools: retrieve_payment_status" in out
    assert "Assistant: Could you please provide your transaction id?" in out
    assert '  -> retrieve_payment_status({"transaction_id": "T1001"})' in out  # found in the second turn
    assert "Assistant: The status of transaction T1001 is Paid." in out


def test_chat_interactive_json_prints_one_object_per_turn(
    mytools: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = iter(["Status of T1001?", "Status of T1002?"])

    def fake_input(prompt: str = "") -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("builtins.input", fake_input)
    code, out, _ = run(capsys, "chat", "--tools", "mytools.py", "--json")
    assert code == 0
    outputs = [json.loads(line)["output"] for line in out.splitlines()]
    assert outputs == ["The status of transaction T1001 is Paid.", "The status of transaction T1002 is Unpaid."]


def test_chat_with_a_dotted_module_name(
    mytools: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(mytools.parent))
    code, out, _ = run(capsys, "chat", "--tools", "mytools", "--once", "Status of T1001?", "--json")
    assert code == 0
    assert json.loads(out)["output"] == "The status of transaction T1001 is Paid."


def test_chat_against_a_server_given_by_endpoint(mytools: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = OfflineModel()
    with model.server() as server:
        code, out, err = run(
            capsys, "chat", "--tools", "mytools.py", "--endpoint", server.url, "--once", "Status of T1001?", "--json"
        )
    assert code == 0
    assert json.loads(out)["output"] == "The status of transaction T1001 is Paid."
    assert "offline model" not in err  # no note: the endpoint was chosen explicitly
    assert len(model.chat_requests) == 2
    assert model.rejections == []


def test_tools_prints_the_exact_specs(mytools: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "tools", "mytools.py")
    assert code == 0
    assert json.loads(out) == SPEC


def test_tools_collects_every_tool_once_in_definition_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = tmp_path / "several.py"
    module.write_text(
        textwrap.dedent(
            '''
            from mistral_agents import tool

            def helper(x: int) -> int:
                return x

            @tool
            def second(a: int) -> int:
                """Second."""
                return a

            @tool(name="first_one")
            def first(b: str) -> str:
                """First."""
                return b

            alias = second
            '''
        )
    )
    code, out, _ = run(capsys, "tools", str(module))
    assert code == 0
    assert [spec["function"]["name"] for spec in json.loads(out)] == ["second", "first_one"]


# --------------------------------------------------------------------------------------------- errors: one line, 2
def error_line(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[-1].startswith("mistral-agents: error: ")
    assert len([line for line in lines if not line.startswith("note:")]) == 1
    return lines[-1].removeprefix("mistral-agents: error: ")


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.py"
    assert error_line(capsys, "tools", str(missing)) == f"cannot import {str(missing)!r}: no such file"


def test_unknown_module_name(capsys: pytest.CaptureFixture[str]) -> None:
    message = error_line(capsys, "chat", "--tools", "no_such_module_xyz", "--once", "hi")
    assert message == (
        "cannot import 'no_such_module_xyz': No module named 'no_such_module_xyz' "
        "(give a path to a .py file or a module name)"
    )


def test_syntax_error_in_module(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "broken.py"
    bad.write_text("def f(:\n")
    message = error_line(capsys, "tools", str(bad))
    assert message.startswith(f"cannot import {str(bad)!r}: syntax error in ")
    assert "broken.py, line 1" in message


def test_module_raising_on_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "raises.py"
    bad.write_text("raise RuntimeError('database is down')\n")
    assert error_line(capsys, "tools", str(bad)) == f"cannot import {str(bad)!r}: RuntimeError: database is down"


def test_module_without_tools(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "plain.py"
    plain.write_text("def f(x: int) -> int:\n    return x\n")
    message = error_line(capsys, "chat", "--tools", str(plain), "--once", "hi")
    assert message == "no tools found in 'plain': decorate functions with @tool (from mistral_agents import tool)"


def test_missing_key_at_the_official_endpoint(mytools: Path, capsys: pytest.CaptureFixture[str]) -> None:
    message = error_line(capsys, "chat", "--tools", "mytools.py", "--endpoint", "https://api.mistral.ai", "--once", "x")
    assert message == (
        "no API key for https://api.mistral.ai: set MISTRAL_API_KEY (or leave out --endpoint to use the offline model)"
    )


def test_refused_connection(mytools: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with OfflineModel().server() as server:
        url = server.url  # a port that was just free: nothing listens on it once the server is closed
    message = error_line(
        capsys, "chat", "--tools", "mytools.py", "--endpoint", url, "--max-retries", "0", "--once", "x"
    )
    assert message.startswith(f"cannot reach {url}: ")
    assert "refused" in message.lower()


def test_api_error_is_one_line(mytools: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with OfflineModel(api_key="secret").server() as server:
        message = error_line(capsys, "chat", "--tools", "mytools.py", "--endpoint", server.url, "--once", "x")
    assert message.startswith(f"{server.url} answered with an error: 401")


# --------------------------------------------------------------------------------------------- demo and friends
def test_demo_prints_the_conversation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "demo")
    assert code == 0
    assert "Payment-status support bot, on the offline model." in out
    assert '  -> retrieve_payment_status({"transaction_id": "T1001"})' in out
    assert "Assistant: The status of transaction T1001 is Paid." in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from mistral_agents import __version__

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"mistral-agents {__version__}"
