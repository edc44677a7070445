"""What is trending: open narratives with the most reports lately, on given systems (or anywhere)."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from context_store import ContextStore
from engine.suggestions.narrative_info import OPEN_STATUSES, NarrativeFacts, NarrativeInfo

TRENDING_WINDOW = timedelta(days=3)
TRENDING_NARRATIVES = 10


@dataclass(frozen=True)
class Trend:
    """An open narrative and how many of its reports arrived within the trending window."""

    narrative: NarrativeInfo
    recent_reports: int


def trending(store: ContextStore, facts: NarrativeFacts, systems: Collection[str], clock: datetime,
             limit: int = TRENDING_NARRATIVES) -> list[Trend]:
    """The busiest open narratives of the last three days touching `systems` (all systems when empty)."""
    since = clock - TRENDING_WINDOW
    found: list[Trend] = []
    for narrative_id in store.narratives.live_ids():
        info = facts.info(narrative_id, clock)
        if info is None or info.status not in OPEN_STATUSES or info.last_seen < since:
            continue
        if systems and not set(systems) & set(info.systems):
            continue
        recent = sum(1 for t in facts.member_times(info) if t >= since)
        found.append(Trend(info, recent))
    found.sort(key=lambda t: (-t.recent_reports, t.narrative.id))
    return found[:limit]
