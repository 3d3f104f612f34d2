"""docs/agents.md stays runnable: its Python examples run in order, offline, and print what they say."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "agents.md"


def test_the_agents_guide_examples_run(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 8
    namespace: dict[str, Any] = {"__name__": "agents_guide"}
    for number, block in enumerate(blocks):
        exec(compile(block, f"{DOC.name}[{number}]", "exec"), namespace)
    printed = capsys.readouterr().out
    for promised in [
        "Could you please provide your transaction id?",
        "The status of transaction T1001 is Paid.",
        "['any', 'auto']",
        "['user', 'assistant', 'tool', 'assistant', 'user']",
        "transaction_id='T1001' status='Paid'",
        "I can't refund X7. []",
        "The status of transaction T1002 is Unpaid.",
    ]:
        assert promised in printed
