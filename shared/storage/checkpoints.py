"""WAL checkpoints of a SQLite store, on a worker thread instead of in a commit.

Left to itself, SQLite checkpoints the WAL in the commit that takes it past its threshold: that
commit copies the pages into the database file and waits for the disk to sync them, on the
event loop's thread, so every request and message of the process waits with it (tens of ms,
at times more than 100, on this project's machines). The store tells :class:`Checkpointer` of
its writes instead; every ``every`` writes it checkpoints on a worker thread with a connection
of its own, in two passes:

- the first runs beside the process's statements, which go on meanwhile: it copies the bulk of
  the pages (routing's 100 writes are about a thousand, 10-22 ms of copying under load, which
  every statement of the process used to wait out);
- the second holds the store's lock, so that no write of this process comes in between, and
  copies what was written during the first (a few pages, and the WAL and the file synced:
  0.6-0.9 ms on a quiet disk): with every frame copied, the next write starts the WAL over.
  SQLite starts it over only at a write that finds every frame copied; under steady writes a
  pass running beside them mostly leaves some behind, and the WAL would grow to the backstop.

SQLite's own checkpoint stays, at :data:`BACKSTOP_PAGES`, for a WAL that grows faster than that.
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from shared.logging import get_logger

log = get_logger("tsdx.storage")

# Writes (commits, and statements outside a transaction) between two checkpoints: a few
# hundred pages for the small rows of the message flow (routing's, with their indexes, about a
# thousand), about what SQLite's own checkpoint (1,000 pages by default) let grow.
CHECKPOINT_EVERY = 100
# SQLite's own checkpoint, in the commit, once the WAL holds this many pages (16 MB of 4 kB
# pages): only large writes coming faster than the checkpoints above reach it.
BACKSTOP_PAGES = 4000


class Checkpointer:
    def __init__(self, path: Path, lock: asyncio.Lock, every: int = CHECKPOINT_EVERY) -> None:
        self._path = path
        self._lock = lock  # the store's: held by the second pass, no statement runs meanwhile
        self._every = every
        self._writes = 0
        self._running: asyncio.Task[None] | None = None
        # A thread of its own: the second pass holds the store's lock from the moment it is
        # due, so it must never wait in a queue behind other work of the process's default pool.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-checkpoint")
        self._work: asyncio.Future[None] | None = None  # the thread's checkpoint, while it runs
        self._db: sqlite3.Connection | None = None  # used by that thread only
        self._closed = False

    def wrote(self) -> None:
        """One more write committed; starts a checkpoint when one is due and none runs."""
        self._writes += 1
        if self._writes < self._every or self._running is not None or self._closed:
            return
        self._writes = 0
        self._running = asyncio.create_task(self._run(), name="sqlite-checkpoint")
        self._running.add_done_callback(self._done)

    async def _run(self) -> None:
        await self._in_thread()
        async with self._lock:
            await self._in_thread()

    async def _in_thread(self) -> None:
        self._work = asyncio.get_running_loop().run_in_executor(self._thread, self._checkpoint)
        await self._work

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running = None
        if not task.cancelled() and task.exception() is not None:
            log.warning("storage.checkpoint_failed", store=str(self._path), error=task.exception())

    def _checkpoint(self) -> None:
        if self._db is None:
            self._db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA busy_timeout=0")
        try:
            # A checkpoint another process is running makes this one busy (in its result row,
            # or raised as locked or busy): the next one catches up.
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise

    async def close(self) -> None:
        """Wait for a running checkpoint (its thread's work too, even if its task was
        cancelled), then close its connection."""
        self._closed = True
        if self._running is not None:
            await asyncio.wait([self._running])
        if self._work is not None:
            await asyncio.wait([self._work])
        self._thread.shutdown(wait=True)
        if self._db is not None:
            self._db.close()
            self._db = None
