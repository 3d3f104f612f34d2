"""The ``mistral-agents`` command line (stdlib argparse only).

- ``mistral-agents demo`` — the payment-status support bot (offline unless ``MISTRAL_API_KEY`` is set);
- ``mistral-agents chat --tools mytools.py [--once "..."] [--json]`` — talk to a model with your own tools;
- ``mistral-agents tools mytools.py`` — print the tool specs that would be sent to the API;
- ``mistral-agents serve-offline --port N`` — the offline model over HTTP on 127.0.0.1.

Problems the user can fix (a missing key, a module that won't import, no tools, a refused connection) are one
line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from ._cli_support import CliError, choose_client, find_tools, load_module

if TYPE_CHECKING:
    from .agent import Agent

__all__ = ["main"]

DEFAULT_MODEL = "mistral-large-latest"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mistral-agents", description="Function-calling agents on Mistral.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="the payment-status support bot (offline unless MISTRAL_API_KEY is set)")
    demo.add_argument("--interactive", action="store_true", help="type your own questions")

    chat = commands.add_parser(
        "chat",
        help="chat with a model that can call the @tool functions of a module",
        description="Chat with a model that can call every @tool found in a module. Model: --endpoint if given, "
        "else the Mistral API if MISTRAL_API_KEY is set, else the built-in offline model.",
    )
    chat.add_argument("--tools", required=True, metavar="PATH_OR_MODULE", help="a .py file or a dotted module name")
    chat.add_argument("--model", default=DEFAULT_MODEL, help=f"model name (default: {DEFAULT_MODEL})")
    chat.add_argument(
        "--endpoint",
        default=None,
        metavar="URL",
        help="a server to talk to, e.g. http://localhost:8000/v1 (no key needed off the official API)",
    )
    chat.add_argument("--system", default=None, metavar="PROMPT", help="a system prompt")
    chat.add_argument("--once", default=None, metavar="PROMPT", help="ask one question, print the answer, exit")
    chat.add_argument(
        "--json", action="store_true", help="print one JSON object per answer: output, tool_calls, usage, steps"
    )
    chat.add_argument("--max-retries", type=int, default=2, help="retries of failed requests (default: 2)")

    tools = commands.add_parser("tools", help="print the tool specs a module's @tool functions send to the API")
    tools.add_argument("module", metavar="PATH_OR_MODULE", help="a .py file or a dotted module name")

    serve = commands.add_parser("serve-offline", help="serve the offline model over HTTP on 127.0.0.1")
    from .testing.__main__ import add_serve_arguments

    add_serve_arguments(serve)
    return parser


def _version() -> str:
    from ._version import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    try:
        if options.command == "demo":
            from .demo import main as demo

            return demo(["--interactive"] if options.interactive else [])
        if options.command == "chat":
            return _chat(options)
        if options.command == "tools":
            return _tools(options)
        if options.command == "serve-offline":
            return _serve(options)
    except CliError as error:
        print(f"mistral-agents: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    return 2  # pragma: no cover - argparse rejects unknown commands


# ---------------------------------------------------------------------------------------------------- tools
def _tools(options: argparse.Namespace) -> int:
    from .tools import ToolDefinitionError, ToolRegistry

    found = find_tools(load_module(options.module))
    try:
        specs = ToolRegistry(found).specs()
    except ToolDefinitionError as error:
        raise CliError(str(error)) from None
    print(json.dumps(specs, indent=2, ensure_ascii=False))
    return 0


# ---------------------------------------------------------------------------------------------------- chat
def _chat(options: argparse.Namespace) -> int:
    from .agent import Agent  # imported lazily: `tools` and `--help` stay fast
    from .tools import ToolDefinitionError, ToolRegistry

    tools = find_tools(load_module(options.tools))
    try:
        registry = ToolRegistry(tools)
    except ToolDefinitionError as error:
        raise CliError(str(error)) from None
    if options.max_retries < 0:
        raise CliError("--max-retries must be >= 0")
    chosen = choose_client(options.endpoint, max_retries=options.max_retries)
    if chosen.offline:
        print(
            "note: MISTRAL_API_KEY is not set; using the built-in offline model "
            "(set it, or pass --endpoint, to talk to a real model)",
            file=sys.stderr,
        )
    agent: Agent[str] = Agent(options.model, registry, client=chosen.client, system_prompt=options.system)
    with chosen.client, agent:
        if options.once is None and not options.json:
            names = ", ".join(registry)
            print(f"Chatting with {options.model} on {chosen.where}; tools: {names}. Empty line or Ctrl-D to quit.")
        prompts: Iterable[str] = [options.once] if options.once is not None else _typed_prompts(options.json)
        history: Any = None
        for prompt in prompts:
            history = _turn(agent, prompt, history, as_json=options.json, where=chosen.where)
    return 0


def _typed_prompts(quiet: bool) -> Iterable[str]:
    while True:
        try:
            line = input("" if quiet else "\nYou: ").strip()
        except EOFError:
            return
        if not line:
            return
        yield line


def _turn(agent: Agent[str], prompt: str, history: Any, *, as_json: bool, where: str) -> Any:
    """One question, answered; returns the conversation so far (the next turn's history)."""
    from .agent import AgentError
    from .exceptions import MistralAPIException, MistralConnectionException, MistralException

    printer = None if as_json else _EventPrinter(sys.stdout)
    try:
        for event in agent.run_stream(prompt, history=history):
            if printer is not None:
                printer.show(event)
            result = getattr(event, "result", None)
            if result is not None:
                if as_json:
                    print(json.dumps(_result_json(result), ensure_ascii=False))
                return result.messages
    except MistralConnectionException as error:
        raise CliError(f"cannot reach {where}: {error}") from None
    except MistralAPIException as error:
        raise CliError(f"{where} answered with an error: {error}") from None
    except (MistralException, AgentError) as error:
        raise CliError(str(error)) from None
    return history  # pragma: no cover - a run always ends with a FinalResult


def _result_json(result: Any) -> dict[str, Any]:
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


class _EventPrinter:
    """Shows a streamed run as it happens: text as it arrives, each tool call and its result."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.in_text = False

    def show(self, event: Any) -> None:
        from .agent import FinalResult, TextDelta, ToolCallEvent, ToolResultEvent

        if isinstance(event, TextDelta):
            if not self.in_text:
                self.out.write("Assistant: ")
                self.in_text = True
            self.out.write(event.text)
        elif isinstance(event, ToolCallEvent):
            self._end_text()
            self.out.write(f"  -> {event.name}({event.arguments})\n")
        elif isinstance(event, ToolResultEvent):
            marker = "<-" if event.ok else "!!"
            self.out.write(f"  {marker} {event.name}: {event.outcome.content}\n")
        elif isinstance(event, FinalResult):
            if not self.in_text and event.result.output is not None:
                self.out.write(f"Assistant: {event.result.output}")
                self.in_text = True
            self._end_text()
        self.out.flush()

    def _end_text(self) -> None:
        if self.in_text:
            self.out.write("\n")
            self.in_text = False


# ---------------------------------------------------------------------------------------------------- serve
def _serve(options: argparse.Namespace) -> int:
    from .testing.__main__ import main as serve_main

    args = ["serve", "--port", str(options.port), "--host", options.host]
    if options.openai_compatible:
        args.append("--openai-compatible")
    if options.api_key:
        args += ["--api-key", options.api_key]
    if options.verbose:
        args.append("--verbose")
    return serve_main(args)


if __name__ == "__main__":
    sys.exit(main())
