"""A deterministic offline model that speaks the Mistral wire protocol, for tests and demos.

- [`OfflineModel`][mistral_agents.testing.OfflineModel] — the model: the built-in demo policy, a script of
  [`Reply`][mistral_agents.testing.Reply] values, or a function of the request; hosted-API request rules
  enforced; every request recorded (keys redacted).
- [`OfflineTransport`][mistral_agents.testing.OfflineTransport] — the model as an ``httpx`` transport (sync and
  async).
- [`OfflineServer`][mistral_agents.testing.OfflineServer] — the model on a real loopback HTTP server
  (also ``python -m mistral_agents.testing serve --port N``).
- [`check_chat_request`][mistral_agents.testing.check_chat_request] — the hosted API's request rules, as a pure
  function.

Example::

    model = OfflineModel(script=[Reply.tool_call("retrieve_payment_status", {"transaction_id": "T1001"}),
                                 "The status of transaction T1001 is Paid."])
    client = MistralClient(endpoint="http://offline", transport=model.transport())
    ...                                  # run the code under test
    assert model.rejections == []        # the hosted API would have accepted every request
    model.chat_requests[-1]["messages"]  # what was sent
"""

from ._model import OfflineModel, Policy, RecordedRequest
from ._reply import Reply
from ._rules import RuleViolation, check_chat_request, check_embeddings_request
from ._server import OfflineServer
from ._transport import OfflineTransport

__all__ = [
    "OfflineModel",
    "OfflineServer",
    "OfflineTransport",
    "Policy",
    "RecordedRequest",
    "Reply",
    "RuleViolation",
    "check_chat_request",
    "check_embeddings_request",
]
