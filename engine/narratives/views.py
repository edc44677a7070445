"""What a narrative shows a person: title, summary, symptom timeline, who and what it hits, status.

Everything here is derived from the narrative's member events; nothing is stored.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from context_store import EventRecord
from engine.anomalies.service import Anomaly
from engine import text as textprep

LEVELS = ("low", "medium", "high", "critical")
SYMPTOM_SIMILARITY = 0.55  # members at least this close to a symptom's first report share it
EMERGING_WITHIN = timedelta(days=2)
ACTIVE_WITHIN = timedelta(days=3)
COOLING_WITHIN = timedelta(days=7)


@dataclass(frozen=True)
class Symptom:
    """One distinct symptom of a narrative, in order of first appearance."""

    label: str
    count: int
    first_seen: datetime
    last_seen: datetime
    event_ids: list[str]


@dataclass(frozen=True)
class NarrativeView:
    """A narrative's derived description."""

    title: str
    top_terms: list[str]
    summary: list[str]
    symptoms: list[Symptom]
    users: list[str]
    systems: list[str]
    kinds: list[str]
    first_seen: datetime
    last_seen: datetime
    volume_per_day: dict[str, int]
    status: str
    highest_impact: str | None
    highest_urgency: str | None
    size: int
    extra: dict[str, object] = field(default_factory=dict)
    growth_anomaly: Anomaly | None = None  # set by the engine when its hourly volume is anomalous


def distinctive_terms(members: Sequence[EventRecord], document_frequency: Callable[[Iterable[str]], dict[str, int]],
                      total_documents: int, count: int = 4) -> list[str]:
    """Class-based TF-IDF: terms frequent in the narrative and rare across all stored events."""
    frequencies = Counter(t for m in members for t in textprep.content_terms(f"{m.title} {m.text}"))
    if not frequencies:
        return []
    df = document_frequency(frequencies)
    def weight(term: str) -> float:
        return frequencies[term] * math.log(1.0 + total_documents / (1 + df.get(term, 0)))
    shared = [t for t in frequencies if frequencies[t] > 1 or len(members) == 1]
    best = sorted(shared or frequencies, key=lambda t: (-weight(t), t))[:count]
    forms = textprep.surface_forms(f"{m.title} {m.text}" for m in members)
    return [forms.get(t, t) for t in best]


def summary_lines(members: Sequence[EventRecord], vectors: np.ndarray, lines: int = 2) -> list[str]:
    """Extractive summary: the members closest to the narrative's centroid."""
    centroid = vectors.mean(axis=0)
    order = np.argsort(-(vectors @ centroid), kind="stable")[:lines]
    return [_headline(members[i]) for i in sorted(order, key=lambda i: members[i].occurred_at)]


def _headline(record: EventRecord) -> str:
    return record.title or (record.text[:120] + ("..." if len(record.text) > 120 else ""))


def symptom_timeline(members: Sequence[EventRecord], vectors: np.ndarray) -> list[Symptom]:
    """Group members into symptoms by closeness to each symptom's first report, in time order."""
    order = sorted(range(len(members)), key=lambda i: (members[i].occurred_at, members[i].seq))
    groups: list[list[int]] = []
    for i in order:
        best = max(groups, key=lambda g: float(vectors[g[0]] @ vectors[i]), default=None)
        if best is not None and float(vectors[best[0]] @ vectors[i]) >= SYMPTOM_SIMILARITY:
            best.append(i)
        else:
            groups.append([i])
    return [Symptom(label=_headline(members[g[0]]), count=len(g), first_seen=members[g[0]].occurred_at,
                    last_seen=max(members[i].occurred_at for i in g), event_ids=[members[i].id for i in g])
            for g in groups]


def status_of(last_seen: datetime, first_seen: datetime, resolved_at: datetime | None, clock: datetime) -> str:
    """Lifecycle from activity relative to the stream's clock (the latest stored event's time).

    resolved (a person said so, and nothing arrived since) > emerging (first seen within 2 days)
    > active (activity within 3 days) > cooling (within 7 days) > dormant.
    """
    if resolved_at is not None and last_seen <= resolved_at:
        return "resolved"
    if clock - first_seen <= EMERGING_WITHIN:
        return "emerging"
    if clock - last_seen <= ACTIVE_WITHIN:
        return "active"
    if clock - last_seen <= COOLING_WITHIN:
        return "cooling"
    return "dormant"


def highest(values: Iterable[str | None]) -> str | None:
    """The most severe level present."""
    present = [v for v in values if v in LEVELS]
    return max(present, key=LEVELS.index) if present else None


def describe(members: Sequence[EventRecord], vectors: np.ndarray, resolved_at: datetime | None, clock: datetime,
             document_frequency: Callable[[Iterable[str]], dict[str, int]], total_documents: int) -> NarrativeView:
    """The full view of a narrative from its members (in any order) and their vectors."""
    first = min(m.occurred_at for m in members)
    last = max(m.occurred_at for m in members)
    terms = distinctive_terms(members, document_frequency, total_documents)
    volume = Counter(m.occurred_at.date().isoformat() for m in members)
    return NarrativeView(
        title=" / ".join(terms) if terms else _headline(members[0]), top_terms=terms,
        summary=summary_lines(members, vectors), symptoms=symptom_timeline(members, vectors),
        users=sorted({m.user_id for m in members if m.user_id}),
        systems=sorted({s for m in members for s in m.systems}), kinds=sorted({m.kind for m in members}),
        first_seen=first, last_seen=last, volume_per_day=dict(sorted(volume.items())),
        status=status_of(last, first, resolved_at, clock), highest_impact=highest(m.impact for m in members),
        highest_urgency=highest(m.urgency for m in members), size=len(members))
