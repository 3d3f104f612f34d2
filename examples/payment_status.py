"""The payment-status support bot (the seed's function-calling scenario) as an agent.

    python examples/payment_status.py                # offline model, unless MISTRAL_API_KEY is set
    python examples/payment_status.py --interactive  # ask your own questions

The bot itself (the data, the two tools and the agent) lives in ``mistral_agents/demo/`` so that the installed
``mistral-agents demo`` command runs exactly this code. The heart of it:

    @tool
    def retrieve_payment_status(transaction_id: str) -> dict[str, str]:
        \"\"\"Get payment status of a transaction id.

        Args:
            transaction_id: The transaction id.
        \"\"\"
        ...

    agent = Agent("mistral-large-latest", tools=[retrieve_payment_status, retrieve_payment_date],
                  system_prompt="You are a payments support assistant. ...")
    result = agent.run("What's the status of my transaction T1001?")
    print(result.output)
"""

import sys

from mistral_agents.demo import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
