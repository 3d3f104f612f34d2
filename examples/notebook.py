# %% [markdown]
# # mistral-agents in a notebook
#
# Open this file in Jupyter (with jupytext), VS Code or PyCharm: each `# %%` is a cell. Without
# `MISTRAL_API_KEY` it runs on the built-in offline model. Top-level `await` works in notebooks; as a script,
# the async cell runs through `asyncio.run`.

# %%
import asyncio
import json
import os

from mistral_agents import Agent, MistralClient, TextDelta, ToolCallEvent, tool
from mistral_agents.testing import OfflineModel

if os.environ.get("MISTRAL_API_KEY"):
    client = MistralClient()
else:
    model = OfflineModel()  # keep a handle: model.chat_requests shows what was sent
    client = MistralClient(endpoint="http://offline", transport=model.transport())
print(client)

# %% [markdown]
# ## A tool: a typed function with a docstring

# %%
ORDERS = {"A-17": {"status": "shipped", "carrier": "DHL"}, "B-42": {"status": "processing", "carrier": None}}


@tool
def get_order_status(order_id: str) -> dict:
    """Look an order up.

    Args:
        order_id: The order id, e.g. A-17.
    """
    return ORDERS.get(order_id.upper(), {"error": f"no order {order_id}"})


print(json.dumps(get_order_status.spec, indent=2))  # what the model sees

# %% [markdown]
# ## An agent, and a conversation over several cells

# %%
agent = Agent(
    "mistral-large-latest", [get_order_status], client=client, system_prompt="You help customers track their orders."
)
result = agent.run("Where is my order A-17?")
print(result.output)
for call in result.tool_calls:
    print(f"  {call.name}({call.arguments}) -> {call.content}")

# %%
follow_up = agent.run("And order B-42?", history=result.messages)
print(follow_up.output)
print(f"{follow_up.steps} model calls, {follow_up.usage.total_tokens} tokens")

# %% [markdown]
# ## Streaming, async


# %%
async def stream(prompt: str) -> None:
    async for event in agent.arun_stream(prompt):
        if isinstance(event, TextDelta):
            print(event.text, end="", flush=True)
        elif isinstance(event, ToolCallEvent):
            print(f"[calling {event.name}({event.arguments})]")
    print()
    await agent.aclose()


asyncio.run(stream("What's the status of order A-17?"))  # in a notebook: await stream("...")

# %%
agent.close()
client.close()
