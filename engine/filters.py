"""Filters a caller can put on related-report search."""
from __future__ import annotations

from datetime import datetime, timezone

from pydantic import BaseModel, ConfigDict, Field, field_validator

from context_store import EventFilter
from engine.events import EventKind, reject_numeric_timestamp


class RelatedFilters(BaseModel):
    """Restrict related reports by kind, system, user, time window, or to earlier events."""

    model_config = ConfigDict(extra="forbid")

    kinds: list[EventKind] = Field(default_factory=list)
    systems: list[str] = Field(default_factory=list)
    user_id: str | None = None
    since: datetime | None = Field(None, description="Inclusive lower bound, ISO 8601 with timezone.")
    until: datetime | None = Field(None, description="Exclusive upper bound, ISO 8601 with timezone.")
    earlier_only: bool = Field(False, description="Only events before the anchor event (or before `until`).")

    _iso_only = field_validator("since", "until", mode="before")(reject_numeric_timestamp)

    @field_validator("since", "until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.utcoffset() is None:
            raise ValueError("timestamp needs a timezone, e.g. 2026-11-27T09:30:00Z")
        return value.astimezone(timezone.utc) if value is not None else None

    def to_store_filter(self, anchor_time: datetime | None = None,
                        exclude_seqs: tuple[int, ...] = ()) -> EventFilter:
        """The store-level filter; `earlier_only` caps `until` at the anchor's time."""
        until = self.until
        if self.earlier_only and anchor_time is not None:
            until = anchor_time if until is None else min(until, anchor_time)
        return EventFilter(kinds=tuple(k.value for k in self.kinds), systems=tuple(self.systems),
                           user_id=self.user_id, since=self.since, until=until, exclude_seqs=exclude_seqs)
