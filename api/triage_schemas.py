"""Triage shapes of the HTTP API: the enrichment served with an event, a person's override."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas import EventOut
from context_store import EventRecord
from engine.triage.model import Category, FieldView, TriageView


class TriageFieldOut(BaseModel):
    """One triage field: the value in force, its confidence, and who set it."""

    value: str
    confidence: float = Field(description="0-1; 1 for a person's value.")
    source: Literal["inferred", "person"]
    detail: dict[str, object] = Field(description="What the inference rests on (scores, matrix inputs, reasons).")
    inferred_value: str | None = Field(None, description="The inferred value a person's value replaced.")
    by: str | None = None
    at: datetime | None = None

    @classmethod
    def of(cls, view: FieldView) -> "TriageFieldOut":
        """Shape an engine field view."""
        return cls(**view.__dict__)


class TriageOut(BaseModel):
    """A feedback event's enrichment (a person's overrides applied)."""

    category: TriageFieldOut
    sentiment: TriageFieldOut
    priority: TriageFieldOut
    team: TriageFieldOut

    @classmethod
    def of(cls, view: TriageView | None) -> "TriageOut | None":
        """Shape an engine view (None stays None)."""
        if view is None:
            return None
        return cls(**{name: TriageFieldOut.of(field) for name, field in view.fields.items()})


class EventTriagedOut(EventOut):
    """A stored event with its triage (null for alerts and changes)."""

    triage: TriageOut | None

    @classmethod
    def of_triaged(cls, record: EventRecord, view: TriageView | None) -> "EventTriagedOut":
        """Shape a record and its triage."""
        return cls(**EventOut.of(record).model_dump(), triage=TriageOut.of(view))


class TriageOverrideIn(BaseModel):
    """A person's values; a field set to null clears that override; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    category: Category | None = None
    sentiment: Literal["negative", "neutral", "positive"] | None = None
    priority: Literal["P1", "P2", "P3", "P4"] | None = None
    team: str | None = Field(None, min_length=1, max_length=100)
    by: str = Field("person", min_length=1, max_length=200, description="Who decided (name or id).")

    @model_validator(mode="after")
    def _something(self) -> "TriageOverrideIn":
        if not self.model_fields_set - {"by"}:
            raise ValueError("give at least one of category, sentiment, priority, team")
        return self

    def changes(self) -> dict[str, str | None]:
        """The fields the request names, as stored strings (None clears)."""
        out: dict[str, str | None] = {}
        for name in ("category", "sentiment", "priority", "team"):
            if name in self.model_fields_set:
                value = getattr(self, name)
                out[name] = value.value if isinstance(value, Category) else value
        return out


class ResolveIn(BaseModel):
    """Optional body of a resolve: which team resolved the narrative (routing learns from it)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    team: str | None = Field(None, min_length=1, max_length=100)
