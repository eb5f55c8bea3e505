"""A service's own SQLite store for tests of its use cases without HTTP or broker."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from shared.outbox import COLLECTIONS as OUTBOX_COLLECTIONS
from shared.settings import Settings
from shared.storage import Collection, Store, open_store
from shared.storage.sqlite import SQLiteStore


@asynccontextmanager
async def service_store(
    data_dir: Path, service: str, collections: Sequence[Collection]
) -> AsyncIterator[Store]:
    """The store the service opens at start (its collections and the outbox), in ``data_dir``."""
    store = await open_store(
        Settings(data_dir=data_dir), service, [*OUTBOX_COLLECTIONS, *collections]
    )
    try:
        yield store
    finally:
        await store.close()


def first_commit_locked(store: SQLiteStore) -> list[int]:
    """Make ``store``'s first COMMIT fail as it does when another process kept the write lock
    (the store's ``_commit`` seam); the list returned grows by one at each COMMIT tried."""
    commits: list[int] = []
    real_commit = store._commit

    async def locked_once() -> None:
        commits.append(1)
        if len(commits) == 1:
            raise sqlite3.OperationalError("database is locked")
        await real_commit()

    store._commit = locked_once  # type: ignore[method-assign]
    return commits
