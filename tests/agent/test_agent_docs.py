"""docs/agents.md stays runnable: its Python examples run in order, offline, and print what they say."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "agents.md"


def test_the_agents_guide_examples_run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 8
    module = types.ModuleType("agents_guide")  # a real module: dataclasses look their module up
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for number, block in enumerate(blocks):
        exec(compile(block, f"{DOC.name}[{number}]", "exec"), module.__dict__)
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
