"""Model-list wire models, at the seed-era import path ``mistral_agents.models.models``."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ._base import WireModel

__all__ = ["ModelCard", "ModelList", "ModelPermission"]


class ModelPermission(WireModel):
    id: str = ""
    object: str = "model_permission"
    created: int = 0
    allow_create_engine: bool | None = False
    allow_sampling: bool = True
    allow_logprobs: bool = True
    allow_search_indices: bool | None = False
    allow_view: bool = True
    allow_fine_tuning: bool = False
    organization: str = "*"
    group: str | None = None
    is_blocking: bool | None = False


class ModelCard(WireModel):
    """One model; seed-era fields (``root``, ``parent``, ``permission``) and current ones alike."""

    id: str
    object: str = "model"
    created: int = 0
    owned_by: str = "mistralai"
    root: str | None = None
    parent: str | None = None
    permission: list[ModelPermission] = Field(default_factory=list)
    capabilities: dict[str, Any] | None = None
    name: str | None = None
    description: str | None = None
    max_context_length: int | None = None
    aliases: list[str] = Field(default_factory=list)
    deprecation: str | None = None
    type: str | None = None


class ModelList(WireModel):
    object: str = "list"
    data: list[ModelCard] = Field(default_factory=list)
