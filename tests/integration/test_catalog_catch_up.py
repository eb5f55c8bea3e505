"""A new copy of the catalogs catches up from the registry over RPC (``catalog.heads`` and
``catalog.changes``, typed on both sides), the way a new gateway or LAN writer instance does."""

from __future__ import annotations

from pathlib import Path

from shared.catalog import repository as repo
from shared.catalog.replica import CatalogReplica
from shared.messaging.rpc import RpcClient
from shared.outbox import COLLECTIONS as OUTBOX_COLLECTIONS
from shared.outbox import UnitOfWork
from shared.storage.sqlite import SQLiteStore
from tests.support.catalog import product
from tools.client import AccountingClient


async def test_an_empty_copy_catches_up_every_catalog_from_the_registry(
    rpc: RpcClient, accounting: AccountingClient, tenant: dict[str, str], tmp_path: Path
) -> None:
    await accounting.upload_catalog({"products": [product(n) for n in range(1, 13)]})
    await accounting.upload_catalog({"delete": {"products": ["p-1"]}})
    copy = SQLiteStore(tmp_path / "copy.db")
    await copy.open([*OUTBOX_COLLECTIONS, *repo.COPY_COLLECTIONS])
    replica = CatalogReplica(UnitOfWork(copy, None), rpc)

    # Other tests' bases may be on the same registry: this one is among those caught up.
    assert await replica.check(eager=True) >= 1
    covered = await repo.coverage(copy, tenant["tenant"], "")
    assert covered.version == 13
    await copy.close()
