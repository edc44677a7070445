"""Context-aware volume anomalies: counts per time bucket against a seasonal, shrunk baseline.

- `counts`: the Gamma-Poisson (negative-binomial) baseline for event counts per hour, per system
  and per narrative, with a hierarchical prior so it works from the first day;
- `series`: turning stored events into hourly count matrices;
- `service`: what the engine calls (list anomalies, flag narratives), cached per store state;
- `stream`, `likelihood`: the same baseline idea for a real-valued metric stream (NAB evaluation).
"""
from engine.anomalies.counts import BucketAnomaly, CountModel, CountParams
from engine.anomalies.service import Anomaly, AnomalyService

__all__ = ["Anomaly", "AnomalyService", "BucketAnomaly", "CountModel", "CountParams"]
