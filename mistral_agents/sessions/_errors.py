"""Errors of the session backends."""

from __future__ import annotations

__all__ = ["SessionBusyError", "SessionDataError"]


class SessionBusyError(RuntimeError):
    """Another run holds this conversation and did not finish within ``lock_timeout``; nothing was sent."""


class SessionDataError(ValueError):
    """A stored message could not be read back (a corrupted row): nothing was changed or removed."""
