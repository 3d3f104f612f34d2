"""The rules never crash: any JSON body gets either None or a well-formed hosted-API error."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mistral_agents.testing import OfflineModel, check_chat_request

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(-3, 3)
    | st.sampled_from(["", "user", "assistant", "tool", "system", "auto", "any", "function", "D681PevKs", "call_1"])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "role",
                    "content",
                    "tool_calls",
                    "tool_call_id",
                    "name",
                    "id",
                    "type",
                    "function",
                    "arguments",
                    "prefix",
                    "parameters",
                    "x",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)
bodies = st.fixed_dictionaries(
    {"model": st.just("mistral-large-latest"), "messages": st.lists(json_values, max_size=4)},
    optional={"tools": st.lists(json_values, max_size=2), "tool_choice": json_values, "temperature": json_values},
)


@settings(max_examples=300, deadline=None)
@given(bodies)
def test_any_body_gets_an_answer_not_an_exception(body: dict[str, Any]) -> None:
    for openai_compatible in (False, True):
        violation = check_chat_request(body, openai_compatible=openai_compatible)
        if violation is not None:
            assert violation.status in (400, 422)
            assert violation.body["object"] == "error"
            json.dumps(violation.body)
            assert violation.message
        else:  # accepted: the built-in policy answers it
            response = OfflineModel(openai_compatible=openai_compatible).handle(
                "POST", "/v1/chat/completions", [], json.dumps(body).encode()
            )
            assert response.status == 200, response.body


user_texts = st.sampled_from(["What's the status of T1001?", "When was it paid?", "hi", "My id is T1002.", ""])
tool_contents = st.sampled_from(['{"status": "Paid"}', '{"date": "2021-10-05"}', "Error: boom", "[1, 2]", "null"])


@st.composite
def conversations(draw: st.DrawFn) -> dict[str, Any]:
    """Valid conversations built turn by turn, with the seed's payment tools."""
    from .helpers import PAYMENT_TOOLS

    messages: list[dict[str, Any]] = [{"role": "user", "content": draw(user_texts)}]
    for turn in range(draw(st.integers(0, 3))):
        names = draw(st.lists(st.sampled_from(["retrieve_payment_status", "retrieve_payment_date"]), max_size=2))
        if names:
            calls = [
                {
                    "id": f"abcd{turn}{i}xyz",
                    "type": "function",
                    "function": {"name": name, "arguments": '{"transaction_id": "T1001"}'},
                }
                for i, name in enumerate(names)
            ]
            messages.append({"role": "assistant", "content": "", "tool_calls": calls})
            messages += [{"role": "tool", "content": draw(tool_contents), "tool_call_id": c["id"]} for c in calls]
            messages.append({"role": "assistant", "content": "Done."})
        else:
            messages.append({"role": "assistant", "content": "Sure."})
        messages.append({"role": "user", "content": draw(user_texts)})
    if len(messages) > 2 and messages[-2].get("content") == "Done." and draw(st.booleans()):
        messages = messages[:-2]  # end on the tool results
    choice = draw(st.sampled_from([None, "auto", "none", "any", "required"]))
    body = {
        "model": "mistral-large-latest",
        "messages": messages,
        "tools": PAYMENT_TOOLS,
        "stream": draw(st.booleans()),
    }
    return body if choice is None else {**body, "tool_choice": choice}


@settings(max_examples=200, deadline=None)
@given(conversations())
def test_valid_conversations_get_valid_answers_that_keep_the_transcript_valid(body: dict[str, Any]) -> None:
    assert check_chat_request(body) is None
    model = OfflineModel()
    response = model.handle("POST", "/v1/chat/completions", [], json.dumps({**body, "stream": False}).encode())
    assert response.status == 200
    message = json.loads(response.body)["choices"][0]["message"]
    turn = {"role": "assistant", "content": message["content"] or ""}
    if message["tool_calls"]:
        turn["tool_calls"] = message["tool_calls"]
    calls = message["tool_calls"] or []
    follow_up = [turn, *({"role": "tool", "content": "{}", "tool_call_id": c["id"]} for c in calls)]
    if not calls:
        follow_up.append({"role": "user", "content": "ok"})
    assert check_chat_request({**body, "messages": body["messages"] + follow_up}) is None
