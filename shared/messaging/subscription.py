"""What every reader of a work queue shares (the consumer of messages, the RPC server): one
consumer tag on its queue, alive while the broker connection is, cancelled on stop; and when
each delivery starts (shared/messaging/admission.py)."""

from __future__ import annotations

from aio_pika.abc import AbstractIncomingMessage, AbstractQueue

from shared.logging import get_logger
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

    @property
    def queue_name(self) -> str:
        return self._queue.name

    @property
    def alive(self) -> bool:
        return self._tag is not None and self._broker.connected

    async def start(self) -> None:
        self._amqp_queue, self._tag = await self._broker.consume(self._queue.name, self.on_message)

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        raise NotImplementedError

    async def _cancel(self) -> None:
        """Take no more messages (those in hand go on)."""
        if self._amqp_queue is not None and self._tag is not None:
            try:
                await self._amqp_queue.cancel(self._tag)
            except Exception as exc:  # the channel may already be gone
                log.warning("queue.cancel_failed", queue=self._queue.name, error=repr(exc))
            self._tag = None
