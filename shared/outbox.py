"""State change and the events it causes, committed together; events relayed afterwards.

A handler writes its state and ``emit``s its events in one transaction (the outbox). The relay
publishes outbox rows with publisher confirms and deletes each one only after the broker
confirmed it, so a crash at any point re-sends rather than loses. Consumers deduplicate by
envelope id, so a re-send is harmless.

The delete of a published row rides on the process's next transaction (:class:`UnitOfWork`
takes them), so that a document's flow pays no commit of its own for it; when no transaction
comes soon, or too many are waiting, the relay deletes them in one commit itself. A row
published and not yet deleted when the process dies is sent again, as above.

The same transaction records the id of the message being applied (``applied_messages``);
a redelivered message finds its id there and changes nothing.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from typing import Any, TypeVar

from shared.collector import collector_held
from shared.contracts import Envelope, Payload, as_json, wrap
from shared.contracts.envelope import wrap_json
from shared.logging import get_logger
from shared.messaging import tracing
from shared.messaging.broker import Broker, BrokerUnavailable
from shared.storage import Collection, DuplicateKeyError, Index, Session, StorageError, Store

log = get_logger("tsdx.outbox")

T = TypeVar("T")

OUTBOX = Collection("outbox", (Index(("seq",)),))
APPLIED = Collection("applied_messages")
COLLECTIONS = (OUTBOX, APPLIED)

_counter = itertools.count()


class AlreadyApplied(Exception):
    """The message was applied before; its effects are already committed."""


class Tx:
    """A transaction with an outbox: ``db`` for state, ``emit`` for the events it causes."""

    def __init__(self, db: Session, relay_id: str | None = None) -> None:
        self.db = db
        self.emitted: list[Envelope] = []
        # Outbox rows the relay published, deleted by this transaction (UnitOfWork).
        self.published: list[str] = []
        self._relay_id = relay_id

    async def emit(
        self, payload: Payload, tenant: str | None, correlation_id: str | None = None
    ) -> Envelope:
        return await self._put(wrap(payload, tenant, correlation_id), payload.routing_key())

    async def emit_json(
        self, kind: type[Payload], body: dict[str, Any], tenant: str | None
    ) -> Envelope:
        """Emit a payload of ``kind`` given as its JSON (shared.contracts.envelope.wrap_json);
        it is routed by its type, so a kind that routes by its content cannot come this way."""
        if kind.routing_key is not Payload.routing_key:
            raise TypeError(f"{kind.TYPE} is routed by its content: emit the model")
        return await self._put(wrap_json(kind, body, tenant), kind.TYPE)

    async def emit_dumped(
        self, payload: Payload, body: dict[str, Any], tenant: str | None
    ) -> Envelope:
        """Emit ``payload`` given also as ``body``, its JSON, which the sender assembled from
        parts it had dumped already for a use of its own (routing's documents, dumped once
        for their stored body and for ``document.routed``); routed as ``payload`` is."""
        return await self._put(wrap_json(type(payload), body, tenant), payload.routing_key())

    async def _put(self, envelope: Envelope, routing_key: str) -> Envelope:
        # time + process-local counter keeps the relay's order stable within a process.
        seq = time.time_ns() // 1000 * 1000 + next(_counter) % 1000
        row = {
            "id": envelope.id,
            "seq": seq,
            "routing_key": routing_key,
            # The relay of this process sends it; another takes over if it is left behind.
            "relay": self._relay_id,
            "envelope": as_json(envelope),
        }
        trace = tracing.current_context()  # the relay publishes later, outside this span
        if trace:
            row["trace"] = trace
        await self.db.insert(OUTBOX.name, row)
        self.emitted.append(envelope)
        return envelope


# A row its own relay has not sent after this long was left by a process that died: any
# instance's relay sends it. Before that, instances sharing a store leave each other's rows be.
ORPHANED_AFTER_US = 5_000_000
# Published rows wait this long for a transaction to delete them with its own writes, and at
# most this many: then the relay deletes them in a commit of its own. Both keep the rows well
# inside ORPHANED_AFTER_US, so that another instance never sends them again, and few enough
# that they never crowd the relay's next batch out of its read.
DELETE_RIDES_SECONDS = 0.25
DELETE_RIDES_AT_MOST = 64


class OutboxRelay:
    def __init__(
        self,
        store: Store,
        broker: Broker,
        *,
        batch: int = 200,
        idle_poll: float = 1.0,
        delete_rides: float = DELETE_RIDES_SECONDS,
    ) -> None:
        self.id = uuid.uuid4().hex
        self._store = store
        self._broker = broker
        self._batch = batch
        self._idle_poll = idle_poll
        self._delete_rides = delete_rides
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # Rows published and not yet deleted, by id (in publishing order): never sent again by
        # this relay; deleted by the next transaction (take_published) or by delete_published.
        self._published: dict[str, None] = {}
        # Those a transaction took and has not yet committed: each row is deleted by one
        # transaction at a time (two deleting the same row would conflict in MongoDB).
        self._taken: set[str] = set()

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=10)
        with suppress(Exception):  # left behind, they are sent again by the next start
            await self.delete_published()

    def published(self) -> list[str]:
        """The ids of rows published and not yet deleted."""
        return list(self._published)

    def take_published(self) -> list[str]:
        """The ids of published rows for a transaction to delete: ``deleted`` once it
        committed, ``not_deleted`` if it did not."""
        ids = [id for id in self._published if id not in self._taken]
        self._taken.update(ids)
        return ids

    def deleted(self, ids: list[str]) -> None:
        for id in ids:
            self._published.pop(id, None)
            self._taken.discard(id)

    def not_deleted(self, ids: list[str]) -> None:
        self._taken.difference_update(ids)

    async def delete_published(self) -> None:
        """Delete the published rows no transaction took, in one commit."""
        ids = self.take_published()
        if not ids:
            return
        try:
            if len(ids) == 1:
                await self._store.delete(OUTBOX.name, ids[0])
            else:  # one commit for them all: a crash before it re-sends them all
                async with self._store.transaction() as db:
                    for id in ids:
                        await db.delete(OUTBOX.name, id)
        except BaseException:
            self.not_deleted(ids)
            raise
        self.deleted(ids)

    async def _run(self) -> None:
        backoff = 0.1
        while not self._stopping:
            # Cleared before the rows are read, not after they are sent: a commit that wakes
            # the relay while it publishes is then seen at once, not at the next poll (1 s).
            self._wake.clear()
            try:
                sent = await self._publish_batch()
                backoff = 0.1
            except Exception as exc:
                # Never let the relay die: the rows stay in the outbox and are tried again.
                if isinstance(exc, BrokerUnavailable | StorageError):
                    log.warning("outbox.relay_failed", error=str(exc), retry_in=backoff)
                else:
                    log.exception("outbox.relay_error", retry_in=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if sent < self._batch:
                await self._wait_for_work()

    async def _wait_for_work(self) -> None:
        # The poll catches rows committed by another process sharing the store.
        timeout = self._idle_poll
        if self._published:
            # Published rows wait a moment for a transaction to delete them with its writes.
            timeout = min(timeout, self._delete_rides)
        with suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=timeout)
            return
        try:
            await self.delete_published()
        except StorageError as exc:  # they stay published and are tried again
            log.warning("outbox.delete_failed", error=str(exc))

    async def relay_once(self) -> int:
        """Publish a batch and delete what was published (the relay's loop leaves the deletes
        to the next transaction instead)."""
        sent = await self._publish_batch()
        await self.delete_published()
        return sent

    async def _publish_batch(self) -> int:
        # Rows may be large events (a catalog's changes: some 15,000 containers per MiB read
        # back); the collector's passes over them cost the relay more than reading them did.
        # Their references free them all when the batch is done (shared/collector.py); a
        # publish gives up after its timeout, so the hold never outlasts a batch's sends.
        with collector_held():
            return await self._relay_batch()

    async def _relay_batch(self) -> int:
        if len(self._published) >= DELETE_RIDES_AT_MOST:
            await self.delete_published()
        found = await self._store.find(
            OUTBOX.name, order_by="seq", limit=self._batch + len(self._published)
        )
        orphaned = (time.time_ns() // 1000 - ORPHANED_AFTER_US) * 1000
        rows = [
            r
            for r in found
            if r["id"] not in self._published
            and (r.get("relay") in (self.id, None) or r["seq"] < orphaned)
        ][: self._batch]
        if not rows:
            return 0
        # Publishes are pipelined on one channel, so the broker keeps their order.
        await asyncio.gather(
            *(
                self._broker.publish_stored(row["envelope"], row["routing_key"], row.get("trace"))
                for row in rows
            )
        )
        for row in rows:
            self._published[row["id"]] = None
        return len(rows)


class UnitOfWork:
    """Opens transactions that carry an outbox and, for a message, its idempotency record."""

    def __init__(self, store: Store, relay: OutboxRelay | None) -> None:
        self._store = store
        self._relay = relay

    @asynccontextmanager
    async def __call__(self, applying: Envelope | None = None) -> AsyncIterator[Tx]:
        """One attempt; a conflict with another transaction ends it in TransactionConflict.
        Prefer :meth:`run`, which runs the unit again."""
        tx: Tx | None = None
        try:
            async with self._store.transaction() as db:
                tx = await self._begin(db, applying)
                await self._delete_published(tx)
                yield tx
        except BaseException:
            if tx is not None:
                self._rolled_back(tx)
            raise
        self._committed(tx)

    async def run(self, work: Callable[[Tx], Awaitable[T]], applying: Envelope | None = None) -> T:
        """``work`` in one transaction with its outbox (and the message's idempotency record),
        run again whole, on fresh reads, if the store aborted it for a conflict."""
        last: list[Tx] = []

        async def attempt(db: Session) -> T:
            if last:  # the attempt before was aborted
                self._rolled_back(last[0])
            tx = await self._begin(db, applying)
            last[:] = [tx]  # an aborted attempt's events are dropped with it
            await self._delete_published(tx)
            return await work(tx)

        try:
            result = await self._store.run_transaction(attempt)
        except BaseException:
            if last:
                self._rolled_back(last[0])
            raise
        self._committed(last[0])
        return result

    async def _begin(self, db: Session, applying: Envelope | None) -> Tx:
        if applying is not None:
            try:
                await db.insert(
                    APPLIED.name,
                    {"id": applying.id, "type": applying.type, "at": datetime.now(UTC).isoformat()},
                )
            except DuplicateKeyError:
                raise AlreadyApplied(applying.id) from None
        return Tx(db, self._relay.id if self._relay is not None else None)

    async def _delete_published(self, tx: Tx) -> None:
        # The relay's published rows go with this transaction's writes: no commit of their own.
        if self._relay is not None:
            tx.published = self._relay.take_published()
            for id in tx.published:
                await tx.db.delete(OUTBOX.name, id)

    def _rolled_back(self, tx: Tx) -> None:
        if self._relay is not None:
            self._relay.not_deleted(tx.published)

    def _committed(self, tx: Tx) -> None:
        if self._relay is None:
            return
        self._relay.deleted(tx.published)
        if tx.emitted:
            self._relay.wake()

    async def was_applied(self, envelope: Envelope) -> bool:
        return await self._store.get(APPLIED.name, envelope.id) is not None
