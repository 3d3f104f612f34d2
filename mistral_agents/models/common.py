"""Models shared by several endpoints."""

from __future__ import annotations

from ._base import WireModel


class UsageInfo(WireModel):
    """Token counts of one request (or, summed with ``+``, of several)."""

    prompt_tokens: int = 0
    completion_tokens: int | None = 0
    total_tokens: int = 0

    def __add__(self, other: UsageInfo) -> UsageInfo:
        return UsageInfo(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=(self.completion_tokens or 0) + (other.completion_tokens or 0),
            total_tokens=self.total_tokens + other.total_tokens,
        )
