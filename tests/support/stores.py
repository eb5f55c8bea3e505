"""A service's own SQLite store for tests of its use cases without HTTP or broker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from shared.outbox import COLLECTIONS as OUTBOX_COLLECTIONS
from shared.settings import Settings
from shared.storage import Collection, Store, open_store


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
