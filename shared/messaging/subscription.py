"""What every reader of a work queue shares (the consumer of messages, the RPC server): one
consumer tag on its queue, alive while the broker connection is, cancelled on stop, which then
waits for the deliveries in hand; and when each delivery starts (shared/messaging/admission.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aio_pika.abc import AbstractIncomingMessage, AbstractQueue

from shared.logging import get_logger
from shared.messaging.acks import settle_finished
from shared.messaging.admission import Admission
from shared.messaging.broker import Broker
from shared.messaging.topology import WorkQueue

log = get_logger("tsdx.messaging")


class QueueReader:
    def __init__(self, broker: Broker, queue: WorkQueue) -> None:
        self._broker = broker
        self._queue = queue
        self._amqp_queue: AbstractQueue | None = None
        self._tag: str | None = None
        self._admission = Admission()  # each delivery's handler waits for its turn here
        self._in_hand = 0  # deliveries taken and not yet ended: waiting for their turn, or running
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def queue_name(self) -> str:
        return self._queue.name

    @property
    def stopping(self) -> bool:
        """Started once and taking no more deliveries (those in hand go on)."""
        return self._amqp_queue is not None and self._tag is None

    @property
    def alive(self) -> bool:
        return self._tag is not None and self._broker.connected

    async def start(self) -> None:
        self._amqp_queue, self._tag = await self._broker.consume(self._queue.name, self.on_message)

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        raise NotImplementedError

    @asynccontextmanager
    async def _taken(self) -> AsyncIterator[None]:
        """A delivery's handling: in hand from the moment it is taken, so that a stop waits for
        it, then started when its turn comes."""
        self._in_hand += 1
        self._idle.clear()
        try:
            await self._admission.admitted()
            yield
        finally:
            self._in_hand -= 1
            if self._in_hand == 0:
                self._idle.set()

    async def _stop_taking(self, timeout: float) -> tuple[int, bool]:
        """Takes no more deliveries and waits up to ``timeout`` for those in hand to end (the
        rest stay queued); the finished ones are acknowledged before it returns, so none comes
        again needlessly. Returns how many were in hand, and whether they all ended."""
        in_hand = self._in_hand
        await self._cancel()
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return in_hand, False
        finally:
            await settle_finished()
        return in_hand, True

    async def _cancel(self) -> None:
        """Take no more messages (those in hand go on)."""
        if self._amqp_queue is not None and self._tag is not None:
            try:
                await self._amqp_queue.cancel(self._tag)
            except Exception as exc:  # the channel may already be gone
                log.warning("queue.cancel_failed", queue=self._queue.name, error=repr(exc))
            self._tag = None
