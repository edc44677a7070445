"""One contract suite for every ContextStore backend ("memory" and "embedded")."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from context_store import (ConflictError, ContextStore, EventFilter, EventRecord, NewEvent, create_store)

DIM = 8
MODEL = "test-model"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


def unit(*weights: tuple[int, float]) -> np.ndarray:
    """A normalised vector with the given (axis, weight) components."""
    vector = np.zeros(DIM, dtype=np.float32)
    for axis, weight in weights:
        vector[axis] = weight
    return vector / np.linalg.norm(vector)


QUERY = unit((0, 1), (1, 0.3), (2, 0.2), (3, 0.1))  # scores e1 > e4 > e2 > e3 > e5 on the corpus


def make_event(event_id: str, vector: np.ndarray, *, user: str | None = "u1", systems: tuple[str, ...] = (),
               kind: str = "feedback", hours: float = 0.0, title: str = "", text: str = "x",
               title_vector: np.ndarray | None = None) -> NewEvent:
    """A NewEvent with a record and vector(s)."""
    record = EventRecord(
        id=event_id, kind=kind, title=title, text=text, user_id=user, systems=systems, channel="ticket",
        occurred_at=T0 + timedelta(hours=hours), impact=None, urgency=None, attributes={"site": "hq"},
        content_hash=f"hash-{event_id}", ingested_at=T0)
    return NewEvent(record, vector, title_vector)


def corpus() -> list[NewEvent]:
    """Five events over users, systems, kinds and time, with distinct vectors."""
    return [
        make_event("e1", unit((0, 1)), user="u1", systems=("payments",), hours=0,
                   title="Failed transaction", text="payment declined at checkout", title_vector=unit((7, 1))),
        make_event("e2", unit((1, 1)), user="u1", systems=("payments",), hours=48,
                   title="Page not responding", text="payments spinner forever"),
        make_event("e3", unit((2, 1)), user="u2", systems=("auth",), kind="alert", hours=24,
                   title="Login loop", text="sso redirect loop"),
        make_event("e4", unit((0, 0.6), (1, 0.8)), user="u2", systems=("payments", "auth"), kind="change",
                   hours=72, title="Deploy hotfix", text="payments transaction retry"),
        make_event("e5", unit((3, 1)), user=None, systems=("hr-portal",), hours=96,
                   title="Payslip question", text="overtime counted twice"),
    ]


@pytest.fixture(params=["memory", "embedded"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ContextStore]:
    """A fresh store of each backend."""
    data_dir = tmp_path / "data" if request.param == "embedded" else None
    created = create_store(request.param, data_dir, DIM, MODEL)
    yield created
    created.close()


@pytest.fixture
def seqs(store: ContextStore) -> dict[str, int]:
    """The corpus stored; maps id -> seq."""
    events = corpus()
    return dict(zip((e.record.id for e in events), store.add_events(events)))


def ids(store: ContextStore, hits: list) -> list[str]:
    """Event ids of scored hits, in order."""
    found = store.get_events([h.seq for h in hits])
    return [found[h.seq].id for h in hits]


def test_add_and_get_round_trip(store: ContextStore, seqs: dict[str, int]) -> None:
    """Stored records come back field for field; seqs increase; unknown lookups are empty."""
    assert list(seqs.values()) == sorted(seqs.values()) and len(set(seqs.values())) == 5
    original = corpus()[3].record
    got = store.get_event("e4")
    assert got is not None and got.seq == seqs["e4"]
    for name in ("id", "kind", "title", "text", "user_id", "systems", "channel", "occurred_at", "attributes",
                 "content_hash"):
        assert getattr(got, name) == getattr(original, name), name
    assert store.get_event("nope") is None
    assert set(store.get_events([seqs["e1"], 999])) == {seqs["e1"]}
    vectors = store.get_vectors([seqs["e3"], 999, seqs["e1"]])
    np.testing.assert_allclose(vectors[0], unit((2, 1)))
    np.testing.assert_allclose(vectors[1], np.zeros(DIM))
    np.testing.assert_allclose(vectors[2], unit((0, 1)))
    assert store.count() == 5 and store.add_events([]) == []


def test_add_is_all_or_nothing(store: ContextStore, seqs: dict[str, int]) -> None:
    """A batch holding a known id, or one id twice, raises ConflictError and stores none of it."""
    fresh = make_event("new", unit((5, 1)), title="zanzibar", text="zanzibar")
    with pytest.raises(ConflictError):
        store.add_events([fresh, make_event("e1", unit((6, 1)))])
    with pytest.raises(ConflictError):
        store.add_events([fresh, make_event("new", unit((6, 1)))])
    assert store.count() == 5 and store.get_event("new") is None
    assert store.lexical_search(["zanzibar"], 5) == []
    assert {h.seq for h in store.vector_search(unit((5, 1)), 10)} == set(seqs.values())
    assert store.stats().vectors == 5
    assert store.add_events([fresh])[0] > max(seqs.values())


def test_title_vectors(store: ContextStore, seqs: dict[str, int]) -> None:
    """Title vectors come back when stored; the full vector stands in otherwise; unknown seqs are zeros."""
    vectors = store.get_title_vectors([seqs["e2"], 999, seqs["e1"]])
    np.testing.assert_allclose(vectors[0], unit((1, 1)))
    np.testing.assert_allclose(vectors[1], np.zeros(DIM))
    np.testing.assert_allclose(vectors[2], unit((7, 1)))
    np.testing.assert_allclose(store.get_vectors([seqs["e1"]])[0], unit((0, 1)))


def test_lexical_self_score(store: ContextStore, seqs: dict[str, int]) -> None:
    """An event's BM25 against terms equals its score in lexical_search; no match or no terms is 0."""
    weights = (2.0, 1.0)
    hits = {h.seq: h.score for h in store.lexical_search(["payments", "transaction"], 10, column_weights=weights)}
    for event_id in ("e1", "e2", "e4"):
        own = store.lexical_self_score(["payments", "transaction"], seqs[event_id], weights)
        assert own == pytest.approx(hits[seqs[event_id]]) and own > 0
    assert store.lexical_self_score(["payments"], seqs["e3"]) == 0.0
    assert store.lexical_self_score([], seqs["e1"]) == 0.0


