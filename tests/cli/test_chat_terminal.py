"""``mistral-agents chat`` in a real terminal, driven through tmux as a person would use it.

Arrow-key history (within a session and across sessions), Ctrl-C in the middle of a turn (the session goes on,
with the conversation from before that turn), Markdown rendered on the terminal.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mistral_agents.demo.policy import canned_policy
from mistral_agents.testing import OfflineModel, OfflineServer, Reply

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None and os.environ.get("CI", "").lower() not in ("1", "true", "yes"),
    reason="needs tmux (apt-get install tmux); CI installs it",
)

TOOLS = '''
import time
from pathlib import Path

from mistral_agents import tool

HERE = Path(__file__).parent


@tool
def wait_for_release(ticket_id: str) -> str:
    """Wait until a ticket is released.

    Args:
        ticket_id: The ticket, e.g. T1.
    """
    (HERE / "started").write_text(ticket_id)
    for _ in range(1200):  # until the test releases it (at most a minute)
        if (HERE / "release").exists():
            break
        time.sleep(0.05)
    return "released"
'''


class Tmux:
    """One tmux server of our own (its own socket, no user config) with one window."""

    def __init__(self, workdir: Path) -> None:
        self.socket = f"mistral-agents-test-{uuid.uuid4().hex[:12]}"
        self.workdir = workdir

    def __call__(self, *args: str) -> str:
        command = ["tmux", "-L", self.socket, "-f", os.devnull, *args]
        return subprocess.run(command, check=True, capture_output=True, text=True, timeout=30).stdout

    def start(self, command: list[str], env: dict[str, str]) -> None:
        exports = " ".join(f"{key}={_quote(value)}" for key, value in env.items())
        program = " ".join(_quote(part) for part in command)
        line = f"cd {_quote(str(self.workdir))} && env {exports} {program}; echo '[exited]'; sleep 600"
        self("new-session", "-d", "-s", "chat", "-x", "110", "-y", "45", line)

    def keys(self, *keys: str) -> None:
        self("send-keys", "-t", "chat", *keys)

    def type(self, text: str) -> None:
        self("send-keys", "-t", "chat", "-l", text)

    def send(self, line: str) -> None:
        """Type a line and press Enter."""
        self.type(line)
        self.keys("Enter")

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "chat", "-S", "-200")

    def wait_for(self, condition: Callable[[str], bool], what: str, timeout: float = 60) -> str:
        """Poll the screen until ``condition`` holds (a wait, not a timing assertion)."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if condition(screen):
                return screen
            if time.monotonic() > deadline:
                pytest.fail(f"the terminal never showed {what}; it shows:\n{screen}")
            time.sleep(0.1)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False, timeout=30)


def _prompt_last(screen: str) -> bool:
    """The session waits for input: its last line is an empty prompt."""
    return screen.rstrip().splitlines()[-1].endswith("you>")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


MARKDOWN = "Here is **bold**, `code` and a table:\n\n| city | sky |\n|---|---|\n| Paris | sunny |\n"


def policy(request: dict[str, Any]) -> Reply | str:
    """The chat command's offline policy, plus a Markdown answer to "show me markdown" and a greeting."""
    last = request["messages"][-1]
    if last["role"] == "user" and last["content"] == "show me markdown":
        return MARKDOWN
    if last["role"] == "user" and last["content"] == "show me a long list":
        return "# Items\n\n" + "\n".join(f"- item {i:03d} is **here**" for i in range(80)) + "\n\nThe end."
    if last["role"] == "user" and last["content"] == "hello":
        return "Hello! How can I help you today?"
    return canned_policy(request)


@pytest.fixture
def server() -> Iterator[tuple[OfflineModel, OfflineServer]]:
    model = OfflineModel(policy=policy)
    with model.server() as running:
        yield model, running


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Tmux]:
    (tmp_path / "slow_tools.py").write_text(TOOLS)
    tmux = Tmux(tmp_path)
    try:
        yield tmux
    finally:
        (tmp_path / "release").write_text("")  # let a blocked tool go
        tmux.close()


