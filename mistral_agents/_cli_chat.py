"""``mistral-agents chat``: talk to a model, with or without your ``@tool`` functions.

One question (``chat "..."``, or piped on stdin) is answered once; otherwise an interactive session runs until
Ctrl-D or ``/exit``. In a session a failed turn is reported and the session goes on; Ctrl-C cancels the turn in
progress (the conversation keeps what came before it).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._cli_support import CliError, choose_client, data_dir, find_tools, load_module
from ._cli_terminal import LineReader, Style, TurnPrinter, closing_events

if TYPE_CHECKING:
    from .agent import Agent
    from .sessions import Session
    from .tools import Tool

__all__ = ["DEFAULT_MODEL", "configure", "run"]

DEFAULT_MODEL = "mistral-large-latest"

DESCRIPTION = """\
Chat with a model. Give it tools with --tools (every @tool function of a module).
The model: --endpoint if given, else the Mistral API when MISTRAL_API_KEY is set,
else the built-in offline model (canned answers, no network)."""

EXAMPLES = """\
examples:
  mistral-agents chat                                  an interactive session
  mistral-agents chat "What is a mistral?"             one question, one answer
  echo "Summarise: ..." | mistral-agents chat          the question from stdin
  mistral-agents chat --tools mytools.py               the model may call your @tool functions
  mistral-agents chat --tools mytools.py --json "Status of T1001?"
  mistral-agents chat --endpoint http://localhost:8000/v1 --model qwen2.5   a local server

in a session: Ctrl-C cancels the answer in progress, Ctrl-D or /exit leaves, /new starts over,
a line ending in \\ continues on the next line, \"\"\" opens a block until the next \"\"\"."""

HELP = "commands: /exit (or Ctrl-D) leave · /new forget the conversation · /help this text"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.epilog = EXAMPLES
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("prompt", nargs="?", default=None, help="ask this, print the answer, exit")
    parser.add_argument("--tools", default=None, metavar="PATH_OR_MODULE", help="a .py file or a dotted module name")
    parser.add_argument(
        "--mcp",
        action="append",
        default=[],
        metavar="COMMAND_OR_URL",
        help='an MCP server\'s tools too: a command ("python server.py") or a URL (repeatable; needs the mcp extra)',
    )
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"model name (default: {DEFAULT_MODEL})")
    parser.add_argument(
        "--endpoint",
        default=None,
        metavar="URL",
        help="a server to talk to, e.g. http://localhost:8000/v1 (no key needed off the official API)",
    )
    parser.add_argument("--system", default=None, metavar="PROMPT", help="a system prompt")
    parser.add_argument("--temperature", type=float, default=None, help="sampling temperature, e.g. 0.2")
    parser.add_argument("--max-tokens", type=int, default=None, metavar="N", help="at most N tokens per answer")
    parser.add_argument("--once", default=None, metavar="PROMPT", help=argparse.SUPPRESS)  # the positional's old name
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object per answer: output, tool_calls, usage, steps"
    )
    parser.add_argument("--verbose", action="store_true", help="show tool results in full")
    parser.add_argument(
        "--session", default=None, metavar="NAME", help="keep the conversation under NAME (continued next time)"
    )
    parser.add_argument(
        "--continue", dest="resume", action="store_true", help="continue the last conversation kept with --session"
    )
    parser.add_argument("--max-retries", type=int, default=2, help="retries of failed requests (default: 2)")


@dataclass
class Conversation:
    """The messages so far (the next turn's history), or the session that keeps them."""

    session: Session | None = None
    history: list[Any] | None = None
    turns: int = field(default=0)

    def forget(self) -> None:
        self.history = None
        if self.session is not None:
            self.session.clear()


def run(options: argparse.Namespace) -> int:
    from .agent import Agent  # imported here: `--help` stays fast
    from .demo.policy import canned_policy

    prompt = _question(options)
    _check(options)
    tools = _tools(options)
    servers = _mcp_servers(options.mcp)
    chosen = choose_client(options.endpoint, max_retries=options.max_retries, offline_policy=canned_policy)
    if chosen.offline:
        print(
            "note: no MISTRAL_API_KEY: answers come from the built-in offline model, canned and not a real model "
            "(set MISTRAL_API_KEY, or pass --endpoint)",
            file=sys.stderr,
        )
    params: dict[str, Any] = {}
    if options.temperature is not None:
        params["temperature"] = options.temperature
    if options.max_tokens is not None:
        params["max_tokens"] = options.max_tokens
    try:
        agent: Agent[str] = Agent(
            options.model, [*tools, *servers], client=chosen.client, system_prompt=options.system, **params
        )
    except ValueError as error:
        raise CliError(str(error)) from None
    conversation = Conversation(session=_open_session(options))
    with chosen.client, agent:
        if prompt is not None:
            _turn(agent, prompt, conversation, options, where=chosen.where, raise_errors=True)
            return 0
        names = [*(t.name for t in tools), *map(repr, servers)]
        return _session(agent, conversation, options, where=chosen.where, tool_names=names)


LAST_SESSION_FILE = "last-session"


def _open_session(options: argparse.Namespace) -> Session | None:
    """The SQLite session ``--session NAME`` (or ``--continue``: the last one) names, in the data directory."""
    name = options.session
    home = data_dir()
    if name is None and options.resume:
        try:
            name = (home / LAST_SESSION_FILE).read_text(encoding="utf-8").strip() or None
        except OSError:
            name = None
        if name is None:
            raise CliError("no conversation to continue: start one with --session NAME")
    if name is None:
        return None
    if not name.strip():
        raise CliError("--session needs a name, e.g. --session support")
    from .sessions import SQLiteSession

    try:
        home.mkdir(parents=True, exist_ok=True)
        (home / LAST_SESSION_FILE).write_text(name + "\n", encoding="utf-8")
        return SQLiteSession(name, str(home / "sessions.db"))
    except OSError as error:
        raise CliError(f"cannot keep conversations in {home}: {error}") from None


