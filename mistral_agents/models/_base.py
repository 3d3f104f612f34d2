"""The base of every wire model: unknown fields are kept, never rejected."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class WireModel(BaseModel):
    """A pydantic model for data on the wire; servers may add fields at any time, so extras are kept.

    ``defer_build``: a model's validator is built on its first use, not at import, so a program pays only for
    the models it touches (a plain chat never builds the streaming, embedding or model-list ones).
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)
