"""Per-key token buckets: a steady rate with a burst allowance; a refusal says when to retry."""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class RateLimiter:
    """One token bucket per key: `rate` tokens per second, at most `burst` saved up.

    `rate <= 0` disables limiting. `take(key)` returns 0 when the request may go ahead, else the
    whole seconds to wait before a token is available (the value for a Retry-After header).
    """

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = max(1, burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill time)
        self._lock = threading.Lock()

    def take(self, key: str) -> int:
        """Spend one token of `key`'s bucket; 0 if granted, else seconds until one is available."""
        if self.rate <= 0:
            return 0
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / self.rate))
