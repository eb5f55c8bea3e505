"""Guess limits on a real SQLite store: reserved before the guess is decided, shared by every
process that opens the store, given back by a hit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.limits import ATTEMPTS, GuessLimit
from shared.storage.sqlite import SQLiteStore
from tests.support.clock import Clock


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[SQLiteStore, SQLiteStore]]:
    """Two connections to one file, as two instances of a service have."""
    first, second = SQLiteStore(tmp_path / "g.sqlite3"), SQLiteStore(tmp_path / "g.sqlite3")
    await first.open([ATTEMPTS])
    await second.open([ATTEMPTS])
    yield first, second
    await first.close()
    await second.close()


async def test_a_burst_gets_no_more_than_the_limit_through(
    stores: tuple[SQLiteStore, SQLiteStore],
) -> None:
    clock = Clock()
    limits = [GuessLimit(store, "pin", 10, clock=clock) for store in stores]
    reserved = await asyncio.gather(*(limits[n % 2].reserve("key") for n in range(150)))
    granted = [r for r in reserved if r.retry_after is None]
    assert len(granted) == 10
    assert {r.retry_after for r in reserved if r.retry_after is not None} == {60}
    # Another key, and another limit's keys, are counted apart.
    assert (await limits[0].reserve("other")).retry_after is None
    assert (await GuessLimit(stores[1], "login", 1, clock=clock).reserve("key")).retry_after is None


async def test_a_hit_gives_its_reservation_back_a_miss_keeps_it(
    stores: tuple[SQLiteStore, SQLiteStore],
) -> None:
    clock = Clock()
    one, two = (GuessLimit(store, "pin", 2, clock=clock) for store in stores)
    hit = await one.reserve("key")
    await one.give_back(hit)  # right PINs never run out
    misses = [await two.reserve("key"), await one.reserve("key")]
    assert [m.retry_after for m in misses] == [None, None]
    clock.now += 15
    refused = await two.reserve("key")
    assert refused.retry_after == 45
    clock.now += 45  # the window ends: guessing may start over
    assert (await one.reserve("key")).retry_after is None
    # A reservation of an ended window given back late does not free the new window.
    await one.give_back(misses[0])
    assert (await two.reserve("key")).retry_after is None
    assert (await two.reserve("key")).retry_after == 60
