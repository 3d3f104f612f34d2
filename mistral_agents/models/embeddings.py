"""Embedding wire models, at the seed-era import path ``mistral_agents.models.embeddings``."""

from __future__ import annotations

from pydantic import Field

from ._base import WireModel
from .common import UsageInfo

__all__ = ["EmbeddingObject", "EmbeddingResponse"]


class EmbeddingObject(WireModel):
    object: str = "embedding"
    embedding: list[float] = Field(default_factory=list)
    index: int = 0


class EmbeddingResponse(WireModel):
    id: str = ""
    object: str = "list"
    data: list[EmbeddingObject] = Field(default_factory=list)
    model: str = ""
    usage: UsageInfo = Field(default_factory=UsageInfo)
