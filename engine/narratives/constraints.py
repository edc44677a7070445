"""Which context links consolidation keeps as must-links between micro-clusters.

A context link (the same user's earlier report on a shared system, loosely related in text)
speaks for one event, not for the micro-cluster that event's wording put it in. So:
- a *hold* (context decided where the event went: it opened its own micro-cluster in the
  partner's narrative) keeps that micro-cluster with the partner's;
- a link from an event that sits alone in its micro-cluster joins just that event;
- otherwise the link would glue two whole micro-clusters, and it does so only when it is
  *corroborated*: links between the same two text groups (the micro-clusters' grouping by
  text alone, so that different phrasings of one symptom count together) from at least
  `corroboration` different users. One person's reports can mix two problems on one system; several people
  moving from the same symptom to the same next symptom is a pattern.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

Pair = tuple[int, int]


def context_must_links(pairs: Iterable[Pair], holds: Iterable[Pair], micro_of_seq: Mapping[int, int],
                       micro_members: Sequence[Sequence[int]], text_group: Mapping[int, int],
                       user_of: Mapping[int, str | None], corroboration: int = 2) -> list[Pair]:
    """Micro-cluster must-link pairs from (later, earlier) event pairs of context links and holds.

    `text_group` maps a micro-cluster to its text-only group; `user_of` an event to its user.
    """
    held = set(holds)
    must: set[Pair] = set()
    users: dict[Pair, set[str]] = defaultdict(set)
    candidates: dict[Pair, list[Pair]] = defaultdict(list)
    for a, b in set(pairs) | held:
        if a not in micro_of_seq or b not in micro_of_seq:
            continue
        ma, mb = micro_of_seq[a], micro_of_seq[b]
        if ma == mb:
            continue
        if (a, b) in held or len(micro_members[ma]) == 1:
            must.add((ma, mb))
        else:
            ga, gb = text_group.get(ma, ma), text_group.get(mb, mb)
            key = (min(ga, gb), max(ga, gb))
            users[key].add(user_of.get(a) or f"seq:{a}")
            candidates[key].append((ma, mb))
    for key, who in users.items():
        if len(who) >= corroboration:
            must.update(candidates[key])
    return sorted(must)
