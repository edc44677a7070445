"""Anomaly likelihood (after Ahmad et al. 2017): is the recent surprise unusual for this stream?

The raw surprise of each point (in [0, 1]) is averaged over a short window; that average is
compared with the mean and spread of the raw surprise over a long past window (which ends where
the short window begins), and the Gaussian upper tail gives how improbable it is. A stream that
is always noisy gets used to its noise; a run of surprising points in a calm stream stands out.
"""
from __future__ import annotations

import math
from collections import deque

from scipy.special import ndtr


class AnomalyLikelihood:
    """Online: feed raw surprises, get -log10 of the tail probability of their short-term mean."""

    def __init__(self, short: int = 5, long: int = 3000, min_history: int = 300, min_spread: float = 1e-3):
        self.short, self.long, self.min_history, self.min_spread = short, long, min_history, min_spread
        self._recent: deque[float] = deque()
        self._past: deque[float] = deque()
        self._sum = self._sum_sq = self._recent_sum = 0.0

    def update(self, raw: float) -> float:
        """Add one raw surprise; returns -log10 P(short mean this high), 0 until enough history."""
        self._recent.append(raw)
        self._recent_sum += raw
        if len(self._recent) > self.short:
            moved = self._recent.popleft()
            self._recent_sum -= moved
            self._past.append(moved)
            self._sum += moved
            self._sum_sq += moved * moved
            if len(self._past) > self.long:
                old = self._past.popleft()
                self._sum -= old
                self._sum_sq -= old * old
        n = len(self._past)
        if n < self.min_history:
            return 0.0
        mean = self._sum / n
        spread = max(math.sqrt(max(self._sum_sq / n - mean * mean, 0.0)), self.min_spread)
        tail = 1.0 - float(ndtr((self._recent_sum / len(self._recent) - mean) / spread))
        return -math.log10(max(tail, 1e-12))
