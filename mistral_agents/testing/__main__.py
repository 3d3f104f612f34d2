"""``python -m mistral_agents.testing serve --port N [--host H] [--openai-compatible]``.

The same command as ``mistral-agents serve-offline`` (one implementation, in the command line's table).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    from ..cli import main as cli_main  # a command-line entry point reusing the command line, never the reverse

    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] != ["serve"]:
        print("usage: python -m mistral_agents.testing serve [--port N] [--host H] [...]", file=sys.stderr)
        return 2
    return cli_main(["serve-offline", *args[1:]])


if __name__ == "__main__":
    sys.exit(main())
