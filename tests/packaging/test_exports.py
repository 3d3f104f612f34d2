"""The public names are re-exported in a way type checkers see (a literal ``__all__``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mistral_agents


def test_all_lists_exactly_the_lazy_exports() -> None:
    assert sorted(mistral_agents.__all__) == sorted(["__version__", *mistral_agents._EXPORTS])
    assert len(set(mistral_agents.__all__)) == len(mistral_agents.__all__)


def test_a_strict_mypy_user_can_import_the_public_names(tmp_path: Path) -> None:
    user = tmp_path / "user_code.py"
    user.write_text("from mistral_agents import Agent, MistralClient, tool\n\nprint(Agent, MistralClient, tool)\n")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(user)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert "explicitly export" not in done.stdout, done.stdout
    assert done.returncode == 0, done.stdout + done.stderr
