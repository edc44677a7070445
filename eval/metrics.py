"""Ranking metrics for related-report retrieval."""
from __future__ import annotations

from collections.abc import Sequence


def recall_rate_at(ranked: Sequence[str], gold: set[str], k: int) -> float:
    """1.0 when any gold id is among the first k ranked ids (Recall-Rate@k of one query)."""
    return float(any(item in gold for item in ranked[:k]))


def average_precision(ranked: Sequence[str], gold: set[str]) -> float:
    """Average precision over all gold ids; a gold id missing from `ranked` counts as precision 0."""
    if not gold:
        return 0.0
    hits, total = 0, 0.0
    for rank, item in enumerate(ranked, start=1):
        if item in gold:
            hits += 1
            total += hits / rank
    return total / len(gold)


def summarise(rankings: Sequence[tuple[Sequence[str], set[str]]], ks: Sequence[int] = (1, 5, 10)) -> dict[str, float]:
    """RR@k for each k and MAP over (ranking, gold) pairs."""
    n = max(1, len(rankings))
    result = {f"RR@{k}": sum(recall_rate_at(r, g, k) for r, g in rankings) / n for k in ks}
    result["MAP"] = sum(average_precision(r, g) for r, g in rankings) / n
    return result
