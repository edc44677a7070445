"""Prometheus Alertmanager's webhook payload (version 4) and how each alert becomes an `alert` event.

Mapping (documented in the README, "Operational context"):
- id: ``am-<fingerprint>-<startsAt>``: the fingerprint names the alert (its label set), the start
  time names the episode, so re-sent notifications are idempotent and a later firing of the same
  alert is a new event;
- systems: the value of the first label in `SystemLabelRule.labels` the alert carries
  (default ``service``, ``job``, ``app``); none when it carries none of them;
- title: ``annotations.summary`` (else the ``alertname`` label); text: ``annotations.description``
  (else ``annotations.message``);
- occurred_at: ``startsAt``; impact: from the ``severity`` label;
- attributes: ``source``, ``fingerprint``, ``status``, ``starts_at``, ``ends_at`` (resolved only),
  ``generator_url``, then ``label.<name>`` and other ``annotation.<name>`` entries (up to the cap).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, StrictInt

from engine.events import MAX_ATTRIBUTES, MAX_TEXT_CHARS, MAX_TITLE_CHARS, EventIn, EventKind, Level
from engine.ops.timestamps import parse_rfc3339

SOURCE = "alertmanager"
MAX_ATTRIBUTE_CHARS = 1_000
SEVERITY_LEVELS = {"critical": Level.critical, "page": Level.critical, "error": Level.high, "high": Level.high,
                   "major": Level.high, "warning": Level.medium, "warn": Level.medium, "medium": Level.medium,
                   "minor": Level.low, "low": Level.low, "info": Level.low}
_TEXT_ANNOTATIONS = ("summary", "description", "message")


class AlertIn(BaseModel):
    """One alert of a notification. Fields Alertmanager may add later are ignored."""

    model_config = ConfigDict(extra="ignore")

    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime | None  # never None once validated
    endsAt: datetime | None = None
    generatorURL: str = ""
    fingerprint: str = Field("", max_length=64, pattern=r"^[0-9A-Za-z]*$")

    @field_validator("startsAt", "endsAt", mode="before")
    @classmethod
    def _rfc3339(cls, value: object) -> object:
        return parse_rfc3339(value) if isinstance(value, str) else value

    @field_validator("startsAt")
    @classmethod
    def _required(cls, value: datetime | None) -> datetime | None:
        if value is None:
            raise ValueError("startsAt must be a real time, not Go's zero time")
        return value


class AlertmanagerWebhook(BaseModel):
    """A webhook notification exactly as Alertmanager sends it (payload version 4)."""

    model_config = ConfigDict(extra="ignore")

    version: Literal["4"]
    groupKey: str = ""
    truncatedAlerts: StrictInt = 0  # a count: true/false is not one (pydantic would read them as 1/0)
    status: Literal["firing", "resolved"]
    receiver: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    alerts: list[AlertIn]  # at most Settings.max_batch_events (413 beyond): set the receiver's `max_alerts`


@dataclass(frozen=True)
class SystemLabelRule:
    """Which label names an alert's system: the first of `labels` the alert carries, non-blank."""

    labels: tuple[str, ...] = ("service", "job", "app")

    def systems_of(self, labels: dict[str, str]) -> list[str]:
        """The alert's systems (at most one) under this rule."""
        for name in self.labels:
            value = labels.get(name, "").strip()
            if value:
                return [value[:100]]
        return []


def fingerprint_of(alert: AlertIn) -> str:
    """Alertmanager's fingerprint, or (when a sender left it out) a hash of the sorted label set."""
    if alert.fingerprint:
        return alert.fingerprint.lower()
    canonical = "\x00".join(f"{k}\x01{v}" for k, v in sorted(alert.labels.items()))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def event_id(alert: AlertIn) -> str:
    """The stable id of one alert episode."""
    return f"am-{fingerprint_of(alert)}-{alert.startsAt:%Y%m%dT%H%M%S.%fZ}"


def _clip(value: str, limit: int) -> str:
    return value.strip()[:limit]


def _attributes(alert: AlertIn) -> dict[str, str]:
    core = {"source": SOURCE, "fingerprint": fingerprint_of(alert), "status": alert.status,
            "starts_at": alert.startsAt.isoformat()}
    if alert.status == "resolved" and alert.endsAt is not None:
        core["ends_at"] = alert.endsAt.isoformat()
    if alert.generatorURL:
        core["generator_url"] = alert.generatorURL
    extra = {f"label.{k}": v for k, v in sorted(alert.labels.items())}
    extra.update({f"annotation.{k}": v for k, v in sorted(alert.annotations.items()) if k not in _TEXT_ANNOTATIONS})
    for key, value in extra.items():
        if len(core) >= MAX_ATTRIBUTES:
            break
        core[key] = value
    return {k: _clip(v, MAX_ATTRIBUTE_CHARS) for k, v in core.items()}


def to_event(alert: AlertIn, rule: SystemLabelRule) -> EventIn:
    """The `alert` event of one Alertmanager alert (see the module docstring for the mapping)."""
    notes = alert.annotations
    title = notes.get("summary", "").strip() or alert.labels.get("alertname", "").strip() \
        or f"Alert {fingerprint_of(alert)}"
    text = (notes.get("description", "").strip() or notes.get("message", "").strip())
    severity = SEVERITY_LEVELS.get(alert.labels.get("severity", "").strip().lower())
    return EventIn(id=event_id(alert), kind=EventKind.alert, title=_clip(title, MAX_TITLE_CHARS),
                   text=_clip(text, MAX_TEXT_CHARS), systems=rule.systems_of(alert.labels), channel="monitoring",
                   occurred_at=alert.startsAt, impact=severity, attributes=_attributes(alert))


def to_events(payload: AlertmanagerWebhook, rule: SystemLabelRule) -> list[EventIn]:
    """Every alert of a notification as an event, in payload order (one per episode id)."""
    events = {}
    for alert in payload.alerts:
        event = to_event(alert, rule)
        events[event.id] = event  # an id twice in one notification: the later entry wins
    return list(events.values())