def _question(options: argparse.Namespace) -> str | None:
    """The one question to answer (positional, ``--once``, else piped stdin), or None for a session."""
    given = options.prompt if options.prompt is not None else options.once
    if given is not None:
        if not given.strip():
            raise CliError("the question is empty")
        return str(given)
    if sys.stdin is None or sys.stdin.isatty():
        return None
    piped = sys.stdin.read().strip()
    if not piped:
        raise CliError("nothing to ask: stdin was empty (give a question, or run in a terminal for a session)")
    return piped


def _check(options: argparse.Namespace) -> None:
    if not options.model.strip():
        raise CliError("--model must not be empty, e.g. --model mistral-large-latest")
    if options.max_retries < 0:
        raise CliError("--max-retries must be >= 0")
    if options.max_tokens is not None and options.max_tokens < 1:
        raise CliError("--max-tokens must be >= 1")
    if options.temperature is not None and not 0 <= options.temperature <= 2:
        raise CliError("--temperature must be between 0 and 2")


def _tools(options: argparse.Namespace) -> list[Tool[..., Any]]:
    """The tools to offer: every @tool of ``--tools`` (none without it)."""
    from .tools import ToolDefinitionError, ToolRegistry

    if options.tools is None:
        return []
    tools = find_tools(load_module(options.tools))
    try:
        ToolRegistry(tools)  # names must be unique and valid before the first request
    except ToolDefinitionError as error:
        raise CliError(str(error)) from None
    return tools


def _mcp_servers(specs: list[str]) -> list[Any]:
    """The ``--mcp`` servers (none without it)."""
    if not specs:
        return []
    from .mcp.cli import server_for

    try:
        return [server_for(spec) for spec in specs]
    except (ImportError, ValueError) as error:
        raise CliError(str(error)) from None


def _session(
    agent: Agent[str], conversation: Conversation, options: argparse.Namespace, *, where: str, tool_names: list[str]
) -> int:
    style = Style(sys.stdout)
    reader = LineReader(data_dir() / "history", style)
    tools = f" · tools: {', '.join(tool_names)}" if tool_names else ""
    if not options.json:
        print(style.dim(f"{options.model} on {where}{tools} · /help"))
        if conversation.session is not None:
            kept = len(conversation.session.get_messages())
            print(style.dim(f"conversation {conversation.session.session_id!r}: {kept} messages kept so far"))
    try:
        while True:
            entry = reader.read()
            if entry is None or entry in ("/exit", "/quit"):
                break
            if entry == "/help":
                print(style.dim(HELP))
            elif entry == "/new":
                conversation.forget()
                print(style.dim("(a new conversation)"))
            else:
                _turn(agent, entry, conversation, options, where=where, raise_errors=False)
                if not options.json:
                    print()  # a blank line between turns
    finally:
        reader.save()
    return 0


def _turn(
    agent: Agent[str],
    prompt: str,
    conversation: Conversation,
    options: argparse.Namespace,
    *,
    where: str,
    raise_errors: bool,
) -> None:
    """One question, answered and shown; the conversation grows only when the turn completes."""
    printer = TurnPrinter(sys.stdout, sys.stdout if sys.stdout.isatty() else sys.stderr, verbose=options.verbose)
    try:
        run = agent.run_stream(prompt, history=conversation.history, session=conversation.session)
        with closing_events(run) as events:
            for event in events:
                if not options.json:
                    printer.show(event)
                result = getattr(event, "result", None)
                if result is not None:
                    if options.json:
                        print(json.dumps(result_json(result), ensure_ascii=False), flush=True)
                    if conversation.session is None:
                        conversation.history = list(result.messages)
                    conversation.turns += 1
    except KeyboardInterrupt:
        if raise_errors:
            raise
        printer.finish_text()
        printer.info("(cancelled; the conversation goes on)")
    except Exception as error:
        message = describe_error(error, where)
        if message is None:
            raise
        if raise_errors:
            raise CliError(message) from None
        printer.error(message)


def describe_error(error: Exception, where: str) -> str | None:
    """One line for an error the user can act on; None for a bug (shown with its traceback)."""
    from .agent import AgentError
    from .exceptions import MistralAPIException, MistralConnectionException, MistralException

    if isinstance(error, MistralConnectionException):
        return f"cannot reach {where}: {error}"
    if isinstance(error, MistralAPIException):
        return f"{where} answered with an error: {error}"
    if isinstance(error, MistralException | AgentError):
        return str(error)
    return None


def result_json(result: Any) -> dict[str, Any]:
    """The ``--json`` object of one answer: output, tool_calls, usage, steps."""
    output = result.output
    if hasattr(output, "model_dump"):
        output = output.model_dump(mode="json")
    return {
        "output": output,
        "tool_calls": [
            {"name": call.name, "arguments": _arguments(call.arguments), "content": call.content, "error": call.error}
            for call in result.tool_calls
        ],
        "usage": result.usage.model_dump(mode="json"),
        "steps": result.steps,
    }


def _arguments(text: str) -> Any:
    """The arguments as JSON when they parse (they usually do), else the text the model sent."""
    try:
        return json.loads(text)
    except ValueError:
        return text
