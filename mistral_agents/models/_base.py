"""The base of every wire model: unknown fields are kept, never rejected."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class WireModel(BaseModel):
    """A pydantic model for data on the wire; servers may add fields at any time, so extras are kept."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
