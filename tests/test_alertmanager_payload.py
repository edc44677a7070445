"""Alertmanager payload parsing and the alert -> event mapping (no store, no model)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from engine.ops.alertmanager import AlertmanagerWebhook, SystemLabelRule, event_id, to_event, to_events
from engine.ops.alerts import merged_attributes
from engine.ops.timestamps import parse_rfc3339
from engine.settings import Settings


def alert(**overrides: Any) -> dict[str, Any]:
    """One alert as Alertmanager 0.25 writes it into a webhook notification."""
    base = {"status": "firing",
            "labels": {"alertname": "HighErrorRate", "job": "checkout", "service": "checkout-api",
                       "severity": "warning", "instance": "10.0.0.7:9090"},
            "annotations": {"summary": "checkout-api error rate above 5%",
                            "description": "7% of requests fail with HTTP 500", "runbook_url": "http://wiki/rb"},
            "startsAt": "2026-11-27T00:55:03.619906858Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph?g0.expr=x", "fingerprint": "c5b4f1e2a3d40516"}
    return base | overrides


def notification(*alerts: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A version-4 webhook body."""
    return {"version": "4", "groupKey": "{}:{alertname=\"HighErrorRate\"}", "truncatedAlerts": 0,
            "status": "firing", "receiver": "hypercorr", "groupLabels": {"alertname": "HighErrorRate"},
            "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am:9093",
            "alerts": list(alerts)} | overrides


def parse(body: dict[str, Any]) -> AlertmanagerWebhook:
    return AlertmanagerWebhook.model_validate(body)


def test_nanosecond_timestamps_are_truncated_to_microseconds() -> None:
    assert parse_rfc3339("2026-11-27T00:55:03.619906858Z") == datetime(2026, 11, 27, 0, 55, 3, 619906, timezone.utc)
    assert parse_rfc3339("2026-11-27T01:55:03.6+01:00") == datetime(2026, 11, 27, 0, 55, 3, 600000, timezone.utc)
    assert parse_rfc3339("2026-11-27T00:55:03Z") == datetime(2026, 11, 27, 0, 55, 3, tzinfo=timezone.utc)
    assert parse_rfc3339("0001-01-01T00:00:00Z") is None  # Go's zero time: not set
    for bad in ("2026-11-27T00:55:03", "yesterday", "2026-11-27T00:55:03.1234567891234567x"):
        with pytest.raises(ValueError):
            parse_rfc3339(bad)


def test_alert_maps_to_event() -> None:
    event = to_event(parse(notification(alert())).alerts[0], SystemLabelRule())
    assert event.kind.value == "alert" and event.channel == "monitoring"
    assert event.id == "am-c5b4f1e2a3d40516-20261127T005503.619906Z"
    assert event.title == "checkout-api error rate above 5%" and event.text == "7% of requests fail with HTTP 500"
    assert event.systems == ["checkout-api"]  # service comes before job in the default rule
    assert event.occurred_at == datetime(2026, 11, 27, 0, 55, 3, 619906, timezone.utc)
    assert event.impact.value == "medium"  # severity=warning
    attrs = event.attributes
    assert attrs["status"] == "firing" and "ends_at" not in attrs and attrs["source"] == "alertmanager"
    assert attrs["label.instance"] == "10.0.0.7:9090" and attrs["annotation.runbook_url"] == "http://wiki/rb"
    assert "annotation.summary" not in attrs


def test_label_rule_order_and_fallbacks() -> None:
    labels = {"job": "node", "app": "shop", "alertname": "X"}
    assert SystemLabelRule().systems_of(labels) == ["node"]
    assert SystemLabelRule(("app", "job")).systems_of(labels) == ["shop"]
    assert SystemLabelRule(("service",)).systems_of(labels) == []
    assert SystemLabelRule(("service", "app")).systems_of({"service": "  ", "app": "shop"}) == ["shop"]


def test_settings_take_label_names_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYPERCORR_ALERT_SYSTEM_LABELS", "app, service")
    assert Settings().alert_system_labels == ["app", "service"]
    monkeypatch.delenv("HYPERCORR_ALERT_SYSTEM_LABELS")
    assert Settings().alert_system_labels == ["service", "job", "app"]


def test_title_falls_back_to_alertname_and_fingerprint_to_label_hash() -> None:
    bare = alert(annotations={}, fingerprint="")
    event = to_event(parse(notification(bare)).alerts[0], SystemLabelRule())
    assert event.title == "HighErrorRate" and event.text == ""
    same_labels = to_event(parse(notification(alert(annotations={}, fingerprint=""))).alerts[0], SystemLabelRule())
    assert event.id == same_labels.id  # a sender without fingerprints still gets stable ids
    other = alert(annotations={}, fingerprint="", labels={"alertname": "Other"})
    assert to_event(parse(notification(other)).alerts[0], SystemLabelRule()).id != event.id


def test_resolved_alert_carries_ends_at_and_a_new_episode_a_new_id() -> None:
    resolved = parse(notification(alert(status="resolved", endsAt="2026-11-27T01:10:00.5Z"), status="resolved"))
    event = to_event(resolved.alerts[0], SystemLabelRule())
    assert event.attributes["status"] == "resolved" and event.attributes["ends_at"] == "2026-11-27T01:10:00.500000+00:00"
    assert event.id == event_id(parse(notification(alert())).alerts[0])  # same episode, same id
    later = parse(notification(alert(startsAt="2026-11-28T08:00:00Z"))).alerts[0]
    assert event_id(later) != event.id


def test_one_id_twice_in_a_notification_keeps_the_later_entry() -> None:
    events = to_events(parse(notification(alert(), alert(status="resolved", endsAt="2026-11-27T01:00:00Z"))),
                       SystemLabelRule())
    assert len(events) == 1 and events[0].attributes["status"] == "resolved"


@pytest.mark.parametrize(("body", "loc"), [
    (notification(alert(), version="3"), ("version",)),
    (notification(alert(startsAt="2026-11-27 nonsense")), ("alerts", 0, "startsAt")),
    (notification(alert(startsAt="0001-01-01T00:00:00Z")), ("alerts", 0, "startsAt")),
    (notification(alert(status="pending")), ("alerts", 0, "status")),
    (notification(alert(labels={"service": 3})), ("alerts", 0, "labels", "service")),
    (notification(alert(fingerprint="../../x")), ("alerts", 0, "fingerprint")),
    (notification(alert(), truncatedAlerts=False), ("truncatedAlerts",)),
])
def test_bad_payloads_name_the_field(body: dict[str, Any], loc: tuple[object, ...]) -> None:
    with pytest.raises(ValidationError) as caught:
        parse(body)
    assert loc in [tuple(e["loc"]) for e in caught.value.errors()]


def test_unknown_fields_from_newer_alertmanagers_are_ignored() -> None:
    body = notification(alert(newField="x"), anotherNewField={"a": 1})
    assert len(parse(body).alerts) == 1


def test_merge_resolved_is_final_for_an_episode() -> None:
    stored = {"source": "alertmanager", "status": "firing", "label.a": "b"}
    resolved = merged_attributes(stored, {"status": "resolved", "ends_at": "T1", "label.a": "changed"})
    assert resolved == {"source": "alertmanager", "status": "resolved", "ends_at": "T1", "label.a": "b"}
    assert merged_attributes(resolved, {"status": "firing"}) == resolved  # a late firing changes nothing
