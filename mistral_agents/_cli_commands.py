"""The small commands of ``mistral-agents``: ``demo``, ``tools``, ``models``, ``serve-offline``.

Each has a ``configure_*(parser)`` and a ``run_*(options) -> int``, registered in `cli.COMMANDS`.
"""

from __future__ import annotations

import argparse
import json
import sys

from ._cli_support import CliError, choose_client, find_tools, load_module

__all__ = [
    "configure_demo",
    "configure_models",
    "configure_serve",
    "configure_tools",
    "run_demo",
    "run_models",
    "run_serve",
    "run_tools",
]


# ------------------------------------------------------------------------------------------------------- demo
def configure_demo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--interactive", action="store_true", help="type your own questions")


def run_demo(options: argparse.Namespace) -> int:
    from .demo import main as demo

    return demo(["--interactive"] if options.interactive else [])


# ------------------------------------------------------------------------------------------------------ tools
def configure_tools(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("module", metavar="PATH_OR_MODULE", help="a .py file or a dotted module name")


def run_tools(options: argparse.Namespace) -> int:
    from .tools import ToolDefinitionError, ToolRegistry

    found = find_tools(load_module(options.module))
    try:
        specs = ToolRegistry(found).specs()
    except ToolDefinitionError as error:
        raise CliError(str(error)) from None
    print(json.dumps(specs, indent=2, ensure_ascii=False))
    return 0


# ----------------------------------------------------------------------------------------------------- models
def configure_models(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", default=None, metavar="URL", help="a server to ask (default: as for chat)")
    parser.add_argument("--json", action="store_true", help="print the API's model list as JSON")


def run_models(options: argparse.Namespace) -> int:
    from ._cli_chat import describe_error

    chosen = choose_client(options.endpoint, max_retries=1)
    with chosen.client:
        try:
            models = chosen.client.list_models()
        except Exception as error:
            message = describe_error(error, chosen.where)
            if message is None:
                raise
            raise CliError(message) from None
    if options.json:
        print(models.model_dump_json(indent=2))
        return 0
    print(f"Models on {chosen.where}:", file=sys.stderr)
    for card in models.data:
        tools = bool((card.capabilities or {}).get("function_calling"))
        print(f"{card.id}{'  (tools)' if tools else ''}")
    return 0


# ------------------------------------------------------------------------------------------------------ serve
def configure_serve(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument(
        "--openai-compatible",
        action="store_true",
        help="relax the Mistral-only rules and answer like a vLLM/Ollama-style server",
    )
    parser.add_argument("--api-key", default=None, help="require 'Authorization: Bearer <key>'")
    parser.add_argument("--verbose", action="store_true", help="log every request")


def run_serve(options: argparse.Namespace) -> int:
    from .testing import OfflineModel, OfflineServer

    model = OfflineModel(openai_compatible=options.openai_compatible, api_key=options.api_key)
    try:
        server = OfflineServer(model, host=options.host, port=options.port, verbose=options.verbose)
    except OSError as error:
        raise CliError(f"cannot listen on {options.host}:{options.port}: {error.strerror or error}") from None
    print(f"Offline Mistral model listening on {server.url}  (Ctrl-C to stop)", flush=True)
    server.serve_until_stopped()
    print("stopped", file=sys.stderr)
    return 0
