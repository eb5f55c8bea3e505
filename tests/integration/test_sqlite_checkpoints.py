"""WAL checkpoints of the SQLite store run on a worker thread every so many writes, not in the
commit that crosses SQLite's own threshold (shared/storage/checkpoints.py)."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from shared.storage import Collection
from shared.storage.checkpoints import CHECKPOINT_EVERY, Checkpointer
from shared.storage.sqlite import SQLiteStore

ROWS = Collection("rows")


def _size(path: Path) -> int:
    return path.stat().st_size


def _times_started_over(wal: Path) -> int:
    """The WAL header's checkpoint sequence number: SQLite adds one each time the WAL starts
    over (its file format, bytes 12-15, big-endian)."""
    with wal.open("rb") as file:
        return int.from_bytes(file.read(16)[12:16], "big")


async def _file_grows(path: Path, beyond: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if _size(path) > beyond:
            return True
        await asyncio.sleep(0.01)
    return False


async def test_the_wal_is_copied_into_the_database_once_enough_writes_are_committed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.sqlite3"
    store = SQLiteStore(path)
    await store.open([ROWS])
    try:
        empty = _size(path)
        # Short of the checkpoint's turn (and far below SQLite's own 1,000 pages): all in the WAL.
        for n in range(CHECKPOINT_EVERY - 1):
            async with store.transaction() as tx:
                await tx.insert(ROWS.name, {"id": f"r{n}", "text": "x" * 200})
        assert not await _file_grows(path, empty, within=0.2)
        await store.put(ROWS.name, {"id": "last", "text": "x" * 200})  # a write on its own
        assert await _file_grows(path, empty, within=10.0)
        assert await store.count(ROWS.name) == CHECKPOINT_EVERY
    finally:
        await store.close()


async def test_closing_the_store_waits_for_a_running_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    store = SQLiteStore(path)
    await store.open([ROWS])
    for n in range(CHECKPOINT_EVERY):
        await store.put(ROWS.name, {"id": f"r{n}"})
    await store.close()  # no thread left behind with a connection to a closed store
    reopened = SQLiteStore(path)
    await reopened.open([ROWS])
    try:
        assert await reopened.count(ROWS.name) == CHECKPOINT_EVERY
    finally:
        await reopened.close()


async def test_the_wal_starts_over_though_writes_come_during_the_first_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkpoint's first pass runs beside the process's writes and leaves behind what they
    write meanwhile (here, every time: each first pass waits for one of them before it
    ends); its second, holding the store's lock, copies that too, so that the WAL starts over
    instead of growing to SQLite's own backstop (4,000 pages, 16 MB)."""
    path = tmp_path / "store.sqlite3"
    store = SQLiteStore(path)
    await store.open([ROWS])
    a_write, writing_done = threading.Event(), threading.Event()
    met_a_write: list[bool] = []
    wrote, in_thread, checkpoint = (
        Checkpointer.wrote,
        Checkpointer._in_thread,
        Checkpointer._checkpoint,
    )
    locked_pass = False

    def noting_writes(self: Checkpointer) -> None:
        a_write.set()
        wrote(self)

    async def noting_the_lock(self: Checkpointer) -> None:
        nonlocal locked_pass
        # On the event loop's thread the store's lock is seen held only by a checkpoint's
        # own pass: a statement holds it without a pause.
        locked_pass = self._lock.locked()
        await in_thread(self)

    def with_a_write_meanwhile(self: Checkpointer) -> None:
        checkpoint(self)
        if not locked_pass:  # beside the writes: one lands after this pass's copy
            a_write.clear()
            deadline = time.monotonic() + 5
            while not a_write.wait(0.01):
                if writing_done.is_set() or time.monotonic() > deadline:
                    met_a_write.append(False)
                    return
            met_a_write.append(True)

    monkeypatch.setattr(Checkpointer, "wrote", noting_writes)
    monkeypatch.setattr(Checkpointer, "_in_thread", noting_the_lock)
    monkeypatch.setattr(Checkpointer, "_checkpoint", with_a_write_meanwhile)
    writes = 15 * CHECKPOINT_EVERY  # about 6,000 pages: past the backstop if never started over
    try:
        for n in range(writes):
            await store.put(ROWS.name, {"id": f"r{n}", "text": "x" * 3000})
            await asyncio.sleep(0)  # the checkpoints' turn, as between a service's messages
        writing_done.set()  # the last first pass waits no longer
        assert met_a_write.count(True) >= 5  # first passes ran, and writes came during them
        assert await store.count(ROWS.name) == writes
        # Started over after (nearly) every checkpoint, not only at SQLite's backstop (which
        # about 6,000 pages reach once).
        assert _times_started_over(tmp_path / "store.sqlite3-wal") >= 8
    finally:
        writing_done.set()
        await store.close()
