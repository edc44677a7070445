"""Stable narrative ids across a consolidation: merges keep the older id, splits record a parent."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class IdPlan:
    """How new groups map onto narrative ids, and the lineage that implies."""

    group_ids: list[str | None]  # an existing id per group, or None for a new narrative
    split_parents: dict[int, str] = field(default_factory=dict)  # group index -> parent id
    absorbed: dict[str, int] = field(default_factory=dict)  # old id -> group index it merged into


def plan_ids(groups: Sequence[Sequence[str]], pinned: Sequence[str | None] = ()) -> IdPlan:
    """Choose ids for new groups, each given as the list of its members' previous narrative ids.

    - Every old id has a home: the group holding most of its members (ties: the earlier group).
    - A group keeps the oldest (smallest) id among the old ids whose home it is; the other
      old ids at home there are absorbed into it (a merge keeps the older id).
    - A group with no old id at home is new; the old id contributing most members is its parent.
    - `pinned[g]`, when given, is an id a person fixed for group g; it wins.
    """
    counts = [Counter(g) for g in groups]
    home: dict[str, int] = {}
    for old in sorted({i for g in groups for i in g}):
        home[old] = max(range(len(groups)), key=lambda k: (counts[k][old], -k))
    plan = IdPlan(group_ids=[None] * len(groups))
    taken: set[str] = set()
    for k in range(len(groups)):
        fixed = pinned[k] if k < len(pinned) else None
        candidates = sorted(old for old, g in home.items() if g == k)
        chosen = fixed if fixed is not None else (candidates[0] if candidates else None)
        if chosen is not None and chosen not in taken:
            plan.group_ids[k] = chosen
            taken.add(chosen)
            for other in candidates:
                if other != chosen:
                    plan.absorbed[other] = k
    for k, chosen in enumerate(plan.group_ids):
        if chosen is None and counts[k]:
            plan.split_parents[k] = counts[k].most_common(1)[0][0]
    for old, k in list(plan.absorbed.items()):
        if old in taken:  # a pinned id elsewhere keeps living
            del plan.absorbed[old]
    return plan