def _environment(tmp_path: Path) -> dict[str, str]:
    env = {"TERM": "xterm-256color", "MISTRAL_AGENTS_HOME": str(tmp_path / "home"), "LANG": "C.UTF-8"}
    return {**env, "PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}


def _chat(tmux: Tmux, tmp_path: Path, url: str, *options: str) -> None:
    command = [sys.executable, "-m", "mistral_agents.cli", "chat", "--tools", "slow_tools.py", "--endpoint", url]
    command += options
    tmux.start(command, _environment(tmp_path))
    tmux.wait_for(lambda screen: "you>" in screen, "the prompt")


def _interrupt_a_running_tool(terminal: Tmux, tmp_path: Path) -> None:
    """Ask for the slow tool, wait until it runs, press Ctrl-C."""
    terminal.send("Please wait for the release of T1")
    terminal.wait_for(lambda s: (tmp_path / "started").exists() and "wait_for_release" in s, "the tool call")
    terminal.keys("C-c")


def test_history_ctrl_c_and_markdown_in_a_real_terminal(
    terminal: Tmux, tmp_path: Path, server: tuple[OfflineModel, OfflineServer]
) -> None:
    model, running = server
    _chat(terminal, tmp_path, running.url)

    # Markdown is rendered: no ** or backticks, a table drawn, not printed as |---|.
    terminal.send("show me markdown")
    screen = terminal.wait_for(lambda s: "Paris" in s and _prompt_last(s), "the whole answer, then a prompt")
    assert "Here is bold, code and a table:" in screen
    assert "**" not in screen and "`" not in screen and "|---|" not in screen
    assert any("Paris" in line and "sunny" in line and "|" not in line for line in screen.splitlines())

    # Arrow-up brings the last entry back; Enter sends it again.
    terminal.keys("Up")
    terminal.wait_for(lambda s: s.rstrip().splitlines()[-1].endswith("you> show me markdown"), "the recalled line")
    terminal.keys("Enter")
    terminal.wait_for(lambda s: s.count("Here is bold, code and a table:") == 2, "the second answer")
    assert len(model.chat_requests) == 2

    # Ctrl-C while a tool runs cancels that turn only.
    _interrupt_a_running_tool(terminal, tmp_path)
    terminal.wait_for(lambda s: "cancelled" in s, "the cancellation")
    terminal.wait_for(_prompt_last, "a new prompt")

    terminal.send("hello")
    terminal.wait_for(lambda s: "Hello! How can I help you today?" in s, "an answer after the cancelled turn")
    last = model.chat_requests[-1]["messages"]
    assert [m["content"] for m in last if m["role"] == "user"] == [
        "show me markdown",
        "show me markdown",
        "hello",
    ]  # the session went on with the conversation from before the cancelled turn

    # Ctrl-D leaves; the history file keeps the lines for the next session.
    terminal.keys("C-d")
    terminal.wait_for(lambda s: "[exited]" in s, "the exit")
    assert "hello" in (tmp_path / "home" / "history").read_text()


def test_ctrl_c_mid_turn_keeps_a_named_session_usable(
    terminal: Tmux, tmp_path: Path, server: tuple[OfflineModel, OfflineServer]
) -> None:
    model, running = server
    _chat(terminal, tmp_path, running.url, "--session", "support")
    _interrupt_a_running_tool(terminal, tmp_path)
    terminal.wait_for(lambda s: "cancelled" in s and _prompt_last(s), "the cancellation, then a prompt")
    terminal.send("hello")
    screen = terminal.wait_for(lambda s: "Hello! How can I help you today?" in s, "an answer after the cancelled turn")
    assert "error" not in screen
    assert model.rejections == []  # what the session kept of the cancelled turn is a valid transcript
    assert model.chat_requests[-1]["messages"][0]["content"] == "Please wait for the release of T1"


def test_an_answer_taller_than_the_terminal_is_shown_once(
    terminal: Tmux, tmp_path: Path, server: tuple[OfflineModel, OfflineServer]
) -> None:
    _, running = server
    _chat(terminal, tmp_path, running.url)
    terminal.send("show me a long list")
    screen = terminal.wait_for(lambda s: "The end." in s and _prompt_last(s), "the whole answer, then a prompt")
    assert [screen.count(f"item {i:03d} is here") for i in range(80)] == [1] * 80
