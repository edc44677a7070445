"""Response shapes of the volume-anomaly endpoint."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from engine.anomalies import Anomaly


class AnomalyOut(BaseModel):
    """An hour in which a system or a narrative received improbably many events."""

    scope: Literal["system", "narrative"]
    key: str = Field(description="The system name or the narrative id.")
    bucket_start: datetime
    bucket_end: datetime
    observed: int
    expected: float = Field(description="Mean of the baseline's predictive distribution for this hour.")
    score: float = Field(description="-log10 P(count >= observed) under the baseline.")
    why: str

    @classmethod
    def of(cls, anomaly: Anomaly) -> "AnomalyOut":
        """Shape an engine anomaly."""
        return cls(**anomaly.__dict__)


class AnomalyListOut(BaseModel):
    """One page of anomalies, newest hour first."""

    anomalies: list[AnomalyOut]
    limit: int
    offset: int
