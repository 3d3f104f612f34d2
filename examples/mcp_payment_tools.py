"""The payment-status tools as an MCP server, for any MCP client (Claude Desktop, an IDE, another agent).

    mistral-agents mcp serve examples/mcp_payment_tools.py                       # over stdin/stdout
    mistral-agents mcp serve examples/mcp_payment_tools.py --http --port 8000    # http://127.0.0.1:8000/mcp

The MCP tools keep the specs these functions send to the Mistral API: same names, descriptions and JSON schemas.
"""

from __future__ import annotations

from mistral_agents import tool

PAYMENTS = {
    "T1001": {"amount": 125.50, "date": "2021-10-05", "status": "Paid"},
    "T1002": {"amount": 89.99, "date": "2021-10-06", "status": "Unpaid"},
    "T1003": {"amount": 120.00, "date": "2021-10-07", "status": "Paid"},
    "T1004": {"amount": 54.30, "date": "2021-10-05", "status": "Paid"},
    "T1005": {"amount": 210.20, "date": "2021-10-08", "status": "Pending"},
}


def _payment(transaction_id: str) -> dict[str, object]:
    payment = PAYMENTS.get(transaction_id.strip().upper())
    if payment is None:
        raise KeyError(f"no transaction {transaction_id}")
    return payment


@tool
def retrieve_payment_status(transaction_id: str) -> dict[str, str]:
    """Get the payment status of a transaction.

    Args:
        transaction_id: The transaction id, e.g. T1001.
    """
    return {"status": str(_payment(transaction_id)["status"])}


@tool
def retrieve_payment_date(transaction_id: str) -> dict[str, str]:
    """Get the payment date of a transaction.

    Args:
        transaction_id: The transaction id, e.g. T1001.
    """
    return {"date": str(_payment(transaction_id)["date"])}
