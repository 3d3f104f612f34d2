"""A model call that falls back is visible in the trace: a failed ``chat`` span for the model that failed, then one
for the model that answered, each naming its own request model."""

from __future__ import annotations

from opentelemetry.trace import StatusCode

from mistral_agents.testing import OfflineModel, Reply
from tests.agent.helpers import MODEL, Harness
from tests.otel.conftest import Telemetry

SMALL = "mistral-small-latest"


async def test_each_attempt_is_a_chat_span_naming_its_model(h: Harness, telemetry: Telemetry) -> None:
    def answer(body: dict[str, object]) -> Reply:
        if body["model"] == MODEL:
            return Reply.error(503, {"object": "error", "message": "overloaded", "type": "test", "code": None})
        return Reply.text("From the small model.")

    model = OfflineModel(policy=answer)
    agent = h.agent(model, fallback_models=[SMALL], name="support", instrument=telemetry.settings())

    await h.run(agent)

    failed, answered = telemetry.named("chat")
    assert failed.name == f"chat {MODEL}"
    assert failed.attributes is not None and failed.attributes["gen_ai.request.model"] == MODEL
    assert failed.attributes["error.type"] == "503"
    assert failed.status.status_code is StatusCode.ERROR
    assert answered.name == f"chat {SMALL}"
    assert answered.attributes is not None
    assert answered.attributes["gen_ai.request.model"] == SMALL
    assert answered.attributes["gen_ai.response.model"] == SMALL
    assert answered.status.status_code is not StatusCode.ERROR
    (run,) = telemetry.named("invoke_agent")
    assert run.status.status_code is not StatusCode.ERROR
    assert {failed.parent.span_id, answered.parent.span_id} == {run.context.span_id}  # type: ignore[union-attr]
    # the duration metric tells the two models apart
    models = {p.attributes["gen_ai.request.model"] for p in telemetry.points("gen_ai.client.operation.duration")}
    assert models == {MODEL, SMALL}
