"""The gateway's memory of hashes the registry refused."""

from __future__ import annotations

from services.gateway.auth import RecentlyRefused


def test_a_refused_hash_is_remembered_then_forgotten_after_its_time() -> None:
    refused = RecentlyRefused(seconds=0.0)
    refused.add("a")
    # Zero seconds: already expired, so the registry is asked again.
    assert "a" not in refused
    lasting = RecentlyRefused(seconds=60.0)
    lasting.add("a")
    assert "a" in lasting
    assert "b" not in lasting


def test_the_memory_is_bounded_and_forgets_the_oldest_first() -> None:
    refused = RecentlyRefused(seconds=60.0, size=3)
    for key in "abcd":
        refused.add(key)
    assert "a" not in refused
    assert all(key in refused for key in "bcd")
    refused.add("b")  # refreshed: now the newest
    refused.add("e")
    assert "c" not in refused and "b" in refused
