"""The offline model's answers to ``GET /v1/models`` and ``POST /v1/embeddings``."""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from typing import Any

from ._render import CREATED
from ._tokens import count_tokens, digest

__all__ = ["EMBEDDING_DIMENSIONS", "embeddings_body", "model_cards", "unit_vector"]

EMBEDDING_DIMENSIONS = {"mistral-embed": 1024, "codestral-embed": 1536}

# (id, aliases, function_calling, vision, max_context_length, description)
_CHAT_MODELS: tuple[tuple[str, tuple[str, ...], bool, bool, int, str], ...] = (
    ("mistral-large-latest", ("mistral-large-2411", "mistral-large-2402"), True, False, 131072, "Top-tier model."),
    ("mistral-medium-latest", ("mistral-medium-2505", "mistral-medium-2312"), True, True, 131072, "Frontier-class."),
    ("mistral-small-latest", ("mistral-small-2503", "mistral-small-2402"), True, True, 131072, "Small and fast."),
    ("ministral-8b-latest", ("ministral-8b-2410",), True, False, 131072, "Edge model, 8B."),
    ("ministral-3b-latest", ("ministral-3b-2410",), True, False, 131072, "Edge model, 3B."),
    ("codestral-latest", ("codestral-2501",), True, False, 262144, "Code model."),
    ("open-mistral-7b", ("mistral-tiny-2312", "mistral-tiny"), False, False, 32768, "Seed-era 7B model."),
    ("open-mixtral-8x7b", ("mistral-small-2312",), False, False, 32768, "Seed-era sparse mixture of experts."),
)


def _card(
    model_id: str, aliases: tuple[str, ...], capabilities: dict[str, bool], context: int, description: str, kind: str
) -> dict[str, Any]:
    return {
        "id": model_id,
        "object": "model",
        "created": CREATED,
        "owned_by": "mistralai",
        "root": model_id,
        "parent": None,
        "capabilities": capabilities,
        "name": model_id,
        "description": description,
        "max_context_length": context,
        "aliases": list(aliases),
        "deprecation": None,
        "default_model_temperature": 0.3,
        "type": kind,
    }


def model_cards() -> list[dict[str, Any]]:
    """Cards for the seed-era and current models, with ``capabilities``."""
    cards = [
        _card(
            model_id,
            aliases,
            {
                "completion_chat": True,
                "completion_fim": model_id.startswith("codestral"),
                "function_calling": tools,
                "fine_tuning": False,
                "vision": vision,
                "classification": False,
            },
            context,
            description,
            "base",
        )
        for model_id, aliases, tools, vision, context, description in _CHAT_MODELS
    ]
    embed_capabilities = {
        "completion_chat": False,
        "completion_fim": False,
        "function_calling": False,
        "fine_tuning": False,
        "vision": False,
        "classification": False,
    }
    cards.append(_card("mistral-embed", (), embed_capabilities, 8192, "Text embeddings, 1024 dimensions.", "base"))
    return cards


def unit_vector(text: str, dimensions: int) -> list[float]:
    """A deterministic unit-length vector derived from a hash of ``text``."""
    values: list[float] = []
    block = 0
    while len(values) < dimensions:
        chunk = hashlib.sha256(f"{block}:{text}".encode()).digest()
        values.extend((byte - 127.5) / 127.5 for byte in chunk)
        block += 1
    values = values[:dimensions]
    norm = math.sqrt(sum(value * value for value in values)) or 1.0
    return [round(value / norm, 6) for value in values]


def embeddings_body(body: dict[str, Any], default_dimensions: int) -> dict[str, Any]:
    """The ``/v1/embeddings`` response: one vector per input, with ``index``."""
    inputs = [body["input"]] if isinstance(body["input"], str) else list(body["input"])
    model = body["model"]
    dimensions = int(body.get("output_dimension") or EMBEDDING_DIMENSIONS.get(model, default_dimensions))
    data = []
    for index, text in enumerate(inputs):
        vector = unit_vector(text, dimensions)
        embedding: Any = vector
        if body.get("encoding_format") == "base64":
            embedding = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "embedding": embedding, "index": index})
    tokens = sum(count_tokens(text) for text in inputs)
    return {
        "id": digest("embeddings", body)[:32],
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens, "completion_tokens": 0},
    }
