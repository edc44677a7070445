"""Errors the engine raises for the layers above to translate (e.g. into HTTP statuses)."""
from __future__ import annotations

from context_store import ConflictError, StoreLockedError, StoreMismatchError


class NotFoundError(LookupError):
    """The named event (or user, system) is not stored."""

    def __init__(self, what: str, key: str):
        super().__init__(f"{what} {key!r} not found")
        self.what = what
        self.key = key


class BatchTooLargeError(ValueError):
    """A batch holds more events than the configured maximum."""


class NotTriagedError(ValueError):
    """Triage was asked of an event that carries none (alerts and changes are not triaged)."""


__all__ = ["BatchTooLargeError", "NotTriagedError", "ConflictError", "NotFoundError", "StoreLockedError", "StoreMismatchError"]
