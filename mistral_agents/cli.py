"""The ``mistral-agents`` command line (stdlib argparse only)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mistral-agents", description="Function-calling agents on Mistral.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="the payment-status support bot (offline unless MISTRAL_API_KEY is set)")
    demo.add_argument("--interactive", action="store_true", help="type your own questions")
    serve = commands.add_parser("serve-offline", help="serve the offline model over HTTP on 127.0.0.1")
    from .testing.__main__ import add_serve_arguments

    add_serve_arguments(serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    if options.command == "demo":
        from .demo import main as demo

        return demo(["--interactive"] if options.interactive else [])
    if options.command == "serve-offline":
        from .testing.__main__ import main as serve_main

        args = ["serve", "--port", str(options.port), "--host", options.host]
        if options.openai_compatible:
            args.append("--openai-compatible")
        if options.api_key:
            args += ["--api-key", options.api_key]
        return serve_main(args)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
