"""``python -m mistral_agents.testing serve --port N [--host H] [--openai-compatible]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._model import OfflineModel
from ._server import OfflineServer

__all__ = ["main", "serve"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mistral_agents.testing", description="Run the deterministic offline Mistral model."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="serve the built-in demo model over HTTP on loopback")
    add_serve_arguments(serve_parser)
    return parser


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``serve`` options, for a CLI that wants the same command."""
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument(
        "--openai-compatible",
        action="store_true",
        help="relax the Mistral-only rules and answer like a vLLM/Ollama-style server",
    )
    parser.add_argument("--api-key", default=None, help="require 'Authorization: Bearer <key>'")
    parser.add_argument("--verbose", action="store_true", help="log every request")


def serve(argv: Sequence[str] | None = None) -> int:
    """Parse the ``serve`` options from ``argv`` and serve until Ctrl-C; returns an exit status."""
    parser = argparse.ArgumentParser(prog="serve")
    add_serve_arguments(parser)
    options = parser.parse_args(argv)
    return _run(options)


def _run(options: argparse.Namespace) -> int:
    model = OfflineModel(openai_compatible=options.openai_compatible, api_key=options.api_key)
    server = OfflineServer(model, host=options.host, port=options.port, verbose=options.verbose)
    print(f"Offline Mistral model listening on {server.url}  (Ctrl-C to stop)", flush=True)
    server.serve_until_stopped()
    print("stopped", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    return _run(options)


if __name__ == "__main__":
    sys.exit(main())