def test_content_hashes(store: ContextStore, seqs: dict[str, int]) -> None:
    """Only stored ids map to their hashes."""
    assert store.content_hashes(["e2", "missing", "e5", "e2"]) == {"e2": "hash-e2", "e5": "hash-e5"}
    assert store.content_hashes([]) == {}


def test_vector_search_unfiltered(store: ContextStore, seqs: dict[str, int]) -> None:
    """Results are ordered by inner product with the exact scores."""
    hits = store.vector_search(QUERY, 3)
    assert ids(store, hits) == ["e1", "e4", "e2"]
    expected = store.get_vectors([h.seq for h in hits]) @ QUERY
    np.testing.assert_allclose([h.score for h in hits], expected, rtol=1e-5)
    assert ids(store, store.vector_search(QUERY, 100)) == ["e1", "e4", "e2", "e3", "e5"]
    assert store.vector_search(QUERY, 0) == []


@pytest.mark.parametrize(("event_filter", "excluded", "expected"), [
    (EventFilter(kinds=("alert", "change")), (), ["e4", "e3"]),
    (EventFilter(systems=("payments",)), (), ["e1", "e4", "e2"]),
    (EventFilter(user_id="u1"), (), ["e1", "e2"]),
    (EventFilter(since=T0 + timedelta(hours=24), until=T0 + timedelta(hours=72)), (), ["e2", "e3"]),
    (EventFilter(), ("e1", "e3"), ["e4", "e2", "e5"]),
    (EventFilter(systems=("payments",)), ("e4",), ["e1", "e2"]),
    (EventFilter(systems=("auth",), kinds=("change",)), (), ["e4"]),
    (EventFilter(user_id="nobody"), (), []),
])
def test_vector_search_filters(store: ContextStore, seqs: dict[str, int], event_filter: EventFilter,
                               excluded: tuple[str, ...], expected: list[str]) -> None:
    """Every filter field restricts the candidates; since is inclusive, until exclusive."""
    event_filter = replace(event_filter, exclude_seqs=tuple(seqs[i] for i in excluded))
    assert ids(store, store.vector_search(QUERY, 10, event_filter)) == expected


