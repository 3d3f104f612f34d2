"""The DBOS engine is loaded only by ``mistral_agents.durable``, and its absence is a clear error."""

from __future__ import annotations

import subprocess
import sys


def python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)


def test_import_mistral_agents_loads_no_dbos() -> None:
    done = python(
        "import sys, mistral_agents\n"
        "from mistral_agents import Agent, RunResult\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dbos', 'sqlalchemy')))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_without_the_extra_the_error_names_it() -> None:
    done = python("import sys; sys.modules['dbos'] = None\nimport mistral_agents.durable")
    assert done.returncode != 0
    assert 'pip install "mistral-agents[dbos]"' in done.stderr
