"""The shapes triage deals in: categories, one enriched field, an event's four fields."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Literal

FIELDS = ("category", "sentiment", "priority", "team")


class Category(str, Enum):
    """What kind of report it is."""

    software_bug = "software_bug"
    configuration_error = "configuration_error"
    performance_issue = "performance_issue"
    user_training_need = "user_training_need"
    enhancement_request = "enhancement_request"
    documentation_error = "documentation_error"
    other = "other"


SentimentLabel = Literal["negative", "neutral", "positive"]
PriorityLabel = Literal["P1", "P2", "P3", "P4"]


@dataclass(frozen=True)
class Inferred:
    """One inferred field: its value, a confidence in [0, 1], and what it rests on."""

    value: str
    confidence: float
    detail: dict[str, object] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        """The stored form."""
        return {"value": self.value, "confidence": round(self.confidence, 4), "detail": self.detail}


@dataclass(frozen=True)
class FieldView:
    """A field as served: the value in force, and whether a person set it."""

    value: str
    confidence: float
    source: Literal["inferred", "person"]
    detail: dict[str, object]
    inferred_value: str | None = None
    by: str | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class TriageView:
    """An event's enrichment as served (overrides applied)."""

    event_id: str
    fields: dict[str, FieldView]
