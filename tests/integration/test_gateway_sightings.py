"""Sightings written in batches: every device due in one transaction of the gateway's store,
one ``device.seen`` per base listing its devices to announce; a write that fails is due again."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from services.gateway import repository as repo
from services.gateway.presence import WRITE_EVERY, Presence
from services.gateway.sightings import SightingWriter
from shared.contracts.directory import DeviceSeen
from shared.contracts.envelope import decode
from shared.outbox import COLLECTIONS, OUTBOX, UnitOfWork, stored_envelope
from shared.storage import StorageError
from shared.storage.sqlite import SQLiteStore

T0 = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def _device(device_id: str, tenant: str) -> dict[str, object]:
    return {
        "id": device_id,
        "tenant": tenant,
        "pin": device_id[-4:],
        "name": "EDA50",
        "model": "EDA50",
        "hardware_id": f"hw-{device_id}",
        "mode": "online",
        "status": "active",
        "credential_hash": f"h-{device_id}",
        "revision": 1,
    }


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "gateway.sqlite3")
    await store.open([*COLLECTIONS, *repo.COLLECTIONS])
    devices = [("dev-0001", "trade"), ("dev-0002", "trade"), ("dev-0003", "shop")]
    for device_id, tenant in devices:
        await repo.keep_device_now(store, _device(device_id, tenant))
    yield store
    await store.close()


async def _events(store: SQLiteStore) -> list[tuple[str | None, DeviceSeen]]:
    rows = await store.find(OUTBOX.name, order_by="seq")
    found = []
    for row in rows:
        envelope, payload = decode(orjson.dumps(stored_envelope(row)))
        assert isinstance(payload, DeviceSeen)
        found.append((envelope.tenant, payload))
    return found


async def test_the_sightings_due_are_written_in_one_transaction_and_one_event_per_base(
    store: SQLiteStore,
) -> None:
    presence = Presence()
    for n, (device_id, tenant) in enumerate(
        [("dev-0001", "trade"), ("dev-0002", "trade"), ("dev-0003", "shop")]
    ):
        presence.saw(device_id, tenant, T0 + timedelta(seconds=n))
    commits: list[int] = []
    real_commit = store._commit

    async def counted() -> None:
        commits.append(1)
        await real_commit()

    store._commit = counted  # type: ignore[method-assign]
    writer = SightingWriter(UnitOfWork(store, relay=None), presence)

    assert await writer.flush() == 3
    assert len(commits) == 1
    for n, device_id in enumerate(("dev-0001", "dev-0002", "dev-0003")):
        copy = await repo.device(store, device_id)
        assert copy is not None and copy.last_seen == (T0 + timedelta(seconds=n)).isoformat()
    events = {tenant: seen for tenant, seen in await _events(store)}
    assert {s.device_id for s in events["trade"].sightings} == {"dev-0001", "dev-0002"}
    assert [(s.device_id, s.at) for s in events["shop"].sightings] == [
        ("dev-0003", T0 + timedelta(seconds=2))
    ]
    # Nothing due any more: the next interval writes nothing.
    assert await writer.flush() == 0
    assert len(commits) == 1


async def test_a_write_that_fails_is_due_again_and_written_by_the_next_interval(
    store: SQLiteStore,
) -> None:
    presence = Presence()
    presence.saw("dev-0001", "trade", T0)
    real_commit = store._commit

    async def locked() -> None:
        raise sqlite3.OperationalError("disk I/O error")

    store._commit = locked  # type: ignore[method-assign]
    writer = SightingWriter(UnitOfWork(store, relay=None), presence)
    with pytest.raises(StorageError):
        await writer.flush()
    copy = await repo.device(store, "dev-0001")
    assert copy is not None and copy.last_seen is None
    assert await store.count(OUTBOX.name) == 0

    store._commit = real_commit  # type: ignore[method-assign]
    assert await writer.flush() == 1
    copy = await repo.device(store, "dev-0001")
    assert copy is not None and copy.last_seen == T0.isoformat()
    assert [tenant for tenant, _ in await _events(store)] == ["trade"]


async def test_stopping_writes_what_is_due(store: SQLiteStore) -> None:
    presence = Presence()
    writer = SightingWriter(UnitOfWork(store, relay=None), presence, every=3600)
    writer.start()
    presence.saw("dev-0003", "shop", T0)
    await writer.stop()
    copy = await repo.device(store, "dev-0003")
    assert copy is not None and copy.last_seen == T0.isoformat()


async def test_a_contact_the_others_know_of_is_written_without_an_event(store: SQLiteStore) -> None:
    presence = Presence()
    writer = SightingWriter(UnitOfWork(store, relay=None), presence)
    presence.saw("dev-0001", "trade", T0)
    presence.saw("dev-0002", "trade", T0)
    assert await writer.flush() == 2
    assert len(await _events(store)) == 1  # both first seen: announced together
    later = T0 + WRITE_EVERY
    presence.told("dev-0001", later - timedelta(seconds=1))  # its download told the others
    presence.saw("dev-0001", "trade", later)
    assert await writer.flush() == 1
    copy = await repo.device(store, "dev-0001")
    assert copy is not None and copy.last_seen == later.isoformat()
    assert len(await _events(store)) == 1  # nothing more announced
