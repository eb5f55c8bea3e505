"""WAL checkpoints of the SQLite store run on a worker thread every so many writes, not in the
commit that crosses SQLite's own threshold (shared/storage/checkpoints.py)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from shared.storage import Collection
from shared.storage.checkpoints import BACKSTOP_PAGES, CHECKPOINT_EVERY
from shared.storage.sqlite import SQLiteStore

ROWS = Collection("rows")


def _size(path: Path) -> int:
    return path.stat().st_size


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


async def test_the_wal_starts_over_under_writes_that_never_pause(tmp_path: Path) -> None:
    """A checkpoint's first pass runs beside the writes and leaves those written meanwhile
    behind; its second, holding the store's lock, copies them too, so that the WAL starts over
    instead of growing to SQLite's own backstop (BACKSTOP_PAGES, 16 MB here)."""
    path = tmp_path / "store.sqlite3"
    store = SQLiteStore(path)
    await store.open([ROWS])
    writes = 15 * CHECKPOINT_EVERY  # about 6,000 pages: past the backstop if never started over
    try:
        for n in range(writes):
            await store.put(ROWS.name, {"id": f"r{n}", "text": "x" * 3000})
            await asyncio.sleep(0.002)  # steady, as a service's writes come: never a pause
        assert await store.count(ROWS.name) == writes
        # The WAL's file keeps its largest size: a checkpoint's worth of pages or two.
        assert _size(tmp_path / "store.sqlite3-wal") < BACKSTOP_PAGES * 4096 // 4
    finally:
        await store.close()
