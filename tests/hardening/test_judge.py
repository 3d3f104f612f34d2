"""The second judge: a request our rules accept but mistral-common rejects is written down (and so fails the
test that sent it, through the fixture in tests/conftest.py); deliberate differences are not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from mistral_agents.testing import OfflineModel, RuleViolation
from mistral_agents.testing import _model as offline_model
from mistral_agents.testing._judge import ENV, second_opinion

BAD = {"model": "m", "messages": [{"role": "user", "content": [{"type": "video", "video": "x"}]}]}


def post(model: OfflineModel, body: dict[str, Any]) -> httpx.Response:
    with httpx.Client(transport=model.transport(), base_url="http://offline") as client:
        return client.post("/v1/chat/completions", json=body)


def test_a_disagreement_is_written_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv(ENV, str(log))
    monkeypatch.setattr(offline_model, "check_chat_request", lambda body, openai_compatible=False: None)  # lax rules
    assert post(OfflineModel(script=["ok"]), BAD).status_code == 200
    [line] = log.read_text().splitlines()
    record = json.loads(line)
    assert record["ours"] is None and record["mistral_common"].startswith("422")
    assert record["body"] == BAD


def test_deliberately_stricter_rules_and_fields_mistral_common_does_not_model_are_not_disagreements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv(ENV, str(log))
    tool_then_user = {
        "model": "m",
        "messages": [
            {"role": "user", "content": "a"},
            {"role": "assistant", "tool_calls": [{"id": "abcdefghi", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "abcdefghi", "content": "r"},
            {"role": "user", "content": "b"},
        ],
    }
    model = OfflineModel(script=["ok"])
    assert post(model, tool_then_user).status_code == 400  # the hosted API's rule (code 3230)
    assert post(model, {"model": "m", "messages": [{"role": "user", "content": "a"}], "seed": 1}).status_code == 422
    assert not log.exists()


def test_the_judge_is_off_without_its_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    second_opinion(BAD, None)  # nothing to write to, nothing written, no error
    second_opinion(BAD, RuleViolation(422, {"message": "x"}))
