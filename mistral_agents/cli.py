"""The ``mistral-agents`` command line (stdlib argparse).

The commands are a table: each names the module that implements it and the two functions it provides,
``configure(parser)`` (its arguments; keep imports there light: ``--help`` builds every parser) and
``run(options) -> int``. A new command is one row (its module may live in a subpackage, e.g. ``mcp``).

Problems the user can fix (a missing key, a module that won't import, no tools, a refused connection) are one
line on stderr and exit status 2; Ctrl-C is status 130; a closed stdout (``| head``) ends quietly.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import import_module

from ._cli_support import CliError

__all__ = ["COMMANDS", "Command", "main"]


@dataclass(frozen=True)
class Command:
    """A subcommand: ``module`` (relative to this package, or absolute) defines ``configure`` and ``run``."""

    name: str
    summary: str
    module: str
    configure: str = "configure"
    run: str = "run"

    def _function(self, attribute: str) -> Callable[..., object]:
        module = import_module(self.module, __package__)
        function: Callable[..., object] = getattr(module, attribute)
        return function


COMMANDS: tuple[Command, ...] = (
    Command("chat", "chat with a model, with or without your @tool functions", "._cli_chat"),
    Command("demo", "the payment-status support bot (offline unless MISTRAL_API_KEY is set)", "._cli_commands",
            "configure_demo", "run_demo"),
    Command("tools", "print the tool specs a module's @tool functions send to the API", "._cli_commands",
            "configure_tools", "run_tools"),
    Command("models", "list the models of the API (or of --endpoint)", "._cli_commands",
            "configure_models", "run_models"),
    Command("serve-offline", "serve the offline model over HTTP on 127.0.0.1", "._cli_commands",
            "configure_serve", "run_serve"),
    Command("mcp", "Model Context Protocol: serve a module's @tool functions as an MCP server", ".mcp.cli"),
)  # fmt: skip

EXAMPLES = """\
examples:
  mistral-agents chat                          talk to a model (offline without MISTRAL_API_KEY)
  mistral-agents chat "What is a mistral?"     one question, one answer
  mistral-agents chat --tools mytools.py       the model may call your @tool functions
  mistral-agents demo                          the payment-status support bot
  mistral-agents chat --help                   more about a command"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mistral-agents",
        description="Function-calling agents on Mistral, from the command line.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        sub = commands.add_parser(command.name, help=command.summary, description=command.summary)
        sub.set_defaults(_run=command)
        command._function(command.configure)(sub)
    return parser


def _version() -> str:
    from ._version import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    options = parser.parse_args(argv)
    command: Command | None = getattr(options, "_run", None)
    if command is None:
        parser.print_help()
        return 0
    try:
        status = command._function(command.run)(options)
        return int(status) if isinstance(status, int) else 0
    except CliError as error:
        print(f"mistral-agents: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`mistral-agents tools big.py | head -1`): stop quietly. Point stdout at
        # /dev/null so that the interpreter's final flush does not fail a second time.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
