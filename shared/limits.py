"""Guessing limits: after N misses in a minute from one key, refuse it for a while.

The gateway limits wrong PINs per API key; the LAN writer limits failed log-ins per user name
or badge. Misses are counted in the process's memory (per instance when scaled out)."""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque


class MissLimiter:
    def __init__(self, misses_per_minute: int, window_seconds: float = 60.0) -> None:
        self._limit = misses_per_minute
        self._window = window_seconds
        self._misses: dict[str, deque[float]] = defaultdict(deque)

    def retry_after(self, key: str) -> int | None:
        """Seconds to wait before this key may try again, or None if it may now."""
        misses = self._misses.get(key)
        if not misses:
            return None
        now = time.monotonic()
        while misses and misses[0] <= now - self._window:
            misses.popleft()
        if not misses:
            del self._misses[key]  # keys of the past are not kept
            return None
        if len(misses) < self._limit:
            return None
        return max(1, math.ceil(misses[0] + self._window - now))

    def __len__(self) -> int:
        """How many keys have misses counted now."""
        return len(self._misses)

    def record_miss(self, key: str) -> None:
        self._misses[key].append(time.monotonic())
