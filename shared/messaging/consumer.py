"""A work-queue consumer: decode, dispatch by type, ack after commit, retry or park.

- A message larger than the limit is parked at once, before it is decoded.
- A message that cannot be understood (not JSON, bad envelope, unknown type or version, bad
  payload, or a type this queue has no handler for) is parked at once with the reason.
- A handler that raises :class:`PermanentFailure` parks the message: retrying cannot help.
- Any other error is retried after the configured delays, then parked.
- A handler whose transaction the store aborted for a conflict with another (MongoDB's write
  conflicts) runs again at once, whole, on the message read afresh, keeping its place in its
  ordering keys (shared/storage/retrying.py bounds it, as every re-run of a transaction; a
  large message, or one met while stopping, takes the delayed retry instead).
- A transient error (the store, the broker or an RPC peer briefly away, or a conflict that
  outlasted those re-runs) is retried after the longest delay for as long as it lasts; it
  does not count against the message.
- A message applied before (:class:`AlreadyApplied`) is simply acknowledged.

The original message is acknowledged only after its retry copy or parked copy was confirmed
by the broker, so a failure in between re-delivers instead of losing it. Every ending is
:func:`~shared.messaging.acks.settle`, which sends the acknowledgements of a channel's finished
messages in groups.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import structlog
from aio_pika.abc import AbstractIncomingMessage
from prometheus_client import Counter

from shared.collector import collector_held
from shared.contracts import Envelope, MalformedMessage, Payload, decode
from shared.logging import correlation, get_logger
from shared.messaging import tracing
from shared.messaging.acks import settle
from shared.messaging.broker import Broker, BrokerUnavailable
from shared.messaging.rpc import RpcTimeout
from shared.messaging.subscription import QueueReader
from shared.messaging.topology import WorkQueue
from shared.metrics import MESSAGES_HANDLED, MESSAGES_PARKED, MESSAGES_RETRIED
from shared.outbox import AlreadyApplied
from shared.storage import StorageError
from shared.storage.retrying import ConflictPersisted, retry_conflicts

log = get_logger("tsdx.consumer")

Handler = Callable[[Envelope, Any], Awaitable[None]]

RETRY_HEADER = "x-retry-count"
TRANSIENT = (StorageError, RpcTimeout, BrokerUnavailable)
REASON_HEADER = "x-park-reason"


# A message this large is decoded in a worker thread (a 20,000-line document takes about a
# second to parse and validate: too long to hold the event loop).
DECODE_IN_THREAD_BYTES = 1 << 20


def _decoded_in_thread(body: bytes) -> bool:
    return len(body) > DECODE_IN_THREAD_BYTES


# A message this large is read and handled with the cyclic garbage collector held off
# (shared/collector.py: its collections would walk the message's tens of thousands of objects
# over and over), and afterwards the process gives freed memory back to the operating system:
# glibc keeps it otherwise, and a service would stay at its largest document's high-water mark.
LARGE_MESSAGE_BYTES = 1 << 20
try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
except OSError:
    _LIBC = None


def _give_memory_back() -> None:
    # The young generations only: the collector was held off while the message was handled,
    # so its objects (and any cycles among them) are all still young. A full collection walked
    # everything the service holds after each large message.
    gc.collect(1)
    if _LIBC is not None and hasattr(_LIBC, "malloc_trim"):
        _LIBC.malloc_trim(0)


def _attempt(message: AbstractIncomingMessage) -> int:
    raw = (message.headers or {}).get(RETRY_HEADER, 0)
    return raw if isinstance(raw, int) else 0


class PermanentFailure(Exception):
    """The message is well-formed but can never be applied; park it with this reason."""


def require_same_tenant(envelope: Envelope, row: Mapping[str, Any], what: str) -> None:
    """A message about a stored row must come from the row's own tenant; another tenant's
    message can never apply, so it is parked (the one check of every service)."""
    if row.get("tenant") != envelope.tenant:
        raise PermanentFailure(f"{what} {row['id']} belongs to another tenant")


class Consumer(QueueReader):
    def __init__(
        self,
        broker: Broker,
        queue: WorkQueue,
        handlers: dict[type[Payload], Handler],
        retry_delays_ms: list[int],
        service: str,
        *,
        max_message_bytes: int | None = None,
    ) -> None:
        super().__init__(broker, queue)
        self._max_bytes = max_message_bytes  # None: no limit
        self._handlers = handlers
        # Each message is read by the model its handler names: the registered one, or a view
        # of it that declares only what the handler uses (shared.contracts.envelope.decode).
        self._views = {(kind.TYPE, kind.VERSION): kind for kind in handlers}
        self._delays = retry_delays_ms
        self._service = service
        self._handled_by_type: dict[str, Counter] = {}
        # key -> the last message's end, of those with that ordering key
        self._ordered: dict[str, asyncio.Future[None]] = {}
        # The last message still to take its ordering place after others (one decoded in a
        # worker thread, or one waiting for such): resolved once it took it. A message with
        # ordering keys delivered meanwhile takes its own only then (see _handle).
        self._decoding: asyncio.Future[None] | None = None

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop taking messages and let the ones in hand finish (the rest stay queued); the
        finished ones are acknowledged before this returns, so none comes again needlessly."""
        in_hand, ended = await self._stop_taking(timeout)
        if not ended:
            log.warning("consumer.stop_timeout", queue=self._queue.name, in_flight=self._in_hand)
            return
        log.info("consumer.stopped", queue=self._queue.name, finished_in_hand=in_hand)

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        large = len(message.body) > LARGE_MESSAGE_BYTES
        async with self._taken():
            try:
                if large:
                    with collector_held():
                        await self._handle(message)
                else:
                    await self._handle(message)
            finally:
                if large:
                    _give_memory_back()

    @asynccontextmanager
    async def _in_order(
        self, keys: tuple[str, ...], placed: asyncio.Future[None] | None = None
    ) -> AsyncIterator[None]:
        """Messages are handled concurrently, except those sharing an ordering key: each waits
        for the last one before it of each of its keys, so they run in the order the broker
        delivered them (a message of several keys takes its place behind all of them at once,
        so a later message of one of its keys cannot pass it). ``placed`` is resolved once the
        message took its place."""
        if placed is not None:
            self._took_place(placed)  # nothing below yields before the place is taken
        if not keys:
            yield
            return
        done = asyncio.get_running_loop().create_future()
        ahead = {self._ordered[key] for key in keys if key in self._ordered}
        for key in keys:
            self._ordered[key] = done

        def finish(_: object = None) -> None:
            if not done.done():
                done.set_result(None)
            for key in keys:
                if self._ordered.get(key) is done:
                    del self._ordered[key]

        try:
            if ahead:
                await asyncio.wait(ahead)  # never cancels the earlier ones' futures
            yield
        finally:
            # A message cancelled while it waits ends only once those ahead of it have: a
            # later one waits on its end alone, and must not pass an earlier one still running.
            pending = [future for future in ahead if not future.done()]
            if pending:
                asyncio.gather(*pending, return_exceptions=True).add_done_callback(finish)
            else:
                finish()

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        size = len(message.body)
        if self._max_bytes is not None and size > self._max_bytes:
            await self._park(message, f"message too large: {size} bytes > {self._max_bytes}")
            return
        # A message decoded in a worker thread takes its ordering place only once decoded; a
        # later one with ordering keys (theirs cannot be compared before) waits for that, so
        # a small result of a copy, decoded at once, does not pass a large one of it.
        ahead = self._decoding  # None, or still to take its place
        placed = None
        if _decoded_in_thread(message.body):
            placed = self._decoding = asyncio.get_running_loop().create_future()
        try:
            try:
                envelope, payload = await self._decode(message.body)
            except MalformedMessage as exc:
                await self._park(message, str(exc))
                return
            keys = payload.ordering_keys()
            if ahead is not None and not ahead.done() and (keys or placed is not None):
                if placed is None:
                    # Decoded at once (no turn of the loop since ``ahead`` was read): later
                    # messages now wait for this one, which waits for those before it.
                    placed = self._decoding = asyncio.get_running_loop().create_future()
                await asyncio.wait({ahead})  # never cancels the earlier one's future
            handler = self._handlers.get(type(payload))
            if handler is None:
                await self._park(
                    message, f"queue {self._queue.name} has no handler for {envelope.type}"
                )
                return
            await self._handle_in_order(message, envelope, payload, handler, keys, placed)
        finally:
            if placed is not None and not placed.done():
                # Never placed (unreadable, no handler, cancelled): those after it still wait
                # for every message before it to take its place.
                if ahead is not None and not ahead.done():
                    ahead.add_done_callback(lambda _: self._took_place(placed))
                else:
                    self._took_place(placed)

    def _took_place(self, placed: asyncio.Future[None]) -> None:
        if not placed.done():
            placed.set_result(None)
        if self._decoding is placed:
            self._decoding = None

    async def _handle_in_order(
        self,
        message: AbstractIncomingMessage,
        envelope: Envelope,
        payload: Payload,
        handler: Handler,
        keys: tuple[str, ...],
        placed: asyncio.Future[None] | None,
    ) -> None:
        with (
            correlation(envelope.correlation_id),
            structlog.contextvars.bound_contextvars(
                message_id=envelope.id, message_type=envelope.type, tenant=envelope.tenant
            ),
        ):
            try:
                async with self._in_order(keys, placed):
                    with tracing.consuming(envelope.type, message.headers):
                        await self._applied(message, envelope, payload, handler)
            except AlreadyApplied:
                log.info("message.duplicate_ignored")
            except PermanentFailure as exc:
                await self._park(message, str(exc))
                return
            except asyncio.CancelledError:
                raise
            except TRANSIENT as exc:
                # The store or a peer is away for a moment: not the message's fault, so it
                # waits and comes back without using up its retries.
                log.warning("message.deferred", error=repr(exc))
                await self._retry(message, self._delays[-1], attempt=_attempt(message))
                return
            except Exception as exc:
                log.warning("message.failed", error=repr(exc))
                await self._retry_or_park(message, exc)
                return
            await settle(message)
            self._handled(envelope.type).inc()

    async def _applied(
        self,
        message: AbstractIncomingMessage,
        envelope: Envelope,
        payload: Payload,
        handler: Handler,
    ) -> None:
        """The handler, run again whole if its transaction ended in a conflict: as the retry
        queue would run it (every handler already runs whole again after a failure), but now,
        in the message's place among its ordering keys. A run again reads the message afresh:
        the payload the first run had may have been changed by it.

        A large message is not run again here (reading it again takes about a second, and the
        collector is held off meanwhile), nor any once the consumer is stopping (the broker and
        the store are closed after it): the conflict then takes the delayed retry."""
        if _decoded_in_thread(message.body):
            await handler(envelope, payload)
            return
        runs = 0

        async def run() -> None:
            nonlocal runs
            runs += 1
            if runs == 1:
                await handler(envelope, payload)
                return
            if self.stopping:
                raise ConflictPersisted("the consumer is stopping")
            await handler(*await self._decode(message.body))

        await retry_conflicts(run, f"{self._queue.name} {envelope.type}")

    def _handled(self, message_type: str) -> Counter:
        """The handled-messages counter of a type, looked up by its labels once."""
        counter = self._handled_by_type.get(message_type)
        if counter is None:
            counter = MESSAGES_HANDLED.labels(self._service, message_type)
            self._handled_by_type[message_type] = counter
        return counter

    async def _decode(self, body: bytes) -> tuple[Envelope, Payload]:
        """Decode a message; a large one in a worker thread, so the event loop goes on serving
        health checks, other messages and HTTP while it is parsed and validated (the validators
        call back into Python, so the thread hands the interpreter over every few
        milliseconds)."""
        if not _decoded_in_thread(body):
            return decode(body, self._views)
        started = time.perf_counter()
        log.info("message.large_decoding", queue=self._queue.name, size=len(body))
        try:
            return await asyncio.to_thread(decode, body, self._views)
        finally:
            elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
            log.info(
                "message.large_decoded",
                queue=self._queue.name,
                size=len(body),
                duration_ms=elapsed_ms,
            )

    async def _retry_or_park(self, message: AbstractIncomingMessage, exc: Exception) -> None:
        attempt = _attempt(message)
        if attempt >= len(self._delays):
            await self._park(message, f"failed after {attempt + 1} attempts: {exc!r}")
            return
        await self._retry(message, self._delays[attempt], attempt=attempt + 1)

    async def _retry(self, message: AbstractIncomingMessage, delay: int, *, attempt: int) -> None:
        headers = dict(message.headers or {})
        headers[RETRY_HEADER] = attempt
        await self._move(
            message, self._queue.retry(delay), headers, message.message_id, MESSAGES_RETRIED
        )

    async def _park(self, message: AbstractIncomingMessage, reason: str) -> None:
        headers = dict(message.headers or {})
        # Named by what the broker carried, so that a message parked before it could be read
        # (not JSON, too large) is found by its correlation id, type and base too. Only what
        # it carries: an empty property must not hide the envelope's, bound while it was
        # handled (a retried message comes back without its type).
        carried = {
            "message_id": message.message_id,
            "message_type": message.type,
            "tenant": headers.get("x-tenant"),
            "correlation_id": message.correlation_id,
            "routing_key": message.routing_key,
        }
        known = {name: str(value) for name, value in carried.items() if value}
        log.error("message.parked", queue=self._queue.name, reason=reason[:500], **known)
        headers[REASON_HEADER] = reason[:1000]
        headers["x-parked-at"] = datetime.now(UTC).isoformat()
        headers["x-parked-from"] = self._queue.name
        headers["x-original-routing-key"] = message.routing_key or ""
        await self._move(
            message, self._queue.parked, headers, message.message_id or "", MESSAGES_PARKED
        )

    async def _move(
        self,
        message: AbstractIncomingMessage,
        to: str,
        headers: dict[str, Any],
        message_id: str | None,
        moved: Counter,
    ) -> None:
        """The message, with ``headers``, to the queue ``to`` in place of here, counted in
        ``moved``; left here (requeued) while the broker cannot take it."""
        try:
            await self._broker.publish_to_queue(
                to,
                message.body,
                headers,
                message_id=message_id,
                correlation_id=message.correlation_id,
            )
        except BrokerUnavailable:
            await settle(message, requeue=True)
            return
        await settle(message)
        moved.labels(self._service, self._queue.name).inc()
