"""Context must-links between micro-clusters: holds and lone events join; whole micro-clusters need corroboration."""
from __future__ import annotations

from engine.narratives.constraints import context_must_links

# micro 0: events 1, 2, 3; micro 1: events 4, 5; micro 2: event 6 alone; micro 3: events 7, 8
MEMBERS = [[1, 2, 3], [4, 5], [6], [7, 8]]
MICRO_OF = {seq: m for m, members in enumerate(MEMBERS) for seq in members}
TEXT_GROUP = {0: 0, 1: 1, 2: 2, 3: 1}  # micro 3 reads like micro 1 (another phrasing of one symptom)
USERS = {1: "u1", 2: "u2", 3: "u3", 4: "u1", 5: "u2", 6: "u1", 7: "u3", 8: "u4"}


def links(pairs, holds=()):  # noqa: ANN001, ANN201
    return context_must_links(pairs, holds, MICRO_OF, MEMBERS, TEXT_GROUP, USERS)


def test_one_users_link_does_not_glue_two_micro_clusters() -> None:
    assert links([(4, 1)]) == []


def test_a_hold_and_a_lone_event_join_their_partner() -> None:
    assert links([(4, 1)], holds=[(4, 1)]) == [(1, 0)]
    assert links([(6, 1)]) == [(2, 0)]


def test_two_users_between_the_same_text_groups_corroborate() -> None:
    """u1 links micro 1 -> 0 and u3 links micro 3 (same text group as 1) -> 0: both glue."""
    assert links([(4, 1), (7, 3)]) == [(1, 0), (3, 0)]
    assert links([(4, 1), (5, 1)]) == [(1, 0)]  # u1 and u2
    assert links([(4, 1), (4, 2)]) == []  # one user twice is not corroboration
