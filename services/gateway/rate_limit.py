"""Request rate per credential: a token bucket for each API key and each device.

A bucket holds up to ``burst`` tokens and refills at ``rate`` tokens a second; each request
takes one. Full buckets are forgotten, since a fresh bucket is full too.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

# Above this many buckets, the full ones are swept out on the next take.
_SWEEP_ABOVE = 10_000


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._burst = float(max(1, burst))
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> int | None:
        """Take one token for ``key``; None if allowed, else whole seconds until one is free."""
        now = self._clock()
        if len(self._buckets) > _SWEEP_ABOVE:
            self._sweep(now)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self._burst, now)
        bucket.tokens = self._level(bucket, now)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        if self._rate <= 0:
            return 60
        return max(1, math.ceil((1 - bucket.tokens) / self._rate))

    def _level(self, bucket: _Bucket, now: float) -> float:
        return min(self._burst, bucket.tokens + (now - bucket.at) * self._rate)

    def _sweep(self, now: float) -> None:
        full = [k for k, b in self._buckets.items() if self._level(b, now) >= self._burst]
        for key in full:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)
