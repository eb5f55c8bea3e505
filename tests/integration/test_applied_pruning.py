"""Applied-message ids older than the retention are deleted, page by page, on real SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.applied_pruning import AppliedPruner
from shared.outbox import APPLIED
from shared.outbox import COLLECTIONS as OUTBOX_COLLECTIONS
from shared.settings import Settings
from shared.storage import Store, open_store

NOW = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
KEEP = timedelta(days=30)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(Settings(data_dir=tmp_path), "routing", [*OUTBOX_COLLECTIONS])
    yield opened
    await opened.close()


async def _applied(store: Store, message_id: str, age: timedelta) -> None:
    at = (NOW - age).isoformat()
    await store.insert(APPLIED.name, {"id": message_id, "type": "x", "at": at})


async def test_ids_older_than_the_retention_are_deleted_across_pages(store: Store) -> None:
    # Old and young ids mixed in the order of the ids, over several pages of two.
    ages = {f"m{n:02d}": timedelta(days=40 if n % 3 == 0 else 29) for n in range(11)}
    for message_id, age in ages.items():
        await _applied(store, message_id, age)
    pruner = AppliedPruner(store, KEEP, page=2, pause=0, clock=lambda: NOW)

    assert await pruner.prune() == 4
    kept = sorted(row["id"] for row in await store.find(APPLIED.name))
    assert kept == sorted(m for m, age in ages.items() if age < KEEP)
    assert await pruner.prune() == 0  # nothing old left


async def test_an_id_applied_just_within_the_retention_is_kept(store: Store) -> None:
    await _applied(store, "edge", KEEP - timedelta(seconds=1))
    await _applied(store, "past", KEEP + timedelta(seconds=1))
    pruner = AppliedPruner(store, KEEP, pause=0, clock=lambda: NOW)
    assert await pruner.prune() == 1
    assert [row["id"] for row in await store.find(APPLIED.name)] == ["edge"]
