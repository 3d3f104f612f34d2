"""``python -m mistral_agents.mcp serve tools.py [--http --port N]``: the same as ``mistral-agents mcp serve ...``."""

import sys

from .cli import main

sys.exit(main())
