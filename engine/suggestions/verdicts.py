"""People's verdicts on articles as ranking input: the user's own, and what helped others."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from context_store import KbFeedbackRow, KbTables
from engine.suggestions.narrative_info import NarrativeFacts


@dataclass(frozen=True)
class HelpedElsewhere:
    """An article that helped other people with a narrative similar to the current situation."""

    similarity: float
    narrative_id: str
    users: int


def own_verdicts(rows: list[KbFeedbackRow]) -> dict[str, str]:
    """Per article, the user's standing verdict: the latest helpful/not_helpful, else `seen`."""
    state: dict[str, str] = {}
    for row in rows:  # oldest first
        if row.verdict != "seen" or row.article_id not in state:
            state[row.article_id] = row.verdict
    return state


def helped_elsewhere(kb: KbTables, facts: NarrativeFacts, context: np.ndarray, clock: datetime,
                     exclude_user: str | None, min_similarity: float) -> dict[str, HelpedElsewhere]:
    """Articles marked helpful (by others) in narratives whose centroid is close to a `context` vector.

    `context` rows are the current situation (the question's vector, the open narratives'
    centroids); a narrative counts when its centroid's cosine to one of them reaches `min_similarity`.
    """
    by_narrative: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for row in kb.feedback_with_verdict("helpful"):
        if row.narrative_id is None or row.user_id == exclude_user:
            continue
        live = facts.live_id(row.narrative_id)
        if live is not None:
            by_narrative[live][row.article_id].add(row.user_id)
    found: dict[str, HelpedElsewhere] = {}
    if not len(context):
        return found
    for narrative_id, articles in by_narrative.items():
        info = facts.info(narrative_id, clock)
        if info is None:
            continue
        similarity = float(np.max(context @ info.centroid))
        if similarity < min_similarity:
            continue
        for article_id, users in articles.items():
            known = found.get(article_id)
            if known is None or similarity > known.similarity:
                found[article_id] = HelpedElsewhere(similarity, narrative_id, len(users))
    return found
