"""Engine over the in-memory store with the hashing embedder: ingest, related, search, erase."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from engine import Engine, EventIn, RelatedFilters, Settings
from engine.errors import BatchTooLargeError, ConflictError, NotFoundError
from tests.fakes import HashingEmbedder

ROWS: list[dict[str, Any]] = [
    {"id": "p1", "title": "Failed transaction", "text": "payment transaction failed on invoice",
     "user_id": "u-1042", "systems": ["payments"], "occurred_at": "2026-03-02T09:00:00Z"},
    {"id": "p2", "title": "Payments page not responding", "text": "payments page spinner, invoice list not loading",
     "user_id": "u-1042", "systems": ["payments"], "occurred_at": "2026-03-04T09:00:00Z"},
    {"id": "p3", "title": "Very slow loading", "text": "payments invoice page very slow loading",
     "user_id": "u-1042", "systems": ["payments"], "occurred_at": "2026-03-06T09:00:00Z"},
    {"id": "h1", "title": "Payslip question", "text": "overtime counted twice on payslip",
     "user_id": "u-1042", "systems": ["hr-portal"], "occurred_at": "2026-03-05T09:00:00Z"},
    {"id": "a1", "kind": "alert", "title": "payments latency high", "text": "invoice list p95 latency above threshold",
     "systems": ["payments"], "channel": "monitoring", "occurred_at": "2026-03-04T09:30:00Z"},
    {"id": "l1", "title": "SSO login loop", "text": "login redirect loop", "user_id": "u-2001",
     "systems": ["auth"], "occurred_at": "2026-03-02T08:00:00Z"},
    {"id": "l2", "title": "Cannot log in", "text": "login loop after password change", "user_id": "u-2002",
     "systems": ["auth"], "occurred_at": "2026-03-02T08:30:00Z"},
]


def events(*rows: dict[str, Any]) -> list[EventIn]:
    """Validated events from dicts."""
    return [EventIn.model_validate(r) for r in rows]


@pytest.fixture
def engine() -> Engine:
    """An empty in-memory engine with a deterministic embedder."""
    return Engine(Settings(backend="memory"), embedder=HashingEmbedder(256))


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    """The engine holding ROWS."""
    assert {o.status for o in engine.ingest(events(*ROWS))} == {"created"}
    return engine


def test_ingest_is_idempotent_and_detects_conflicts(engine: Engine) -> None:
    """Same id and content is unchanged; same id with other content conflicts and stores nothing."""
    assert [o.status for o in engine.ingest(events(ROWS[0]))] == ["created"]
    assert [o.status for o in engine.ingest(events(ROWS[0]))] == ["unchanged"]
    with pytest.raises(ConflictError) as excinfo:
        engine.ingest(events(ROWS[0] | {"text": "something else"}))
    assert excinfo.value.ids == ["p1"]
    assert engine.get_event("p1").text == ROWS[0]["text"] and engine.stats().events == 1


def test_batch_is_all_or_nothing(engine: Engine) -> None:
    """One conflicting event (stored or within the batch) keeps the whole batch out."""
    engine.ingest(events(ROWS[0]))
    with pytest.raises(ConflictError) as excinfo:
        engine.ingest(events(ROWS[1], ROWS[0] | {"title": "changed"}, ROWS[2]))
    assert excinfo.value.ids == ["p1"]
    with pytest.raises(ConflictError):
        engine.ingest(events(ROWS[3], ROWS[3] | {"text": "other"}))
    assert engine.stats().events == 1
    for missing in ("p2", "p3", "h1"):
        with pytest.raises(NotFoundError):
            engine.get_event(missing)
    outcomes = engine.ingest(events(ROWS[1], ROWS[1], ROWS[0]))
    assert [o.status for o in outcomes] == ["created", "unchanged", "unchanged"]
    assert engine.stats().events == 2 and engine.stats().vectors == 2


def test_batch_size_cap() -> None:
    """More events than max_batch_events is refused before anything is stored."""
    engine = Engine(Settings(backend="memory", max_batch_events=2), embedder=HashingEmbedder())
    with pytest.raises(BatchTooLargeError, match="at most 2"):
        engine.ingest(events(*ROWS[:3]))
    assert engine.stats().events == 0
    assert len(engine.ingest(events(*ROWS[:2]))) == 2


def test_related_has_evidence(loaded: Engine) -> None:
    """Related reports exclude the anchor and explain user, systems, time gap and shared terms."""
    hits = loaded.related("p1", k=10)
    by_id = {h.event.id: h for h in hits}
    assert "p1" not in by_id and len(hits) == len(ROWS) - 1
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    p2 = by_id["p2"].evidence
    assert p2.same_user and p2.shared_systems == ["payments"] and p2.time_gap_hours == 48.0
    assert "invoice" in p2.shared_terms
    a1 = by_id["a1"].evidence
    assert not a1.same_user and a1.shared_systems == ["payments"] and a1.time_gap_hours == 48.5
    assert by_id["l2"].evidence.time_gap_hours == -0.5 and by_id["l2"].evidence.shared_systems == []
    assert by_id["l2"].evidence.time_proximity > p2.time_proximity > by_id["p3"].evidence.time_proximity > 0
    for hit in hits:
        ev = hit.evidence
        assert hit.score == pytest.approx(ev.text_score * (1 + ev.context_boost) + ev.time_proximity, abs=1e-3)
        text = f"{hit.event.title} {hit.event.text}".lower()
        assert all(term in text for term in ev.shared_terms)
    assert hits[0].event.id in {"p2", "p3", "a1"}
    with pytest.raises(NotFoundError):
        loaded.related("nope")


def test_related_earlier_only(loaded: Engine) -> None:
    """earlier_only keeps only events before the anchor (negative time gaps)."""
    anchor = loaded.get_event("p3").occurred_at
    hits = loaded.related("p3", k=10, filters=RelatedFilters(earlier_only=True))
    assert {h.event.id for h in hits} == {"p1", "p2", "h1", "a1", "l1", "l2"}
    hits = loaded.related("p2", k=10, filters=RelatedFilters(earlier_only=True))
    assert {h.event.id for h in hits} == {"p1", "l1", "l2"}
    assert all(h.event.occurred_at < anchor and h.evidence.time_gap_hours < 0 for h in hits)


@pytest.mark.parametrize(("filters", "expected"), [
    (RelatedFilters(kinds=["alert"]), {"a1"}),
    (RelatedFilters(systems=["auth"]), {"l1", "l2"}),
    (RelatedFilters(user_id="u-1042"), {"p2", "p3", "h1"}),
    (RelatedFilters(since=datetime(2026, 3, 4, 9, 0, tzinfo=timezone.utc),
                    until=datetime(2026, 3, 6, 9, 0, tzinfo=timezone.utc)), {"p2", "a1", "h1"}),
    (RelatedFilters(kinds=["change"]), set()),
])
def test_related_filters(loaded: Engine, filters: RelatedFilters, expected: set[str]) -> None:
    """Filters restrict related reports by kind, system, user and [since, until)."""
    assert {h.event.id for h in loaded.related("p1", k=10, filters=filters)} == expected


def test_search_context_boosts_an_otherwise_equal_candidate(engine: Engine) -> None:
    """Two identical texts tie without context; the one sharing user and system wins with it."""
    twin = {"title": "Invoice export stuck", "text": "bank export file stuck in queue",
            "occurred_at": "2026-03-10T10:00:00Z"}
    engine.ingest(events(twin | {"id": "mine", "user_id": "u-7", "systems": ["payroll"]},
                         twin | {"id": "theirs", "user_id": "u-8", "systems": ["inventory"]}))
    plain = {h.event.id: h.score for h in engine.search("invoice export stuck", k=2)}
    assert plain["mine"] == pytest.approx(plain["theirs"])
    hits = engine.search("invoice export stuck", k=2, user_id="u-7", systems=["payroll"])
    assert [h.event.id for h in hits] == ["mine", "theirs"] and hits[0].score > hits[1].score
    assert hits[0].evidence.same_user and hits[0].evidence.shared_systems == ["payroll"]
    assert hits[0].evidence.context_boost == pytest.approx(0.3) and hits[0].evidence.time_gap_hours is None
    assert hits[0].evidence.time_proximity == 0.0
    only_system = engine.search("invoice export stuck", k=2, systems=["inventory"])
    assert only_system[0].event.id == "theirs"


def test_context_never_lifts_zero_text_affinity(engine: Engine) -> None:
    """A same-user, same-system event with no shared words stays below a textual match."""
    engine.ingest(events(
        {"id": "ctx", "title": "Quokka zebra", "text": "marmalade", "user_id": "u-1", "systems": ["payments"]},
        {"id": "txt", "title": "Printer toner empty", "text": "printer toner", "user_id": "u-2", "systems": ["hr"]}))
    hits = engine.search("printer toner empty", k=5, user_id="u-1", systems=["payments"])
    by_id = {h.event.id: h for h in hits}
    assert by_id["ctx"].evidence.semantic == 0.0 and by_id["ctx"].evidence.lexical == 0.0
    assert by_id["ctx"].evidence.context_boost > 0 and by_id["ctx"].score == 0.0
    assert [h.event.id for h in hits] == ["txt", "ctx"]


def test_erase_user(loaded: Engine) -> None:
    """Erasure removes a user's events from lookups, related reports and histories."""
    assert loaded.erase_user("u-1042") == 4
    for gone in ("p1", "p2", "p3", "h1"):
        with pytest.raises(NotFoundError):
            loaded.get_event(gone)
    assert {h.event.id for h in loaded.related("a1", k=10)} == {"l1", "l2"}
    assert {h.event.id for h in loaded.search("payments invoice page", k=10)} == {"a1", "l1", "l2"}
    assert loaded.user_history("u-1042") == []
    assert [e.id for e in loaded.system_history("payments")] == ["a1"]
    assert loaded.erase_user("u-1042") == 0 and loaded.stats().events == 3


def test_histories_delegate(loaded: Engine) -> None:
    """User and system histories come back in time order with windows and paging."""
    assert [e.id for e in loaded.user_history("u-1042")] == ["p1", "p2", "h1", "p3"]
    assert [e.id for e in loaded.user_history("u-1042", limit=2, offset=1)] == ["p2", "h1"]
    since = datetime(2026, 3, 4, 9, 0, tzinfo=timezone.utc)
    assert [e.id for e in loaded.system_history("payments", since=since)] == ["p2", "a1", "p3"]


def test_accented_terms_match_lexically(engine: Engine) -> None:
    """A query word with diacritics is a query term and matches the event that contains it."""
    engine.ingest(events({"id": "de", "title": "Überweisung fehlgeschlagen", "text": "Lieferant"},
                         {"id": "en", "title": "Printer jam", "text": "toner"}))
    hits = {h.event.id: h for h in engine.search("Überweisung", k=2)}
    assert hits["de"].evidence.shared_terms == ["uberweisung"] and hits["de"].evidence.lexical > 0
