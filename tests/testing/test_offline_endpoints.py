"""Embeddings, the model list, and unknown routes."""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Iterator

import httpx
import pytest

from mistral_agents.testing import OfflineModel


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(transport=OfflineModel().transport(), base_url="http://offline") as client:
        yield client


def test_embeddings_are_deterministic_unit_vectors(client: httpx.Client) -> None:
    body = {"model": "mistral-embed", "input": ["What is the best French cheese?", "Hello"]}
    first = client.post("/v1/embeddings", json=body).json()
    assert [item["index"] for item in first["data"]] == [0, 1]
    vectors = [item["embedding"] for item in first["data"]]
    assert [len(v) for v in vectors] == [1024, 1024]
    assert all(math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, abs_tol=1e-4) for v in vectors)
    assert vectors[0] != vectors[1]
    assert client.post("/v1/embeddings", json=body).json() == first
    assert first["usage"]["prompt_tokens"] > 0 and first["model"] == "mistral-embed"


def test_a_single_string_input_and_a_chosen_dimension(client: httpx.Client) -> None:
    response = client.post("/v1/embeddings", json={"model": "mistral-embed", "input": "x", "output_dimension": 8})
    [item] = response.json()["data"]
    assert len(item["embedding"]) == 8


def test_base64_encoding_packs_float32(client: httpx.Client) -> None:
    body = {"model": "mistral-embed", "input": "x", "output_dimension": 4, "encoding_format": "base64"}
    packed = client.post("/v1/embeddings", json=body).json()["data"][0]["embedding"]
    assert len(struct.unpack("<4f", base64.b64decode(packed))) == 4


def test_embedding_dimensions_are_configurable() -> None:
    model = OfflineModel(embedding_dimensions=16)
    with httpx.Client(transport=model.transport(), base_url="http://offline") as client:
        data = client.post("/v1/embeddings", json={"model": "my-embedder", "input": "x"}).json()["data"]
    assert len(data[0]["embedding"]) == 16


def test_embeddings_reject_unknown_fields(client: httpx.Client) -> None:
    response = client.post("/v1/embeddings", json={"model": "mistral-embed", "input": "x", "dimensions": 3})
    assert response.status_code == 422


def test_the_model_list_has_seed_and_current_models_with_capabilities(client: httpx.Client) -> None:
    data = client.get("/v1/models").json()
    assert data["object"] == "list"
    cards = {card["id"]: card for card in data["data"]}
    for model_id in ("mistral-large-latest", "mistral-small-latest", "open-mistral-7b", "mistral-embed"):
        assert model_id in cards
    assert cards["mistral-large-latest"]["capabilities"]["function_calling"] is True
    assert cards["mistral-embed"]["capabilities"]["completion_chat"] is False


def test_one_model_card_by_id_or_alias(client: httpx.Client) -> None:
    assert client.get("/v1/models/mistral-large-2402").json()["id"] == "mistral-large-latest"
    assert client.get("/v1/models/nope").status_code == 404


def test_unknown_paths_and_methods(client: httpx.Client) -> None:
    assert client.post("/v1/v1/chat/completions", json={}).status_code == 404
    assert client.get("/v1/chat/completions").status_code == 405
