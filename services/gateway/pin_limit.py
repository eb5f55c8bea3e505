"""PIN guessing limit: after N wrong PINs in a minute from one API key, refuse for a while."""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque


class PinGuessLimiter:
    def __init__(self, misses_per_minute: int, window_seconds: float = 60.0) -> None:
        self._limit = misses_per_minute
        self._window = window_seconds
        self._misses: dict[str, deque[float]] = defaultdict(deque)

    def _trim(self, key: str, now: float) -> deque[float]:
        misses = self._misses[key]
        while misses and misses[0] <= now - self._window:
            misses.popleft()
        return misses

    def retry_after(self, key: str) -> int | None:
        """Seconds to wait before this key may try a PIN again, or None if it may now."""
        now = time.monotonic()
        misses = self._trim(key, now)
        if len(misses) < self._limit:
            return None
        return max(1, math.ceil(misses[0] + self._window - now))

    def record_miss(self, key: str) -> None:
        self._misses[key].append(time.monotonic())
