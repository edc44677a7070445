"""Knowledge-base gaps: active narratives no article covers well."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.narratives.queries import NarrativeReader
from engine.suggestions.ranker import Suggester

GAP_STATUSES = ("emerging", "active")
DEFAULT_COVERAGE = 0.5  # cosine of the narrative centroid to its best article passage


@dataclass(frozen=True)
class Gap:
    """An active narrative whose best article fits it less than the coverage threshold."""

    narrative_id: str
    title: str
    status: str
    size: int
    last_seen: datetime
    best_article_id: str | None
    best_score: float


def coverage_gaps(suggester: Suggester, reader: NarrativeReader, threshold: float = DEFAULT_COVERAGE,
                  min_size: int = 2, limit: int = 50) -> list[Gap]:
    """Emerging or active narratives of at least `min_size` reports whose best article scores below
    `threshold`, largest first (titles are built only for the ones returned)."""
    clock = suggester.clock()
    found = []
    for narrative_id in suggester.store.narratives.live_ids():
        info = suggester.facts.info(narrative_id, clock)
        if info is None or info.status not in GAP_STATUSES or len(info.seqs) < min_size:
            continue
        article_id, score = suggester.best_coverage(info)
        if score < threshold:
            found.append((info, article_id, score))
    found.sort(key=lambda f: (-len(f[0].seqs), f[1] or "", f[0].id))
    return [Gap(info.id, reader.detail(info.id).view.title, info.status, len(info.seqs), info.last_seen,
                article_id, round(score, 4)) for info, article_id, score in found[:limit]]
