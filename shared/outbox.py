"""State change and the events it causes, committed together; events relayed afterwards.

A handler writes its state and ``emit``s its events in one transaction (the outbox). The relay
publishes outbox rows with publisher confirms and deletes each one only after the broker
confirmed it, so a crash at any point re-sends rather than loses. Consumers deduplicate by
envelope id, so a re-send is harmless.

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


class OutboxRelay:
    def __init__(
        self, store: Store, broker: Broker, *, batch: int = 200, idle_poll: float = 1.0
    ) -> None:
        self.id = uuid.uuid4().hex
        self._store = store
        self._broker = broker
        self._batch = batch
        self._idle_poll = idle_poll
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

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

    async def _run(self) -> None:
        backoff = 0.1
        while not self._stopping:
            # Cleared before the rows are read, not after they are sent: a commit that wakes
            # the relay while it publishes is then seen at once, not at the next poll (1 s).
            self._wake.clear()
            try:
                sent = await self.relay_once()
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
                with suppress(TimeoutError):
                    # The poll catches rows committed by another process sharing the store.
                    await asyncio.wait_for(self._wake.wait(), timeout=self._idle_poll)

    async def relay_once(self) -> int:
        # Rows may be large events (a catalog's changes: some 15,000 containers per MiB read
        # back); the collector's passes over them cost the relay more than reading them did.
        # Their references free them all when the batch is done (shared/collector.py); a
        # publish gives up after its timeout, so the hold never outlasts a batch's sends.
        with collector_held():
            return await self._relay_batch()

    async def _relay_batch(self) -> int:
        found = await self._store.find(OUTBOX.name, order_by="seq", limit=self._batch)
        orphaned = (time.time_ns() // 1000 - ORPHANED_AFTER_US) * 1000
        rows = [r for r in found if r.get("relay") in (self.id, None) or r["seq"] < orphaned]
        if not rows:
            return 0
        # Publishes are pipelined on one channel, so the broker keeps their order.
        await asyncio.gather(
            *(
                self._broker.publish_stored(row["envelope"], row["routing_key"], row.get("trace"))
                for row in rows
            )
        )
        if len(rows) == 1:
            await self._store.delete(OUTBOX.name, rows[0]["id"])
        else:  # one commit for the batch: a crash before it re-sends them all, as before
            async with self._store.transaction() as db:
                for row in rows:
                    await db.delete(OUTBOX.name, row["id"])
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
        async with self._store.transaction() as db:
            tx = await self._begin(db, applying)
            yield tx
        self._committed(tx)

    async def run(self, work: Callable[[Tx], Awaitable[T]], applying: Envelope | None = None) -> T:
        """``work`` in one transaction with its outbox (and the message's idempotency record),
        run again whole, on fresh reads, if the store aborted it for a conflict."""
        last: list[Tx] = []

        async def attempt(db: Session) -> T:
            tx = await self._begin(db, applying)
            last[:] = [tx]  # an aborted attempt's events are dropped with it
            return await work(tx)

        result = await self._store.run_transaction(attempt)
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

    def _committed(self, tx: Tx) -> None:
        if self._relay is not None and tx.emitted:
            self._relay.wake()

    async def was_applied(self, envelope: Envelope) -> bool:
        return await self._store.get(APPLIED.name, envelope.id) is not None
