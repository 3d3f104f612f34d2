"""The payment-status support bot: the seed's function-calling scenario as a ten-line agent.

Run it with ``mistral-agents demo`` (or ``python examples/payment_status.py``). With ``MISTRAL_API_KEY`` set it
talks to the Mistral API; without, to the built-in offline model, so it works anywhere with no network.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TextIO

from .._cli_support import choose_client
from ..agent import Agent, FinalResult, ToolCallEvent, ToolResultEvent
from ..client import MistralClient
from ..tools import tool

PAYMENTS: dict[str, dict[str, Any]] = {
    "T1001": {"customer_id": "C001", "amount": 125.50, "date": "2021-10-05", "status": "Paid"},
    "T1002": {"customer_id": "C002", "amount": 89.99, "date": "2021-10-06", "status": "Unpaid"},
    "T1003": {"customer_id": "C003", "amount": 120.00, "date": "2021-10-07", "status": "Paid"},
    "T1004": {"customer_id": "C002", "amount": 54.30, "date": "2021-10-05", "status": "Paid"},
    "T1005": {"customer_id": "C001", "amount": 210.20, "date": "2021-10-08", "status": "Pending"},
}

SYSTEM_PROMPT = (
    "You are a payments support assistant. Use the tools to look transactions up; "
    "if the customer has not given a transaction id, ask for it."
)

SCRIPT = (
    "What's the status of my transaction?",
    "My transaction ID is T1001.",
    "And when was it paid?",
)


@tool
def retrieve_payment_status(transaction_id: str) -> dict[str, str]:
    """Get payment status of a transaction id.

    Args:
        transaction_id: The transaction id.
    """
    return _payment_field(transaction_id, "status")


@tool
def retrieve_payment_date(transaction_id: str) -> dict[str, str]:
    """Get payment date of a transaction id.

    Args:
        transaction_id: The transaction id.
    """
    return _payment_field(transaction_id, "date")


def _payment_field(transaction_id: str, name: str) -> dict[str, str]:
    payment = PAYMENTS.get(transaction_id.strip().upper())
    return {name: payment[name]} if payment else {"error": f"transaction id {transaction_id} not found"}


def build_agent(client: MistralClient, model: str = "mistral-large-latest") -> Agent[str]:
    return Agent(
        model,
        tools=[retrieve_payment_status, retrieve_payment_date],
        client=client,
        system_prompt=SYSTEM_PROMPT,
        temperature=0,
    )


def converse(agent: Agent[str], prompts: Iterable[str], out: TextIO | None = None, *, echo: bool = True) -> list[str]:
    """Run each prompt as a turn of one conversation, printing tool calls as they happen; returns the answers.

    ``echo`` prints each prompt first (a scripted conversation); typed prompts are on the screen already.
    """
    out = out or sys.stdout  # looked up per call: sys.stdout may be replaced (pytest, notebooks)
    history = None
    answers: list[str] = []
    for prompt in prompts:
        if echo:
            print(f"\nCustomer: {prompt}", file=out)
        for event in agent.run_stream(prompt, history=history):
            if isinstance(event, ToolCallEvent):
                print(f"  -> {event.name}({event.arguments})", file=out)
            elif isinstance(event, ToolResultEvent):
                print(f"  <- {event.outcome.content}", file=out)
            elif isinstance(event, FinalResult):
                history = event.result.messages
                answers.append(str(event.result.output))
                print(f"Assistant: {event.result.output}", file=out)
    return answers


def _typed_prompts() -> Iterable[str]:
    while True:
        try:
            line = input("\nYou (empty line to quit): ").strip()
        except EOFError:
            return
        if not line:
            return
        yield line


def main(argv: list[str] | None = None) -> int:
    interactive = "--interactive" in (argv or [])
    chosen = choose_client()  # the Mistral API when MISTRAL_API_KEY is set, else the offline model
    client = chosen.client
    print(f"Payment-status support bot, on {chosen.where}.")
    with client, build_agent(client) as agent:
        converse(agent, _typed_prompts() if interactive else SCRIPT, echo=not interactive)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
