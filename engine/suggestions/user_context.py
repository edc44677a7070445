"""A user's situation now: recent reports (with weights), open narratives, the systems they use."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from context_store import ContextStore, EventRecord
from engine.suggestions.narrative_info import OPEN_STATUSES, NarrativeFacts, NarrativeInfo

HISTORY_WINDOW = timedelta(days=30)
HISTORY_EVENTS = 20
HALF_LIFE_DAYS = 7.0
ALL_EVENTS = 10_000


@dataclass(frozen=True)
class UserContext:
    """Everything personal that ranking uses; empty for an unknown user."""

    user_id: str
    clock: datetime
    events: list[EventRecord] = field(default_factory=list)  # recent, oldest first
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    recency: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))  # 1 now .. 0.5 at a half-life
    narratives: list[NarrativeInfo] = field(default_factory=list)  # open ones the user is part of
    narrative_recency: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))  # of the user's
    # latest report in each
    systems: Counter[str] = field(default_factory=Counter)

    @property
    def has_history(self) -> bool:
        """True when the user reported something within the history window."""
        return bool(self.events)


def recency_weights(times: list[datetime], clock: datetime) -> np.ndarray:
    """0.5 + 0.5 * 2^(-age / half-life): a week-old report still counts three quarters."""
    ages = np.array([max(0.0, (clock - t).total_seconds() / 86_400) for t in times], dtype=np.float32)
    return (0.5 + 0.5 * np.power(0.5, ages / HALF_LIFE_DAYS)).astype(np.float32)


def user_context(store: ContextStore, facts: NarrativeFacts, user_id: str, clock: datetime,
                 extra_systems: tuple[str, ...] = ()) -> UserContext:
    """Build the context of `user_id` as of `clock` (the stream's clock)."""
    recent = store.user_history(user_id, since=clock - HISTORY_WINDOW, until=clock + timedelta(seconds=1),
                                limit=ALL_EVENTS)[-HISTORY_EVENTS:]
    systems = Counter(extra_systems)
    systems.update(s for e in store.user_history(user_id, limit=ALL_EVENTS) for s in e.systems)
    if not recent:
        return UserContext(user_id, clock, systems=systems)
    seqs = [e.seq for e in recent]
    vectors = store.get_vectors(seqs)
    recency = recency_weights([e.occurred_at for e in recent], clock)
    narratives: list[NarrativeInfo] = []
    weights: list[float] = []
    placed = facts.of_seqs(seqs)
    latest = {placed[e.seq]: i for i, e in enumerate(recent) if e.seq in placed}  # the user's last report in each
    for narrative_id, i in sorted(latest.items(), key=lambda item: -item[1]):  # most recent first
        info = facts.info(narrative_id, clock)
        if info is not None and info.status in OPEN_STATUSES:
            narratives.append(info)
            weights.append(float(recency[i]))
    return UserContext(user_id, clock, recent, vectors, recency, narratives,
                       np.array(weights, dtype=np.float32), systems)
