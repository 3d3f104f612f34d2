"""A second, independent judge of chat requests: ``mistral-common``'s request validator (serving mode).

Test-only: nothing here runs unless ``MISTRAL_AGENTS_JUDGE`` names a file. Then every chat request an
[`OfflineModel`][mistral_agents.testing.OfflineModel] checks with its own rules (in this process or in a subprocess
started with that environment) is also validated by ``mistral-common``; when the two judges disagree, and the
difference is not one recorded in `_rules` as deliberate, one JSON line describing it is appended to that
file. The test suite's fixture (``tests/conftest.py``) fails the test that caused it.

Only what ``mistral-common`` models is judged: the messages, the tools, ``tool_choice``, ``response_format``
and the model name. Sampling parameters, ``stream`` and the other body fields are ours alone to check.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from typing import Any

from ._rules import RuleViolation, deliberate_difference, for_mistral_common, outside

__all__ = ["ENV", "mistral_common_verdict", "second_opinion"]

#: The environment variable naming the file where disagreements are written (unset: the judge is off).
ENV = "MISTRAL_AGENTS_JUDGE"
_JUDGED_FIELDS = ("model", "messages", "tools", "tool_choice", "response_format", "parallel_tool_calls")
_lock = threading.Lock()


def second_opinion(body: Any, ours: RuleViolation | None) -> None:
    """Ask ``mistral-common`` about ``body`` and record a disagreement with ``ours`` (when the judge is on)."""
    path = os.environ.get(ENV)
    if not path:
        return
    theirs = mistral_common_verdict(body)
    if (ours is None) == (theirs is None):
        return
    if ours is not None and (deliberate_difference(ours) is not None or outside(ours, _JUDGED_FIELDS)):
        return  # deliberately stricter (recorded in _rules), or about fields mistral-common does not model
    record = {
        "ours": None if ours is None else {"status": ours.status, "message": ours.message},
        "mistral_common": theirs,
        "body": body,
    }
    line = json.dumps(record, default=repr)
    with _lock, open(path, "a", encoding="utf-8") as out:
        out.write(line + "\n")


def mistral_common_verdict(body: Any) -> str | None:
    """``None`` when ``mistral-common`` (serving mode) accepts the request, else its error message."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    # Tests send the same request many times (parametrised cases, load tests): judge each distinct one once.
    return _verdict(json.dumps(for_mistral_common(body, _JUDGED_FIELDS), sort_keys=True, default=repr))


@functools.lru_cache(maxsize=4096)
def _verdict(judged: str) -> str | None:
    from pydantic import ValidationError

    request_type, validator, errors = _validator()
    try:
        request = request_type.model_validate_json(judged)
        validator.validate_request(request)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        return f"422 {first['msg']} ({'.'.join(str(part) for part in first['loc'])})"
    except errors as error:
        return f"400 {type(error).__name__}: {error}"
    return None


@functools.cache
def _validator() -> tuple[Any, Any, tuple[type[BaseException], ...]]:
    """Built once per process (building it imports mistral-common: the only slow part)."""
    try:
        from mistral_common.exceptions import MistralCommonException
        from mistral_common.protocol.instruct.request import ChatCompletionRequest
        from mistral_common.protocol.instruct.validator import MistralRequestValidatorV11, ValidationMode
    except ImportError as error:  # pragma: no cover - the dev extra has it
        raise ImportError(
            f"{ENV} is set but mistral-common is not installed: pip install 'mistral-agents[dev]'"
        ) from error
    # V11: the tool-call id rules of the hosted API (9 alphanumerics, distinct, each answered once), content
    # and tool calls allowed together, thinking chunks in assistant messages.
    return (
        ChatCompletionRequest,
        MistralRequestValidatorV11(mode=ValidationMode("serving")),
        (MistralCommonException, ValueError),
    )
