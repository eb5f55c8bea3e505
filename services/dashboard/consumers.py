"""The dashboard's live feed: a private queue on the events exchange, read into :class:`Activity`.

The queue is this process's own (see ``declare_dashboard_feed``): non-durable, exclusive and
auto-delete, consumed without acknowledgements. Losing it loses nothing but the live view.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue

from services.dashboard.activity import Activity
from services.dashboard.feed_events import read_event
from shared.contracts import MalformedMessage
from shared.logging import get_logger
from shared.messaging.broker import Broker
from shared.messaging.topology import DASHBOARD_FEED_PREFIX, declare_dashboard_feed
from shared.metrics import CONSUMERS, DASHBOARD_EVENTS

log = get_logger("tsdx.dashboard.feed")


class FeedListener:
    def __init__(self, broker: Broker, activity: Activity, service: str) -> None:
        self._broker = broker
        self._activity = activity
        self._service = service
        self._instance = uuid.uuid4().hex[:12]
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._tag: str | None = None
        # Each event type's counter, once looked up: the labels lookup costs more than the count.
        self._counted: dict[str, Any] = {}

    @property
    def queue_name(self) -> str:
        return f"{DASHBOARD_FEED_PREFIX}.{self._instance}"

    @property
    def alive(self) -> bool:
        return self._tag is not None and self._channel is not None and not self._channel.is_closed

    async def start(self) -> None:
        # A channel of its own: a robust channel re-declares the queue after a reconnect.
        self._channel = await self._broker.connection.channel(publisher_confirms=False)
        self._queue = await declare_dashboard_feed(self._channel, self._instance)
        self._tag = await self._queue.consume(self.on_message, no_ack=True)
        CONSUMERS.labels(self._service, DASHBOARD_FEED_PREFIX).set(1)

    async def stop(self) -> None:
        CONSUMERS.labels(self._service, DASHBOARD_FEED_PREFIX).set(0)
        self._tag = None
        if self._channel is not None and not self._channel.is_closed:
            await self._channel.close()

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            envelope, payload = read_event(message.body)
        except MalformedMessage as exc:
            # The work queues park such a message; the live view just does not show it.
            log.warning("dashboard.event_not_understood", reason=str(exc)[:300])
            return
        if self._activity.record(envelope, payload, time.time()):
            counter = self._counted.get(envelope.type)
            if counter is None:
                counter = self._counted[envelope.type] = DASHBOARD_EVENTS.labels(envelope.type)
            counter.inc()
