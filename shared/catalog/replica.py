"""A service's own copy of every base's catalog (the gateway and the LAN writer keep one), so
a terminal's sync reads only its own store and never waits on another service.

The copy is kept by ``catalog.changed`` messages, applied once each (applied-messages rule),
an item only over an older version of it, and their version ranges recorded, so the copy
serves terminals only the versions below which nothing is missing. A copy that is empty or
behind (a new instance, a store restored from a backup, a message parked) catches up by
itself: at start-up, and whenever it stays behind the owner between two checks, it asks the
registry for the changes after its version, one bounded page at a time.
"""

from __future__ import annotations

import asyncio

from shared.catalog import chunks
from shared.catalog import repository as repo
from shared.catalog.versions import Coverage, newer
from shared.collector import collector_held
from shared.contracts import Envelope
from shared.contracts import registry_rpc as registry
from shared.contracts.catalog import CatalogChanged, PlainChanges
from shared.contracts.registry_rpc import Registry
from shared.contracts.rpc import NoParams
from shared.logging import get_logger
from shared.messaging.broker import BrokerUnavailable
from shared.messaging.rpc import RpcClient, RpcTimeout
from shared.outbox import UnitOfWork
from shared.storage import Session, StorageError
from shared.tasks import cancel_and_wait

log = get_logger("tsdx.catalog")

# Rows a copy asks for in one catch-up call (the answer is cut at the message byte cap too).
CATCH_UP_ROWS = 5000


async def apply_changes(db: Session, tenant: str, changed: CatalogChanged | PlainChanges) -> int:
    """Write the items newer than what the copy has, and record the versions covered;
    returns how many items were written."""
    with collector_held():
        return await _apply(db, tenant, changed)


async def _apply(db: Session, tenant: str, changed: CatalogChanged | PlainChanges) -> int:
    rows = chunks.rows_of(changed)
    stored = await repo.items(db, tenant, changed.store, [(r["kind"], r["item_id"]) for r in rows])
    fresh = [
        r
        for r in rows
        if newer(r["version"], (stored.get((r["kind"], r["item_id"])) or {}).get("version"))
    ]
    await repo.put_items(db, tenant, changed.store, fresh)
    covered = await repo.coverage(db, tenant, changed.store)
    await repo.put_coverage(db, tenant, changed.store, covered.cover(changed.first, changed.last))
    return len(fresh)


class CatalogReplica:
    def __init__(self, uow: UnitOfWork, rpc: RpcClient, check_seconds: float = 60.0) -> None:
        self._uow = uow
        self._rpc = rpc
        self._check_seconds = check_seconds
        self._task: asyncio.Task[None] | None = None
        # What each catalog's version was at the last check, to tell "behind" from "busy".
        self._last_seen: dict[tuple[str, str], int] = {}

    async def changed(self, envelope: Envelope, changed: PlainChanges) -> None:
        """Handler of ``catalog.changed``, read by :class:`PlainChanges`."""
        async with self._uow(applying=envelope) as tx:
            await apply_changes(tx.db, envelope.tenant or "", changed)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="catalog-catch-up")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)

    async def _run(self) -> None:
        first = True
        while True:
            try:
                await self.check(eager=first)
                first = False
            except (BrokerUnavailable, RpcTimeout, StorageError) as exc:
                log.warning("catalog.catch_up_failed", error=str(exc))
            except Exception:
                log.exception("catalog.catch_up_error")
            await asyncio.sleep(self._check_seconds)

    async def check(self, *, eager: bool = False) -> int:
        """Catch up every catalog this copy is behind on: at once when ``eager``, else only
        those that made no progress since the last check (the messages may just be on their
        way). Returns how many catalogs were caught up."""
        heads = await Registry(self._rpc).catalog_heads(NoParams())
        caught = 0
        for head in heads:
            ref = (head.tenant, head.store)
            async with self._uow() as tx:
                covered = await repo.coverage(tx.db, *ref)
            behind = covered.version < head.version
            stuck = self._last_seen.get(ref) == covered.version
            self._last_seen[ref] = covered.version
            if behind and (eager or stuck):
                await self.catch_up(ref[0], ref[1], covered)
                caught += 1
        return caught

    async def catch_up(self, tenant: str, store: str, covered: Coverage) -> None:
        since = covered.version
        log.info("catalog.catching_up", tenant=tenant, store=store, since=since)
        while True:
            asked = registry.CatalogSince(store=store, since=since, limit=CATCH_UP_ROWS)
            changed = await Registry(self._rpc, tenant).catalog_changes(asked)
            if changed is None:
                return
            async with self._uow() as tx:
                await apply_changes(tx.db, tenant, changed)
            since = changed.last
