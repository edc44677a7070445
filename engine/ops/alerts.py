"""How an Alertmanager notification changes the store: new episodes are added, known ones updated.

`POST /v1/events` answers a known id with other content with 409; alerts are different, because
Alertmanager re-sends the same alert with a new status. So the webhook plans each alert:

- unknown id: a new event (embedded, placed in a narrative like any report);
- known id from Alertmanager: its `status` and `ends_at` attributes follow the notification
  ("updated"), or nothing changes ("unchanged", e.g. a re-sent notification). An episode that
  is resolved stays resolved: a late "firing" for the same start time is an out-of-order
  delivery (a new firing has a new start time, so a new id). Title, text, systems and time are
  kept as first stored: they feed the vectors, the lexical index and the narratives;
- known id that is not an Alertmanager alert: ConflictError (409), nothing stored.

The stored content hash is updated with the attributes, so `POST /v1/events` with the updated
event is a no-op and anything else a conflict, as for every other event.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from context_store import AttributeUpdate, ConflictError, ContextStore, EventRecord
from engine.events import EventIn
from engine.ops.alertmanager import SOURCE

STATUS_KEYS = ("status", "ends_at")


@dataclass(frozen=True)
class AlertOutcome:
    """What a notification did to one alert episode."""

    id: str
    status: Literal["created", "updated", "unchanged"]
    alert_status: str
    narrative_id: str | None = None


@dataclass
class AlertPlan:
    """New events to ingest, attribute updates to apply, and the outcome per alert."""

    fresh: list[EventIn] = field(default_factory=list)
    updates: list[AttributeUpdate] = field(default_factory=list)
    outcomes: list[AlertOutcome] = field(default_factory=list)


def merged_attributes(stored: dict[str, str], incoming: dict[str, str]) -> dict[str, str]:
    """The stored attributes with the notification's status applied (resolved is final)."""
    if stored.get("status") == "resolved":
        return stored
    merged = {k: v for k, v in stored.items() if k not in STATUS_KEYS}
    merged.update({k: incoming[k] for k in STATUS_KEYS if k in incoming})
    return merged


def stored_as_event(record: EventRecord, attributes: dict[str, str]) -> EventIn:
    """The event a client would post to get `record` with `attributes` (for its content hash)."""
    return EventIn(id=record.id, kind=record.kind, title=record.title, text=record.text, user_id=record.user_id,
                   systems=list(record.systems), channel=record.channel, occurred_at=record.occurred_at,
                   impact=record.impact, urgency=record.urgency, attributes=attributes)


def plan_alerts(store: ContextStore, events: Sequence[EventIn]) -> AlertPlan:
    """Decide, per alert event, whether it is new, an update or a repeat; raise on foreign ids."""
    plan = AlertPlan()
    conflicts = []
    for event in events:
        record = store.get_event(event.id)
        status = event.attributes.get("status", "")
        if record is None:
            plan.fresh.append(event)
            plan.outcomes.append(AlertOutcome(event.id, "created", status))
            continue
        if record.kind != "alert" or record.attributes.get("source") != SOURCE:
            conflicts.append(event.id)
            continue
        attributes = merged_attributes(record.attributes, event.attributes)
        if attributes == record.attributes:
            plan.outcomes.append(AlertOutcome(event.id, "unchanged", attributes.get("status", "")))
            continue
        digest = stored_as_event(record, attributes).content_hash()
        plan.updates.append(AttributeUpdate(record.id, attributes, digest, record.content_hash))
        plan.outcomes.append(AlertOutcome(event.id, "updated", attributes.get("status", "")))
    if conflicts:
        raise ConflictError(sorted(conflicts))
    return plan
