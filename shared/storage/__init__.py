"""Storage port and its adapters; ``open_store`` picks one from the settings."""

from __future__ import annotations

from collections.abc import Sequence

from shared.settings import Settings
from shared.storage.port import (
    Attempts,
    Collection,
    Doc,
    DuplicateKeyError,
    Index,
    JsonText,
    Migration,
    Session,
    StorageError,
    Store,
    StoreTooNew,
    TransactionConflict,
    Where,
)

__all__ = [
    "Attempts",
    "Collection",
    "Doc",
    "DuplicateKeyError",
    "Index",
    "JsonText",
    "Migration",
    "Session",
    "StorageError",
    "Store",
    "StoreTooNew",
    "TransactionConflict",
    "Where",
    "create_store",
    "open_store",
]


def create_store(settings: Settings, service: str) -> Store:
    if settings.store == "mongo":
        from shared.storage.mongo import MongoStore

        return MongoStore(settings.mongo_url, f"{settings.db_prefix}_{service}")
    from shared.storage.sqlite import SQLiteStore

    return SQLiteStore(settings.data_dir / f"{settings.db_prefix}_{service}.sqlite3")


async def open_store(
    settings: Settings,
    service: str,
    collections: Sequence[Collection],
    migrations: Sequence[Migration] = (),
) -> Store:
    store = create_store(settings, service)
    await store.open(collections, migrations)
    return store
