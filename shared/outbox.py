"""State change and the events it causes, committed together; events relayed afterwards.

A handler writes its state and ``emit``s its events in one transaction (the outbox). The relay
publishes outbox rows with publisher confirms and deletes each one only after the broker
confirmed it, so a crash at any point re-sends rather than loses. Consumers deduplicate by
envelope id, so a re-send is harmless.

A row keeps the envelope's JSON as it is sent (dumped once, when it is emitted; written into
the row as it is: ``JsonText``, embedded by SQLite, text in MongoDB) and, beside it, the fields
the message's properties take. The relay is handed the rows a transaction
of its process committed and sends them from memory, in commit order, later transactions while
earlier batches await their confirms; it reads the outbox only for the rest (rows of a process
that died, rows it let go of: :mod:`shared.outbox_relay`).

The same transaction records the id of the message being applied (``applied_messages``);
a redelivered message finds its id there and changes nothing.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from shared.contracts import Envelope, Payload, encode, wrap
from shared.contracts.envelope import wrap_json
from shared.logging import get_logger
from shared.messaging import tracing
from shared.storage import Collection, Doc, DuplicateKeyError, Index, JsonText, Session, Store

if TYPE_CHECKING:  # the relay imports this module's rows
    from shared.outbox_relay import OutboxRelay

T = TypeVar("T")

log = get_logger("tsdx.outbox")

OUTBOX = Collection("outbox", (Index(("seq",)),))
APPLIED = Collection("applied_messages")
COLLECTIONS = (OUTBOX, APPLIED)

_counter = itertools.count()


class AlreadyApplied(Exception):
    """The message was applied before; its effects are already committed."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """An event in the outbox as the relay publishes it: the envelope's JSON as it is sent, and
    its properties (id, type, tenant, correlation id, trace) kept beside it. Sent from memory it
    is never parsed; a row the poll reads back from SQLite comes parsed (the JSON was embedded)
    and is dumped again, to the same bytes: the poll serves only rows left behind."""

    id: str
    seq: int
    routing_key: str
    relay: str | None  # the relay of the process that wrote it
    body: bytes
    type: str
    correlation_id: str
    tenant: str | None
    trace: Mapping[str, Any] | None

    def row(self) -> Doc:
        row: Doc = {
            "id": self.id,
            "seq": self.seq,
            "routing_key": self.routing_key,
            "relay": self.relay,
            "type": self.type,
            "correlation_id": self.correlation_id,
            "tenant": self.tenant,
            "body": JsonText(self.body),  # written as it is, never made a str
        }
        if self.trace:
            row["trace"] = self.trace
        return row

    @classmethod
    def from_row(cls, row: Doc) -> Outgoing:
        """Any shape: the body as the JSON value SQLite embedded, as the text MongoDB kept
        (``JsonText``), as written (a store that keeps the row's objects), or the envelope as
        a dict (rows of older releases)."""
        if "body" in row:
            stored, properties = row["body"], row
            if isinstance(stored, JsonText):
                body = stored.data
            elif isinstance(stored, str):
                body = stored.encode()
            else:
                body = orjson.dumps(stored)
        else:
            body, properties = orjson.dumps(row["envelope"]), row["envelope"]
        return cls(
            id=row["id"],
            seq=row["seq"],
            routing_key=row["routing_key"],
            relay=row.get("relay"),
            body=body,
            type=properties["type"],
            correlation_id=properties["correlation_id"],
            tenant=properties.get("tenant"),
            trace=row.get("trace"),
        )


def stored_envelope(row: Doc) -> dict[str, Any]:
    """The envelope an outbox row holds, as JSON values (for a reader that looks inside)."""
    envelope: dict[str, Any] = orjson.loads(Outgoing.from_row(row).body)
    return envelope


class Tx:
    """A transaction with an outbox: ``db`` for state, ``emit`` for the events it causes."""

    def __init__(self, db: Session, relay_id: str | None = None) -> None:
        self.db = db
        self.emitted: list[Outgoing] = []
        self._relay_id = relay_id
        self._to_tell: list[Callable[[], None]] = []

    def once_committed(self, tell: Callable[[], None]) -> None:
        """``tell`` (a counter, a log line) once the transaction committed: an attempt the
        store aborted, then run again, would otherwise tell it twice, and one that fails
        would tell what did not happen."""
        self._to_tell.append(tell)

    def tell_committed(self) -> None:
        """Tell what was to be told once committed (the unit of work calls it, once). A
        telling that fails is logged: what it tells of has happened all the same."""
        told, self._to_tell = self._to_tell, []
        for tell in told:
            try:
                tell()
            except Exception:
                log.exception("outbox.telling_failed")

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
        self,
        payload: Payload,
        body: dict[str, Any],
        tenant: str | None,
        routing_key: str | None = None,
    ) -> Envelope:
        """Emit ``payload`` given also as ``body``, its JSON, which the sender assembled from
        parts it had dumped already for a use of its own (routing's documents, dumped once
        for their stored body and for ``document.routed``); routed as ``payload`` is, or by
        ``routing_key`` (routing's decisions that are news, shared.messaging.topology)."""
        key = routing_key if routing_key is not None else payload.routing_key()
        return await self._put(wrap_json(type(payload), body, tenant), key)

    async def _put(self, envelope: Envelope, routing_key: str) -> Envelope:
        # time + process-local counter keeps the relay's order stable within a process.
        event = Outgoing(
            id=envelope.id,
            seq=time.time_ns() // 1000 * 1000 + next(_counter) % 1000,
            routing_key=routing_key,
            # The relay of this process sends it; another takes over if it is left behind.
            relay=self._relay_id,
            body=encode(envelope),  # as it is sent: dumped here, once
            type=envelope.type,
            correlation_id=envelope.correlation_id,
            tenant=envelope.tenant,
            trace=tracing.current_context(),  # the relay publishes later, outside this span
        )
        await self.db.insert(OUTBOX.name, event.row())
        self.emitted.append(event)
        return envelope


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
        return Tx(db, self._relay.current_id if self._relay is not None else None)

    def _committed(self, tx: Tx) -> None:
        # Only the attempt that committed comes here; a retried one's events went with it.
        if self._relay is not None and tx.emitted:
            self._relay.hand(tx.emitted)
        tx.tell_committed()

    async def was_applied(self, envelope: Envelope) -> bool:
        return await self._store.get(APPLIED.name, envelope.id) is not None