def test_lexical_search_filter_and_weights(store: ContextStore, seqs: dict[str, int]) -> None:
    """BM25 hits are positive and best first; filters apply; column weights move title vs body."""
    hits = store.lexical_search(["payments"], 10)
    assert set(ids(store, hits)) == {"e2", "e4"} and all(h.score > 0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert ids(store, store.lexical_search(["payments"], 10, EventFilter(user_id="u2"))) == ["e4"]
    assert store.lexical_search(["payments"], 10, EventFilter(exclude_seqs=(seqs["e2"], seqs["e4"]))) == []
    # "transaction" is in e1's title and e4's body: the weights decide the order.
    assert ids(store, store.lexical_search(["transaction"], 10, column_weights=(10.0, 1.0)))[0] == "e1"
    assert ids(store, store.lexical_search(["transaction"], 10, column_weights=(0.01, 10.0)))[0] == "e4"
    assert store.lexical_search([], 10) == [] and store.lexical_search(["payments"], 0) == []
    assert store.lexical_search(['we"ird'], 5) == []  # quotes are escaped, not a syntax error


def test_document_frequencies(store: ContextStore, seqs: dict[str, int]) -> None:
    """Counts documents per term; unknown terms map to 0."""
    assert store.document_frequencies(["payments", "loop", "absent"]) == {"payments": 2, "loop": 1, "absent": 0}


def test_terms_contained(store: ContextStore, seqs: dict[str, int]) -> None:
    """Which of the terms each event holds, in the order the terms were given; unknown terms and
    unknown events hold nothing."""
    found = store.terms_contained(["retry", "payments", "loop", "absent"], [seqs["e4"], seqs["e3"], 999])
    assert found == {seqs["e4"]: ["retry", "payments"], seqs["e3"]: ["loop"], 999: []}


def test_histories(store: ContextStore, seqs: dict[str, int]) -> None:
    """Histories are in time order, windowed [since, until), and paged."""
    assert [e.id for e in store.user_history("u2")] == ["e3", "e4"]
    assert [e.id for e in store.system_history("payments")] == ["e1", "e2", "e4"]
    assert [e.id for e in store.system_history("payments", since=T0 + timedelta(hours=48))] == ["e2", "e4"]
    assert [e.id for e in store.system_history("payments", until=T0 + timedelta(hours=48))] == ["e1"]
    assert [e.id for e in store.system_history("payments", limit=1, offset=1)] == ["e2"]
    assert [e.id for e in store.user_history("u1", limit=5, offset=2)] == []
    assert store.system_history("payments")[2].systems == ("payments", "auth")
    assert store.user_history("nobody") == []


def test_delete_user_removes_everything(store: ContextStore, seqs: dict[str, int]) -> None:
    """Rows, vectors, lexical hits, term counts and graph nodes of the user are gone."""
    assert store.delete_user("u1") == 2
    assert store.get_event("e1") is None and store.get_event("e2") is None
    assert store.get_events([seqs["e1"], seqs["e2"]]) == {}
    assert store.content_hashes(["e1", "e2"]) == {}
    assert {h.seq for h in store.vector_search(unit((0, 1)), 10)} == {seqs[i] for i in ("e3", "e4", "e5")}
    assert ids(store, store.lexical_search(["payments", "declined"], 10)) == ["e4"]
    assert store.document_frequencies(["declined", "payments"]) == {"declined": 0, "payments": 1}
    assert store.user_history("u1") == [] and [e.id for e in store.system_history("payments")] == ["e4"]
    for node in ("event:e1", "event:e2", "user:u1"):
        assert not store.graph.has_node(node)
    assert store.graph.has_node("event:e4") and store.graph.has_node("system:payments")
    stats = store.stats()
    assert (stats.events, stats.vectors) == (3, 3)
    assert store.delete_user("u1") == 0


def test_stats(store: ContextStore, seqs: dict[str, int]) -> None:
    """Stats count rows, vectors and graph parts."""
    stats = store.stats()
    assert (stats.events, stats.vectors, stats.index_kind) == (5, 5, "exact")
    # 5 events + users u1, u2 + systems payments, auth, hr-portal
    assert stats.graph_nodes == 10
    # reported_by: 4 (e5 has no user); affects: 1 + 1 + 1 + 2 + 1
    assert stats.graph_edges == 10


def test_seqs_never_reused_after_deletion(store: ContextStore, seqs: dict[str, int]) -> None:
    """Deleting the newest events does not free their sequence numbers."""
    store.add_events([make_event("last", unit((4, 1)), user="u9")])
    highest = store.get_event("last").seq
    assert store.delete_user("u9") == 1
    new_seq = store.add_events([make_event("after", unit((4, 1)), user="u8")])[0]
    assert new_seq > highest
    assert ids(store, store.vector_search(unit((4, 1)), 1)) == ["after"]


@pytest.mark.parametrize("backend", ["memory", "embedded"])
def test_erased_vectors_unreadable_on_hnsw(backend: str, tmp_path: Path) -> None:
    """After delete_user on an HNSW index (tombstones below rebuild share) the vector reads as zeros."""
    store = create_store(backend, tmp_path / "d" if backend == "embedded" else None, DIM, MODEL, hnsw_threshold=5)
    try:
        events = [make_event(f"h{i}", unit((i % DIM, 1)), user="gone" if i == 0 else "kept") for i in range(10)]
        seqs = store.add_events(events)
        assert store.stats().index_kind == "hnsw"
        assert store.delete_user("gone") == 1
        assert seqs[0] not in {h.seq for h in store.vector_search(unit((0, 1)), 10)}
        np.testing.assert_array_equal(store.get_vectors([seqs[0]])[0], np.zeros(DIM))
    finally:
        store.close()
