"""Topology-aware linking with the REAL model (all-MiniLM-L6-v2): what links and what must not.

A shop: web-frontend -> checkout-api -> payments-db, web-frontend -> auth, hr-portal -> hr-db.
One in-memory engine; the stream (noise, user reports, alerts through the Alertmanager mapping)
is ingested once, in time order.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from engine import Engine, EventIn, Settings
from engine.ops.alertmanager import AlertmanagerWebhook

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
TOPOLOGY = {"web-frontend": ["checkout-api", "auth"], "checkout-api": ["payments-db"], "hr-portal": ["hr-db"]}


def report(event_id: str, text: str, user: str, system: str, minutes: float) -> EventIn:
    return EventIn(id=event_id, text=text, user_id=user, systems=[system],
                   occurred_at=T0 + timedelta(minutes=minutes))


def alert(fingerprint: str, service: str, summary: str, description: str, minutes: float) -> dict[str, Any]:
    starts = (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.123456789Z")
    return {"status": "firing", "labels": {"alertname": summary.split()[0], "service": service},
            "annotations": {"summary": summary, "description": description}, "startsAt": starts,
            "endsAt": "0001-01-01T00:00:00Z", "fingerprint": fingerprint}


NOISE = [
    report("n1", "The printer on floor 3 is out of toner", "u8", "printers", -300),
    report("n2", "How do I export my contacts to a spreadsheet?", "u9", "crm", -200),
    report("n3", "Please reset my password, the account is locked", "u11", "auth", -100),
]
FRONT = report("front", "The checkout page hangs when I click pay and then shows an error", "u1", "web-frontend", 0)
ALERTS = [
    alert("aa00000000000001", "payments-db", "payments-db connection pool exhausted",
          "Database payments-db has no free connections; checkout queries wait more than 30 s", 10),
    alert("aa00000000000002", "payments-db", "Backup job finished",
          "Nightly backup of payments-db completed, 42 GB written", 20),
    alert("aa00000000000003", "hr-db", "hr-db connection pool exhausted",
          "Database hr-db has no free connections; payroll queries wait more than 30 s", 15),
    alert("aa00000000000004", "payments-db", "payments-db replication lag high",
          "Replica of payments-db lags 900 s behind; checkout reads are stale", 60 * 30),
]


@pytest.fixture(scope="module")
def engine() -> Engine:
    engine = Engine(Settings(backend="memory"))
    engine.set_topology(TOPOLOGY)
    for event in [*NOISE, FRONT]:
        engine.ingest([event])
    for item in ALERTS:
        engine.ingest_alertmanager(AlertmanagerWebhook.model_validate(
            {"version": "4", "status": "firing", "alerts": [item]}))
    return engine


def alert_id(engine: Engine, fingerprint: str) -> str:
    found = [e for e in engine.store.system_history("payments-db") + engine.store.system_history("hr-db")
             if e.attributes.get("fingerprint") == fingerprint]
    assert len(found) == 1
    return found[0].id


def test_report_and_upstream_alert_share_a_narrative_with_the_path(engine: Engine) -> None:
    pool = alert_id(engine, "aa00000000000001")
    assert engine.narrative_of(pool) == engine.narrative_of("front")
    detail = engine.event_narrative("front")
    link = next(l for l in detail.links if {l.later_seq, l.earlier_seq} == {engine.get_event(pool).seq,
                                                                            engine.get_event("front").seq})
    assert link.evidence["topology_path"] == "payments-db <- checkout-api <- web-frontend"
    assert detail.operations.probable_origin.system == "payments-db"
    hit = next(h for h in engine.related("front", k=10) if h.event.id == pool)
    assert hit.evidence.topology_path == "web-frontend -> checkout-api -> payments-db"


def test_unrelated_alert_on_the_same_database_stays_apart(engine: Engine) -> None:
    assert engine.narrative_of(alert_id(engine, "aa00000000000002")) != engine.narrative_of("front")


def test_alert_outside_the_dependency_chain_gets_no_topology_link(engine: Engine) -> None:
    """hr-db is not upstream of the front end: no topology evidence, no context link. (Its wording,
    "connection pool exhausted" like the payments-db alert, may still group it by text.)"""
    hr = engine.get_event(alert_id(engine, "aa00000000000003"))
    hit = next((h for h in engine.related("front", k=20) if h.event.id == hr.id), None)
    assert hit is None or hit.evidence.topology_path is None
    links = [l for l in engine.store.narratives.links_touching([hr.seq]) if l.later_seq == hr.seq]
    assert links and all(not l.evidence["context_link"] and "topology_path" not in l.evidence for l in links)


def test_topology_does_not_reach_beyond_the_time_window(engine: Engine) -> None:
    late = alert_id(engine, "aa00000000000004")  # 30 hours later
    hit = next((h for h in engine.related("front", k=20) if h.event.id == late), None)
    assert hit is None or hit.evidence.topology_path is None
    later = engine.get_event(late)
    links = [l for l in engine.store.narratives.links_touching([later.seq]) if l.later_seq == later.seq]
    assert all(not l.evidence["context_link"] for l in links)
