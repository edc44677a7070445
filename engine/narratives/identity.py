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
    most: dict[str, int] = {}
    found: dict[str, int] = {}
    for k, count in enumerate(counts):  # one pass over the members, not old ids x groups
        for old, n in count.items():
            if n > most.get(old, 0):  # strictly more: an earlier group keeps a tie
                most[old], found[old] = n, k
    home = {old: found[old] for old in sorted(found)}
    plan = IdPlan(group_ids=[None] * len(groups))
    for old, k in home.items():  # ascending, so the first id seen at home is the oldest
        if plan.group_ids[k] is None:
            plan.group_ids[k] = old
    kept = {i for i in plan.group_ids if i is not None}
    plan.absorbed = {old: k for old, k in home.items() if old not in kept and old not in reserved}
    for k, chosen in enumerate(plan.group_ids):
        if chosen is None and counts[k]:
            plan.split_parents[k] = counts[k].most_common(1)[0][0]
    return plan
