"""Stable narrative ids across a consolidation: merges keep the older id, splits record a parent."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass
class IdPlan:
    """How new groups map onto narrative ids, and the lineage that implies."""

    group_ids: list[str | None]  # an existing id per group, or None for a new narrative
    split_parents: dict[int, str] = field(default_factory=dict)  # group index -> parent id
    absorbed: dict[str, int] = field(default_factory=dict)  # old id -> group index it merged into


def plan_ids(groups: Sequence[Sequence[str]], reserved: Iterable[str] = ()) -> IdPlan:
    """Choose ids for new groups, each given as the list of its members' previous narrative ids.

    - Every old id has a home: the group holding most of its members (ties: the earlier group).
    - A group keeps the oldest (smallest) id among the old ids whose home it is; every other
      old id is absorbed into its home group (a merge keeps the older id).
    - A group with no old id at home is new; the old id contributing most members is its parent.
    - `reserved` ids (held by a person's pins elsewhere) stay alive: they are never absorbed.
    """
    reserved = set(reserved)
    counts = [Counter(g) for g in groups]
    home: dict[str, int] = {}
    for old in sorted({i for g in groups for i in g}):
        home[old] = max(range(len(groups)), key=lambda k: (counts[k][old], -k))
    plan = IdPlan(group_ids=[None] * len(groups))
    for k in range(len(groups)):
        candidates = sorted(old for old, g in home.items() if g == k)
        if candidates:
            plan.group_ids[k] = candidates[0]
    kept = {i for i in plan.group_ids if i is not None}
    plan.absorbed = {old: k for old, k in home.items() if old not in kept and old not in reserved}
    for k, chosen in enumerate(plan.group_ids):
        if chosen is None and counts[k]:
            plan.split_parents[k] = counts[k].most_common(1)[0][0]
    return plan
