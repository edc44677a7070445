"""The batch-job example through the engine: a nightly error spike becomes normal, the same spike at noon is not."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from engine import Engine, EventIn, Settings
from tests.fakes import HashingEmbedder

START = datetime(2026, 3, 2, tzinfo=timezone.utc)  # a Monday: go-live
SPIKE = 25


def _event(i: int, at: datetime, system: str, text: str) -> EventIn:
    return EventIn(id=f"e{i}", kind="alert", title=text, text=text, systems=[system], occurred_at=at)


def _stream(days: int, noon_spike_day: int | None) -> list[EventIn]:
    """Background errors on billing every 3 hours and on crm; 25 errors in the 02:00 batch hour every night."""
    out: list[EventIn] = []
    for day in range(days):
        base = START + timedelta(days=day)
        for hour in range(0, 24, 3):
            out.append(_event(len(out), base + timedelta(hours=hour, minutes=10), "billing", "invoice export error"))
            out.append(_event(len(out), base + timedelta(hours=hour, minutes=40), "crm", "contact sync warning"))
        for k in range(SPIKE):
            out.append(_event(len(out), base + timedelta(hours=2, minutes=k * 2), "billing", "batch job row rejected"))
        if day == noon_spike_day:
            for k in range(SPIKE):
                out.append(_event(len(out), base + timedelta(hours=12, minutes=k * 2), "billing",
                                  "batch job row rejected"))
    out.append(_event(len(out), START + timedelta(days=days, minutes=5), "crm", "contact sync warning"))
    return out


def _engine(events: list[EventIn]) -> Engine:
    engine = Engine(Settings(backend="memory"), embedder=HashingEmbedder(64))
    for start in range(0, len(events), 500):
        engine.ingest(events[start:start + 500])
    return engine


def _billing(engine: Engine) -> dict[datetime, object]:
    return {a.bucket_start: a for a in engine.list_anomalies(scope="system") if a.key == "billing"}


def test_nightly_batch_spike_becomes_normal_and_the_same_spike_at_noon_is_flagged() -> None:
    engine = _engine(_stream(days=5, noon_spike_day=4))
    found = _billing(engine)
    last_night = START + timedelta(days=4, hours=2)
    noon = START + timedelta(days=4, hours=12)
    assert last_night not in found  # the fifth night of the batch job: expected
    assert noon in found  # the same spike at noon: not expected
    anomaly = found[noon]
    assert anomaly.observed == SPIKE + 1 and anomaly.expected < 3 and anomaly.score >= 4  # spike + 1 background anomaly.expected < 3 and anomaly.score >= 4
    assert "at this hour of day: 4 day(s)" in anomaly.why
    assert not any(a.key == "crm" for a in engine.list_anomalies(scope="system"))  # steady system: nothing


def test_first_night_is_flagged_then_learnt_within_a_few_nights() -> None:
    engine = _engine(_stream(days=5, noon_spike_day=None))
    nights = [START + timedelta(days=d, hours=2) for d in range(5)]
    found = _billing(engine)
    assert nights[0] in found  # no history yet: 25 errors in an hour are surprising on day one
    assert not any(n in found for n in nights[3:])
    listed = [a.bucket_start for a in engine.list_anomalies()]
    assert listed == sorted(listed, reverse=True)  # newest hour first


def test_since_filters_and_pagination() -> None:
    engine = _engine(_stream(days=5, noon_spike_day=4))
    everything = engine.list_anomalies()
    later = engine.list_anomalies(since=START + timedelta(days=3))
    assert later and all(a.bucket_end > START + timedelta(days=3) for a in later)
    assert len(later) < len(everything)
    assert engine.list_anomalies(limit=1, offset=1) == everything[1:2]
