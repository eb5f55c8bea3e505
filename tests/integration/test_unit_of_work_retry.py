"""A unit of work with an outbox, run again whole after the store aborted it for a conflict:
its state, its events and the message's idempotency record are each committed once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.contracts import wrap
from shared.contracts.directory import DeviceSeen, Sighting
from shared.outbox import APPLIED, COLLECTIONS, OUTBOX, AlreadyApplied, Tx, UnitOfWork
from shared.storage import Collection
from shared.storage.sqlite import SQLiteStore
from tests.support.stores import first_commit_locked

SEEN = Collection("seen")


async def test_a_conflict_reruns_the_unit_and_its_events_are_kept_once(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "uow.sqlite3")
    await store.open([*COLLECTIONS, SEEN])
    commits = first_commit_locked(store)
    uow = UnitOfWork(store, relay=None)
    message = wrap(DeviceSeen(sightings=[Sighting(device_id="d1", at=datetime.now(UTC))]), "t1")
    runs: list[int] = []

    async def work(tx: Tx) -> str:
        runs.append(1)
        await tx.db.insert(SEEN.name, {"id": "d1", "at": "now"})
        await tx.emit(DeviceSeen(sightings=[Sighting(device_id="d1", at=datetime.now(UTC))]), "t1")
        return "ok"

    try:
        assert await uow.run(work, applying=message) == "ok"
        assert len(runs) == 2 and len(commits) == 2
        assert await store.count(SEEN.name) == 1
        assert await store.count(OUTBOX.name) == 1
        assert await store.get(APPLIED.name, message.id) is not None
        with pytest.raises(AlreadyApplied):  # the same message again changes nothing
            await uow.run(work, applying=message)
        assert await store.count(OUTBOX.name) == 1
    finally:
        await store.close()
