"""The one event model every report, alert and change goes through, and its validation."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

MAX_TITLE_CHARS = 500
MAX_TEXT_CHARS = 20_000
MAX_ID_CHARS = 200
MAX_SYSTEMS = 50
MAX_ATTRIBUTES = 50


class EventKind(str, Enum):
    """What an event is: a person's feedback, a monitoring alert, or a change (deploy, config)."""

    feedback = "feedback"
    alert = "alert"
    change = "change"


class Level(str, Enum):
    """Impact and urgency levels."""

    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"


def reject_numeric_timestamp(value: object) -> object:
    """Timestamps are ISO 8601 strings: refuse numbers and digit strings pydantic would read as epoch seconds."""
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit()):
        raise ValueError("timestamp must be an ISO 8601 string with a timezone, e.g. 2026-11-27T09:30:00Z")
    return value


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class EventIn(BaseModel):
    """A report as a client submits it. Unknown fields are rejected."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=MAX_ID_CHARS, pattern=r"^[^/\x00-\x1f]+$",
                    description="Client-supplied unique id (no '/' or control characters).")
    kind: EventKind = EventKind.feedback
    title: str = Field("", max_length=MAX_TITLE_CHARS)
    text: str = Field("", max_length=MAX_TEXT_CHARS, validate_default=True)
    user_id: str | None = Field(None, min_length=1, max_length=MAX_ID_CHARS)
    systems: list[str] = Field(default_factory=list, max_length=MAX_SYSTEMS,
                               description="Names of affected systems or modules.")
    channel: str | None = Field(None, max_length=50,
                                description="ticket, survey, forum, widget, email, chat, monitoring, deploy, ...")
    occurred_at: datetime | None = Field(None, description="ISO 8601 with a timezone; default: now.")
    impact: Level | None = None
    urgency: Level | None = None
    attributes: dict[str, str] = Field(default_factory=dict, max_length=MAX_ATTRIBUTES)

    @field_validator("systems")
    @classmethod
    def _clean_systems(cls, systems: list[str]) -> list[str]:
        cleaned = [s.strip() for s in systems]
        if any(not s or len(s) > 100 for s in cleaned):
            raise ValueError("each system name must be 1-100 characters")
        return list(dict.fromkeys(cleaned))

    _iso_only = field_validator("occurred_at", mode="before")(reject_numeric_timestamp)

    @field_validator("occurred_at")
    @classmethod
    def _require_timezone(cls, value: datetime | None) -> datetime | None:
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise ValueError("timestamp needs a timezone, e.g. 2026-11-27T09:30:00Z")
        return value.astimezone(timezone.utc) if value is not None else None

    @field_validator("text")
    @classmethod
    def _require_words(cls, text: str, info: ValidationInfo) -> str:
        if not text and "title" in info.data and not info.data["title"]:
            raise ValueError("title or text must be non-blank")
        return text

    def content_hash(self) -> str:
        """Hash of what the client sent, used to tell a harmless re-post from a conflict."""
        payload = self.model_dump(mode="json", exclude_none=True)
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def resolved_time(self) -> datetime:
        """When it happened, defaulting to now."""
        return self.occurred_at or _utc_now()
