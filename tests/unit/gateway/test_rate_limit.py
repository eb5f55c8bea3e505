"""The per-credential token bucket of the gateway."""

from __future__ import annotations

from services.gateway.rate_limit import RateLimiter
from tests.support.clock import Clock


def test_a_burst_is_allowed_then_refused_with_the_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    assert [limiter.take("key:a") for _ in range(3)] == [None, None, None]
    assert limiter.take("key:a") == 1  # half a second to the next token, rounded up


def test_tokens_come_back_at_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1.0, burst=2, clock=clock)
    limiter.take("k")
    limiter.take("k")
    assert limiter.take("k") is not None
    clock.now += 1.0
    assert limiter.take("k") is None
    assert limiter.take("k") is not None


def test_the_wait_grows_with_the_missing_tokens() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=0.1, burst=1, clock=clock)
    assert limiter.take("k") is None
    assert limiter.take("k") == 10


def test_credentials_do_not_share_a_bucket() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1.0, burst=1, clock=clock)
    assert limiter.take("key:a") is None
    assert limiter.take("key:a") is not None
    assert limiter.take("device:b") is None


def test_a_bucket_never_holds_more_than_the_burst() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=100.0, burst=2, clock=clock)
    clock.now += 3600
    assert [limiter.take("k") for _ in range(3)] == [None, None, 1]


def test_full_buckets_are_forgotten_when_there_are_many() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1.0, burst=1, clock=clock)
    for n in range(10_001):
        limiter.take(f"k{n}")
    clock.now += 5  # every bucket has refilled
    limiter.take("fresh")
    assert len(limiter) == 1
