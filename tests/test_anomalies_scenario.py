"""The batch-job example through the engine: a nightly error spike becomes normal, the same spike at noon is not."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from engine import Engine, EventIn, Settings
from engine.anomalies import Anomaly
from tests.anomaly_stream import SPIKE, START, batch_stream
from tests.fakes import HashingEmbedder


def _engine(rows: list[dict[str, Any]]) -> Engine:
    engine = Engine(Settings(backend="memory"), embedder=HashingEmbedder(64))
    events = [EventIn.model_validate(r) for r in rows]
    for start in range(0, len(events), 500):
        engine.ingest(events[start:start + 500])
    return engine


def _billing(engine: Engine) -> dict[datetime, Anomaly]:
    return {a.bucket_start: a for a in engine.list_anomalies(scope="system") if a.key == "billing"}


def test_nightly_batch_spike_becomes_normal_and_the_same_spike_at_noon_is_flagged() -> None:
    engine = _engine(batch_stream(days=5, noon_spike_day=4))
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
    engine = _engine(batch_stream(days=5, noon_spike_day=None))
    nights = [START + timedelta(days=d, hours=2) for d in range(5)]
    found = _billing(engine)
    assert nights[0] in found  # no history yet: 25 errors in an hour are surprising on day one
    assert not any(n in found for n in nights[3:])
    listed = [a.bucket_start for a in engine.list_anomalies()]
    assert listed == sorted(listed, reverse=True)  # newest hour first


def test_since_filters_and_pagination() -> None:
    engine = _engine(batch_stream(days=5, noon_spike_day=4))
    everything = engine.list_anomalies()
    later = engine.list_anomalies(since=START + timedelta(days=3))
    assert later and all(a.bucket_end > START + timedelta(days=3) for a in later)
    assert len(later) < len(everything)
    assert engine.list_anomalies(limit=1, offset=1) == everything[1:2]
