"""Routing: a team from the configured system -> team map, refined by which team handled
similar reports (members of narratives resolved with a team, or a person's routing override).

Scores per team: the map gives each of the event's mapped systems an equal share of 1; every
labelled neighbour with cosine >= `min_similarity` adds its cosine x `learned_weight`. The best
team wins; confidence is its share of all score (with no mapped system and no labelled
neighbour: the default team at confidence 0.2).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from engine.triage.model import Inferred

DEFAULT_CONFIDENCE = 0.2


@dataclass(frozen=True)
class RoutingRules:
    """The configured map and how much learned evidence counts."""

    routes: Mapping[str, str]
    default_team: str = "service-desk"
    min_similarity: float = 0.55
    learned_weight: float = 1.5  # one near-duplicate (cosine >= 0.67) handled by a team outweighs the map


def suggest_team(rules: RoutingRules, systems: Sequence[str],
                 labelled_neighbours: Sequence[tuple[str, float]]) -> Inferred:
    """The team for an event on `systems` whose similar reports were handled by the given teams."""
    scores: dict[str, float] = {}
    reasons: list[str] = []
    lookup = {k.lower(): v for k, v in rules.routes.items()}
    mapped = [(s, lookup[s.lower()]) for s in systems if s.lower() in lookup]
    for system, team in mapped:
        scores[team] = scores.get(team, 0.0) + 1.0 / len(mapped)
        reasons.append(f"system {system} -> {team}")
    learned: dict[str, int] = {}
    for team, similarity in labelled_neighbours:
        if similarity >= rules.min_similarity:
            scores[team] = scores.get(team, 0.0) + rules.learned_weight * similarity
            learned[team] = learned.get(team, 0) + 1
    reasons.extend(f"{n} similar report(s) handled by {team}" for team, n in sorted(learned.items()))
    if not scores:
        return Inferred(rules.default_team, DEFAULT_CONFIDENCE, {"reasons": ["default team (no mapped system)"]})
    best = max(sorted(scores), key=lambda team: scores[team])
    return Inferred(best, scores[best] / sum(scores.values()), {"reasons": reasons})
