"""The command line as a newcomer uses it: ``cli.main([...])`` with modules written to ``tmp_path``."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from mistral_agents import cli
from mistral_agents.testing import OfflineModel, Reply

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


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """History and sessions go to a fresh directory; no key: the offline model answers."""
    monkeypatch.setenv("MISTRAL_AGENTS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path / "home"


class FakeTerminal(io.StringIO):
    """A stdin that says it is a terminal (an interactive session) but is never read: input() is patched."""

    def isatty(self) -> bool:
        return True


def typed(monkeypatch: pytest.MonkeyPatch, *lines: str) -> list[str]:
    """Make the session read ``lines`` as if typed, then Ctrl-D; returns the prompts it showed."""
    prompts: list[str] = []
    queue = iter(lines)

    def fake_input(prompt: str = "") -> str:
        prompts.append(prompt)
        try:
            return next(queue)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("sys.stdin", FakeTerminal())
    monkeypatch.setattr("builtins.input", fake_input)
    return prompts


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------------------------- the new-user path
def test_chat_once_json_on_the_offline_model(mytools: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "chat", "--tools", "mytools.py", "--json", "What's the status of T1001?")
    assert code == 0
    data = json.loads(out)  # stdout is exactly one JSON object
    assert data["output"] == '`retrieve_payment_status` returned: `{"status":"Paid"}`'
    assert data["tool_calls"] == [
        {
            "name": "retrieve_payment_status",
            "arguments": {"transaction_id": "T1001"},
            "content": '{"status":"Paid"}',
            "error": None,
        }
    ]
    assert data["steps"] == 2
    assert set(data["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens", "requests", "tool_calls"}
    assert data["usage"]["total_tokens"] > 0
    assert (data["usage"]["requests"], data["usage"]["tool_calls"]) == (2, 1)
    assert sys.modules["mytools"].CALLS == ["T1001"]  # the user's function really ran
    assert err.count("\n") == 1 and "offline model, canned and not a real model" in err  # one line says so


def test_the_old_once_option_still_works(mytools: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "chat", "--tools", "mytools.py", "--once", "Status of T1002?", "--json")
    assert code == 0
    assert json.loads(out)["tool_calls"][0]["content"] == '{"status":"Unpaid"}'


def test_chat_once_piped_prints_the_answer_on_stdout_and_tool_calls_on_stderr(
    mytools: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "chat", "--tools", str(mytools), "What's the status of T1002?")
    assert code == 0
    assert out == '`retrieve_payment_status` returned: `{"status":"Unpaid"}`\n'  # answer=$(...) gets the answer
    assert err.splitlines()[1:] == [
        '  → retrieve_payment_status({"transaction_id": "T1002"})',
        '  ← retrieve_payment_status: {"status":"Unpaid"}',
    ]


def test_chat_without_tools_answers_once(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "chat", "hello")
    assert code == 0
    assert out == "Hello! How can I help you today?\n"


def test_chat_reads_the_question_from_a_pipe(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("Could you repeat this?\n"))
    code, out, _ = run(capsys, "chat")
    assert code == 0
    assert out == "(offline model) You said: Could you repeat this?\n"


def test_chat_sends_temperature_and_max_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    model = OfflineModel()
    with model.server() as server:
        code, _, _ = run(capsys, "chat", "--endpoint", server.url, "--temperature", "0.2", "--max-tokens", "64", "hi")
    assert code == 0
    request = model.chat_requests[0]
    assert (request["temperature"], request["max_tokens"]) == (0.2, 64)


def test_chat_interactive_keeps_the_conversation(
    mytools: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    typed(monkeypatch, "What's the status of my transaction?", "", "It is T1001.", "/exit", "never read")
    code, out, err = run(capsys, "chat", "--tools", "mytools.py", "--system", "You are a payments assistant.")
    assert code == 0
    assert "tools: retrieve_payment_status" in out.splitlines()[0]
    assert "Could you please provide your transaction id?" in out
    assert '  → retrieve_payment_status({"transaction_id": "T1001"})' in err  # found in the second turn
    assert '`retrieve_payment_status` returned: `{"status":"Paid"}`' in out


def test_an_empty_line_does_nothing_and_ctrl_d_leaves(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts = typed(monkeypatch, "", "   ", "hello")
    code, out, _ = run(capsys, "chat")
    assert code == 0
    assert len(prompts) == 4  # three entries, then Ctrl-D (EOF)
    assert out.count("Hello! How can I help you today?") == 1


def test_multi_line_entries(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    typed(monkeypatch, "first \\", "second", '"""', "third", "fourth", '"""')
    code, out, _ = run(capsys, "chat")
    assert code == 0
    assert "You said: first \nsecond" in out
    assert "You said: third\nfourth" in out


def test_a_failed_turn_keeps_the_session(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    model = OfflineModel(script=[Reply.error(400, {"message": "bad luck", "object": "error"}), "Second answer."])
    typed(monkeypatch, "first", "second")
    with model.server() as server:
        code, out, err = run(capsys, "chat", "--endpoint", server.url)
    assert code == 0
    assert f"error: {server.url} answered with an error: 400" in err
    assert "Second answer." in out
    assert [request["messages"][-1]["content"] for request in model.chat_requests] == ["first", "second"]


def test_slash_new_forgets_the_conversation(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    model = OfflineModel()
    typed(monkeypatch, "one", "two", "/new", "three")
    with model.server() as server:
        run(capsys, "chat", "--endpoint", server.url)
    assert [len(request["messages"]) for request in model.chat_requests] == [1, 3, 1]


def test_chat_interactive_json_prints_one_object_per_turn(
    mytools: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    typed(monkeypatch, "Status of T1001?", "Status of T1002?")
    code, out, _ = run(capsys, "chat", "--tools", "mytools.py", "--json")
    assert code == 0
    contents = [json.loads(line)["tool_calls"][0]["content"] for line in out.splitlines()]
    assert contents == ['{"status":"Paid"}', '{"status":"Unpaid"}']


def test_long_tool_results_are_shortened_unless_verbose(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = tmp_path / "rows.py"
    module.write_text(
        "from mistral_agents import tool\n\n@tool\ndef list_rows() -> list:\n"
        '    """List the rows."""\n    return [{"row": i, "value": "x" * 20} for i in range(200)]\n'
    )
    _, _, err = run(capsys, "chat", "--tools", str(module), "list the rows")
    shown = next(line for line in err.splitlines() if line.startswith("  ← list_rows: "))
    assert len(shown) < 250
    assert "--verbose shows all" in shown
    _, _, err = run(capsys, "chat", "--tools", str(module), "--verbose", "list the rows")
    shown = next(line for line in err.splitlines() if line.startswith("  ← list_rows: "))
    assert len(shown) > 6000 and '{"row":199' in shown


def test_history_is_saved_between_sessions(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("readline")
    import readline

    readline.clear_history()
    typed(monkeypatch, "remember me")
    readline.add_history("remember me")  # what readline does for a typed line
    run(capsys, "chat")
    assert "remember me" in (home / "history").read_text()


def test_chat_with_a_dotted_module_name(
    mytools: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(mytools.parent))
    code, out, _ = run(capsys, "chat", "--tools", "mytools", "--json", "Status of T1001?")
    assert code == 0
    assert json.loads(out)["tool_calls"][0]["content"] == '{"status":"Paid"}'


def test_chat_against_a_server_given_by_endpoint(mytools: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = OfflineModel()
    with model.server() as server:
        code, out, err = run(
            capsys, "chat", "--tools", "mytools.py", "--endpoint", server.url, "--once", "Status of T1001?", "--json"
        )
    assert code == 0
    assert json.loads(out)["output"] == "The status of transaction T1001 is Paid."  # the server's demo policy
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


def test_bare_command_shows_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)
    assert code == 0
    assert out.startswith("usage: mistral-agents")
    assert "examples:" in out and "chat" in out and "models" in out
    assert err == ""


def test_chat_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["chat", "--help"])
    out = capsys.readouterr().out
    assert 'mistral-agents chat "What is a mistral?"' in out
    assert "--temperature" in out and "--max-tokens" in out


def test_empty_model_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert error_line(capsys, "chat", "--model", "", "hi") == (
        "--model must not be empty, e.g. --model mistral-large-latest"
    )


def test_endpoint_that_is_not_a_url_fails_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    message = error_line(capsys, "chat", "--endpoint", "not-a-url", "hi")
    assert message.startswith("endpoint must be an http:// or https:// URL")


def test_models_lists_the_offline_models(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "models")
    assert code == 0
    assert "mistral-large-latest  (tools)" in out.splitlines()
    assert "Models on the offline model:" in err
    code, out, _ = run(capsys, "models", "--json")
    assert "mistral-embed" in [card["id"] for card in json.loads(out)["data"]]


def test_demo_interactive_does_not_echo_the_question(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["My transaction ID is T1001.", ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    code, out, _ = run(capsys, "demo", "--interactive")
    assert code == 0
    assert "T1001." not in out.replace('"T1001"', "")  # the typed line is on the screen once, not printed back
    assert "Customer:" not in out


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    module = tmp_path / "many.py"
    module.write_text(
        "from mistral_agents import tool\n\n"
        + "".join(
            f'@tool\ndef tool_{i}(x: int) -> int:\n    """Tool number {i}. {"padding " * 40}"""\n    return x\n\n'
            for i in range(300)
        )
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "mistral_agents.cli", "tools", str(module)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline() == b"[\n"  # `| head -1`: read one line, then go away
    process.stdout.close()
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=60) == 141
    assert stderr == ""


def test_a_named_session_continues_in_the_next_command(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = OfflineModel()
    with model.server() as server:
        assert run(capsys, "chat", "--endpoint", server.url, "--session", "work", "hello")[0] == 0
        assert run(capsys, "chat", "--endpoint", server.url, "--continue", "thanks")[0] == 0
        assert run(capsys, "chat", "--endpoint", server.url, "fresh start")[0] == 0  # no --session: no memory
    contents = [[m["content"] for m in request["messages"]] for request in model.chat_requests]
    assert contents == [
        ["hello"],
        ["hello", "Hello! How can I help you today?", "thanks"],
        ["fresh start"],
    ]
    assert (home / "sessions.db").is_file()


def test_an_interactive_session_says_what_it_kept(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "chat", "--session", "notes", "hello")
    typed(monkeypatch, "thanks")
    code, out, _ = run(capsys, "chat", "--continue")
    assert code == 0
    assert "conversation 'notes': 2 messages kept so far" in out
    assert "You're welcome!" in out


def test_continue_without_an_earlier_session(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        error_line(capsys, "chat", "--continue", "hi") == "no conversation to continue: start one with --session NAME"
    )


def test_finished_markdown_blocks_end_at_a_blank_line_outside_code() -> None:
    from mistral_agents._cli_terminal import finished_blocks

    assert finished_blocks("# Title\n\nSome text") == len("# Title\n\n")
    assert finished_blocks("```\ncode\n\nmore code") == 0  # a blank line inside a fence ends nothing
    assert finished_blocks("```\ncode\n```\n\nafter") == len("```\ncode\n```\n\n")
    assert finished_blocks("no blank line yet\n") == 0
