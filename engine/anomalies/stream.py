"""The count baseline's idea on a real-valued metric stream (used for the NAB evaluation).

Counts get a Gamma-Poisson posterior per hour; a metric (CPU, latency, temperature, tweet volume)
gets the same structure with Gaussian-ish pieces, learnt online from the first point:
- expected value: a level (exponentially weighted) plus a seasonal offset by time of day, built
  hierarchically like the count model: a fine time-of-day slot (5 minutes or the sampling step)
  shrunk towards its hour, the hour shrunk towards 0 and the hour of the week shrunk towards the
  hour, each by n / (n + k) with n the slot's observations (no warm-up: with one day of history
  the seasonal offset is mostly shrunk away and the level carries the prediction);
- a plain level without seasonality competes with it: the two predictions are blended by their
  recent squared errors, so a stream without a daily rhythm is not forced into one;
- robust scale: an exponentially weighted mean absolute residual (residuals clipped at 10 scales);
- score: the surprise |residual| / scale, capped at `z_cap`, feeds an anomaly likelihood (a run of
  surprising points in a calm stream); a value beyond the stream's past range by more than
  `record_margin` of that range is a record, surprising on its own;
- detection: likelihood score >= `threshold` or a record, then `refractory` points of silence.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.anomalies.likelihood import AnomalyLikelihood

DAY = 86_400.0
WEEK = 7 * DAY


@dataclass(frozen=True)
class StreamParams:
    """Settings of the metric-stream detector (one set for every stream: no per-series tuning)."""

    level_rate: float = 0.1
    slot_rate: float = 0.05
    shrink: float = 3.0
    error_rate: float = 0.01
    scale_rate: float = 0.01
    warmup: int = 50
    z_cap: float = 12.0
    short: int = 5
    long: int = 3000
    threshold: float = 4.0
    record_margin: float = 0.02


class SeasonalSlots:
    """Running mean of deviations per time slot (1/n at first, then an exponential rate), shrunk by n / (n + k)."""

    def __init__(self, slots: int, rate: float, shrink: float):
        self.mean = np.zeros(slots)
        self.n = np.zeros(slots)
        self.rate, self.shrink = rate, shrink

    def weight(self, slot: int) -> float:
        """How much the slot's own mean is trusted."""
        return self.n[slot] / (self.n[slot] + self.shrink)

    def update(self, slot: int, deviation: float) -> None:
        """Learn one deviation in a slot."""
        self.n[slot] += 1
        self.mean[slot] += (deviation - self.mean[slot]) * max(1.0 / self.n[slot], self.rate)


class StreamDetector:
    """Online detector for one metric stream sampled at a roughly regular step."""

    def __init__(self, step_seconds: float, refractory: int, params: StreamParams | None = None):
        self.p = params or StreamParams()
        self.refractory = refractory
        self.fine_width = max(step_seconds, 300.0)
        self.hour_width = max(step_seconds, 3600.0)
        per_day = max(int(round(DAY / self.hour_width)), 1)
        self.fine = SeasonalSlots(max(int(round(DAY / self.fine_width)), 1), self.p.slot_rate, self.p.shrink)
        self.hour = SeasonalSlots(per_day, self.p.slot_rate, self.p.shrink)
        self.week = SeasonalSlots(per_day * 7, self.p.slot_rate, self.p.shrink)
        self.likelihood = AnomalyLikelihood(self.p.short, self.p.long)
        self.level: float = 0.0
        self.plain: float = 0.0
        self.err_seasonal: float | None = None
        self.err_plain: float = 0.0
        self.scale: float | None = None
        self._warm: list[float] = []
        self.high = self.low = 0.0
        self._started = False
        self.since_detection = refractory + 1

    def _slots(self, t: float) -> tuple[int, int, int]:
        return (int((t % DAY) // self.fine_width) % len(self.fine.n), int((t % DAY) // self.hour_width) % len(self.hour.n),
                int((t % WEEK) // self.hour_width) % len(self.week.n))

    def _seasonal(self, fine: int, hour: int, week: int) -> float:
        base = self.hour.weight(hour) * self.hour.mean[hour]
        daily = base + (self.fine.mean[fine] - base) * self.fine.weight(fine) if len(self.fine.n) != len(self.hour.n) else base
        return daily + (self.week.mean[week] - self.hour.mean[hour]) * self.week.weight(week) * self.hour.weight(hour)

    def expected(self, t: float) -> float:
        """The blended prediction for time t (before seeing its value)."""
        fine, hour, week = self._slots(t)
        seasonal = self.level + self._seasonal(fine, hour, week)
        if self.err_seasonal is None:
            return self.plain
        w = self.err_plain ** 2 / (self.err_plain ** 2 + self.err_seasonal ** 2 + 1e-300)
        return w * seasonal + (1 - w) * self.plain

    def update(self, t: float, x: float) -> tuple[float, bool]:
        """Score one point (then learn it); returns (likelihood score, detection)."""
        if not self._started:
            self.level = self.plain = self.high = self.low = x
            self._started = True
        p = self.p
        fine, hour, week = self._slots(t)
        offset = self._seasonal(fine, hour, week)
        residual = x - self.expected(t)
        z = 0.0
        if self.scale is None:
            self._warm.append(abs(residual))
            if len(self._warm) >= p.warmup:
                self.scale = max(float(np.median(self._warm)) * 1.4826, 1e-9)
        else:
            z = abs(residual) / self.scale
            self.scale += p.scale_rate * (min(abs(residual), 10 * self.scale) * 1.2533 - self.scale)
        score = self.likelihood.update(min(z, p.z_cap) / p.z_cap)
        high, low = self.high, self.low
        record = x > high + p.record_margin * (high - low) or x < low - p.record_margin * (high - low)
        self._learn(x, offset, fine, hour, week)
        self.since_detection += 1
        detected = (score >= p.threshold or record) and self.since_detection > self.refractory
        if detected:
            self.since_detection = 0
        return score, detected

    def _learn(self, x: float, offset: float, fine: int, hour: int, week: int) -> None:
        p = self.p
        seasonal_error, plain_error = abs(x - self.level - offset), abs(x - self.plain)
        if self.err_seasonal is None:
            self.err_seasonal, self.err_plain = seasonal_error + 1e-9, plain_error + 1e-9
        else:
            self.err_seasonal += p.error_rate * (seasonal_error - self.err_seasonal)
            self.err_plain += p.error_rate * (plain_error - self.err_plain)
        deviation = x - self.level
        for slots, slot in ((self.fine, fine), (self.hour, hour), (self.week, week)):
            slots.update(slot, deviation)
        self.level += p.level_rate * (x - offset - self.level)
        self.plain += p.level_rate * (x - self.plain)
        self.high, self.low = max(self.high, x), min(self.low, x)


def detect_stream(timestamps: np.ndarray, values: np.ndarray, refractory: int,
                  params: StreamParams | None = None) -> tuple[np.ndarray, list[int]]:
    """Run a detector over a whole stream: per-point likelihood scores and the detection rows."""
    step = float(np.median(np.diff(timestamps))) if len(timestamps) > 1 else 300.0
    detector = StreamDetector(step, refractory, params)
    scores = np.zeros(len(values))
    rows: list[int] = []
    for i, (t, x) in enumerate(zip(timestamps.tolist(), values.tolist())):
        scores[i], hit = detector.update(t, x)
        if hit:
            rows.append(i)
    return scores, rows
