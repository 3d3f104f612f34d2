"""The support bot: the demo's payment data and look-up tools, a refund that needs a human's approval, the agent."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from mistral_agents import Agent, MistralAsyncClient, RunContext, tool
from mistral_agents.demo import PAYMENTS, retrieve_payment_date, retrieve_payment_status

from .store import SessionStore

SYSTEM_PROMPT = (
    "You are a payments support assistant. Use the tools to look transactions up; if the customer has not "
    "given a transaction id, ask for it. Refunds need a human's approval: request them with refund_payment."
)


@dataclass(frozen=True)
class Customer:
    """What the tools know of the run: whose conversation it is (from the credential), and the database."""

    customer_id: str
    store: SessionStore


@tool(requires_approval=True)
def refund_payment(context: RunContext[Customer], transaction_id: str) -> dict[str, Any]:
    """Refund a transaction to the customer. A human approves every refund before it is made.

    Args:
        transaction_id: The transaction id, e.g. T1001.
    """
    payment = PAYMENTS.get(transaction_id.strip().upper())
    if payment is None:
        return {"error": f"transaction id {transaction_id} not found"}
    amount = f"{payment['amount']:.2f}"
    # A real service calls the payment provider here, with an idempotency key (the tool call id); the demo
    # records the refund in the database instead.
    customer = context.deps
    customer.store.record_refund(customer.customer_id, context.tool_call_id or "", transaction_id, amount)
    return {"refund": f"{amount} EUR refunded"}


def is_offline() -> bool:
    """No ``MISTRAL_API_KEY`` and no ``MISTRAL_ENDPOINT``: the bot talks to the built-in offline model."""
    return not (os.environ.get("MISTRAL_ENDPOINT") or os.environ.get("MISTRAL_API_KEY"))


def make_client() -> MistralAsyncClient:
    """The Mistral API with ``MISTRAL_API_KEY``; ``MISTRAL_ENDPOINT`` for another server; else the offline model."""
    endpoint = os.environ.get("MISTRAL_ENDPOINT")
    if endpoint:
        return MistralAsyncClient(endpoint=endpoint)
    if not is_offline():
        return MistralAsyncClient()
    from mistral_agents.testing import OfflineModel

    return MistralAsyncClient(endpoint="http://offline", transport=OfflineModel().transport())


def build_agent(client: MistralAsyncClient) -> Agent[str]:
    return Agent(
        os.environ.get("SUPPORT_MODEL", "mistral-large-latest"),
        tools=[retrieve_payment_status, retrieve_payment_date, refund_payment],
        client=client,
        system_prompt=SYSTEM_PROMPT,
        temperature=0,
    )
