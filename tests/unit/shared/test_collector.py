"""The collector held off while batches are worked through, a service's start-up objects kept
out of its sight, and what lives through a young collection while it serves."""

from __future__ import annotations

import asyncio
import gc

import pytest

from shared import collector
from shared.collector import (
    REFRESH_GROWTH,
    REFRESH_SECONDS,
    collector_held,
    freeze_start_up,
    long_lived_frozen,
    refresh,
    refresh_due,
)


def test_holds_overlap_and_the_collector_comes_back_after_the_last() -> None:
    assert gc.isenabled()
    with collector_held():
        with collector_held():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_off_before_stays_off() -> None:
    gc.disable()
    try:
        with collector_held():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_start_up_objects_are_frozen_out_of_later_collections() -> None:
    kept = [[n] for n in range(1000)]
    try:
        freeze_start_up()
        assert gc.get_freeze_count() >= len(kept)
    finally:
        gc.unfreeze()


class _Node:
    """An object that can be part of a cycle."""

    other: _Node | None = None


def _pairs(count: int) -> list[_Node]:
    """``count`` two-object cycles, each reachable from the list."""
    firsts = []
    for _ in range(count):
        first, second = _Node(), _Node()
        first.other, second.other = second, first
        firsts.append(first)
    return firsts


async def test_what_lives_through_a_young_collection_is_frozen_while_serving() -> None:
    try:
        async with long_lived_frozen():
            frozen_at_start = gc.get_freeze_count()
            kept = [[n] for n in range(5000)]
            gc.collect(1)
            assert gc.get_freeze_count() >= frozen_at_start + len(kept)
            assert gc.get_objects(2) == []  # nothing left for a full pass to walk
            del kept
            # Frozen objects are still freed by their references: the frozen set shrinks.
            assert gc.get_freeze_count() < frozen_at_start + 5000
        # After the block a young collection freezes nothing more.
        before = gc.get_freeze_count()
        more = [[n] for n in range(1000)]
        gc.collect(1)
        assert gc.get_freeze_count() == before
        del more
    finally:
        gc.unfreeze()


async def test_a_refresh_collects_the_cycles_that_died_frozen() -> None:
    try:
        async with long_lived_frozen():
            cycles = _pairs(2000)
            gc.collect(1)
            frozen = gc.get_freeze_count()
            del cycles
            # Dead, but frozen: no automatic or young collection can find them.
            assert gc.collect(1) < 4000
            assert gc.get_freeze_count() > frozen - 4000  # still held there
            assert refresh() >= 4000
            assert gc.get_freeze_count() <= frozen - 4000
    finally:
        gc.unfreeze()


def test_a_refresh_is_due_when_what_the_process_holds_doubled_or_after_an_hour() -> None:
    assert not refresh_due(150_000, 100_000, 60.0)
    assert refresh_due(int(REFRESH_GROWTH * 100_000) + 1, 100_000, 60.0)
    assert refresh_due(100_000, 100_000, REFRESH_SECONDS)


async def test_the_full_pass_comes_by_itself_once_the_memory_has_grown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found: list[int] = []
    passed = asyncio.Event()

    def recorded_refresh() -> int:
        found.append(refresh())
        passed.set()
        return found[-1]

    monkeypatch.setattr(collector, "refresh", recorded_refresh)
    monkeypatch.setattr(collector, "CHECK_SECONDS", 0.01)
    try:
        async with long_lived_frozen():
            cycles = _pairs(2000)
            gc.collect(1)
            del cycles  # dead, but frozen
            await asyncio.sleep(0.05)
            assert not found  # the memory has not grown: no full pass
            monkeypatch.setattr(collector, "REFRESH_GROWTH", 0.5)  # as if it had doubled
            await asyncio.wait_for(passed.wait(), 10)
            assert found[0] >= 4000  # the dead cycles were collected
    finally:
        gc.unfreeze()


async def test_without_refresh_no_full_pass_comes_however_the_memory_grew(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refreshed: list[int] = []

    def refresh() -> int:
        refreshed.append(1)
        return 0

    monkeypatch.setattr(collector, "refresh", refresh)
    monkeypatch.setattr(collector, "CHECK_SECONDS", 0.01)
    monkeypatch.setattr(collector, "REFRESH_GROWTH", 0.5)  # due at every check
    try:
        async with long_lived_frozen(full_passes=False):
            kept = [[n] for n in range(1000)]
            gc.collect(1)
            assert gc.get_objects(2) == []  # survivors are still frozen
            await asyncio.sleep(0.1)  # ten checks' time, had there been a checker
            assert refreshed == []
            del kept
    finally:
        gc.unfreeze()
