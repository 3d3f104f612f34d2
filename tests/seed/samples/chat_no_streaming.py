#!/usr/bin/env python
# Seed-era sample; only the imports changed (mistralai -> mistral_agents).

import os

from mistral_agents.client import MistralClient
from mistral_agents.models.chat_completion import ChatMessage


def main():
    api_key = os.environ["MISTRAL_API_KEY"]
    model = "mistral-tiny"

    client = MistralClient(api_key=api_key)

    chat_response = client.chat(
        model=model,
        messages=[ChatMessage(role="user", content="What is the best French cheese?")],
    )
    print(chat_response.choices[0].message.content)


if __name__ == "__main__":
    main()
