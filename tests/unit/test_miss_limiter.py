"""The guessing limit shared by PINs (gateway) and LAN log-ins."""

from __future__ import annotations

from shared.limits import MissLimiter


def test_a_key_is_refused_after_its_misses_and_others_are_not() -> None:
    limiter = MissLimiter(misses_per_minute=3)
    for _ in range(2):
        limiter.record_miss("a")
    assert limiter.retry_after("a") is None
    limiter.record_miss("a")
    wait = limiter.retry_after("a")
    assert wait is not None and 1 <= wait <= 60
    assert limiter.retry_after("b") is None


def test_misses_older_than_the_window_are_forgotten_with_their_key() -> None:
    limiter = MissLimiter(misses_per_minute=1, window_seconds=0.0)
    limiter.record_miss("a")
    assert limiter.retry_after("a") is None
    assert len(limiter) == 0  # a key of the past is not kept
