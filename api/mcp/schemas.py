"""MCP answers that the HTTP API gives as several responses; every part is an HTTP API model."""
from __future__ import annotations

from pydantic import BaseModel, Field

from api.narrative_schemas import NarrativeSummaryOut
from api.schemas import HistoryOut, RelatedOut


class RelatedReportsOut(BaseModel):
    """Related reports, best first (the HTTP API's related/search answer, under one key)."""

    related: list[RelatedOut]


class UserContextOut(BaseModel):
    """What hypercorr knows about one user: their reports and the narratives they are part of."""

    user_id: str
    history: HistoryOut = Field(description="The user's reports in time order (GET /v1/users/{id}/history).")
    open_narratives: list[NarrativeSummaryOut] = Field(
        description="Narratives holding the user's reports that are not resolved, most recent first.")
