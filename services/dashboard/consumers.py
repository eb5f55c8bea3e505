"""The dashboard's live feed: a private queue on the events exchange, read into :class:`Activity`.

The queue is this process's own (see ``declare_dashboard_feed``): non-durable, exclusive and
auto-delete, consumed without acknowledgements. Losing it loses nothing but the live view.

The feed takes two messages of every uploaded document (its routed copies with the decision,
the terminal's download) and only counts them, so it reads them on aiormq's channel underneath
aio-pika's, with a plain callback: aio-pika's consumer wraps each delivery in an
``IncomingMessage`` (its properties and headers copied into a new object) and runs the
callback in a task of its own, about a tenth of what the dashboard spent on a message, for a
feed that reads only the body. aio-pika's robust channel still re-declares and re-binds the
queue after a reconnection (its ``reopen_callbacks`` then subscribe again here), and a consumer
the broker cancels (the queue deleted under it) subscribes again on a queue declared anew.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from aio_pika.abc import AbstractRobustChannel, AbstractRobustQueue
from aiormq.abc import DeliveredMessage
from pamqp.commands import Basic

from services.dashboard.activity import Activity
from services.dashboard.feed_events import read_event
from shared.contracts import MalformedMessage
from shared.logging import get_logger
from shared.messaging.broker import Broker
from shared.messaging.topology import DASHBOARD_FEED_PREFIX, declare_dashboard_feed
from shared.metrics import DASHBOARD_EVENTS, counted_while_alive
from shared.tasks import cancel_and_wait

log = get_logger("tsdx.dashboard.feed")


class FeedListener:
    def __init__(self, broker: Broker, activity: Activity, service: str) -> None:
        self._broker = broker
        self._activity = activity
        self._service = service
        self._instance = uuid.uuid4().hex[:12]
        self._channel: AbstractRobustChannel | None = None
        self._queue: AbstractRobustQueue | None = None
        self._tag: str | None = None
        # Each event type's counter, once looked up: the labels lookup costs more than the count.
        self._counted: dict[str, Any] = {}
        # The one resubscribe under way, held (the loop keeps only weak references) for stop().
        self._resubscribing: asyncio.Task[None] | None = None

    @property
    def queue_name(self) -> str:
        return f"{DASHBOARD_FEED_PREFIX}.{self._instance}"

    @property
    def alive(self) -> bool:
        return self._tag is not None and self._channel is not None and not self._channel.is_closed

    async def start(self) -> None:
        # A channel of its own: a robust channel re-declares the queue after a reconnect.
        channel = await self._broker.connection.channel(publisher_confirms=False)
        assert isinstance(channel, AbstractRobustChannel)  # the broker's connection is robust
        self._channel = channel
        queue = await declare_dashboard_feed(channel, self._instance)
        assert isinstance(queue, AbstractRobustQueue)  # declared on a robust channel
        self._queue = queue
        # Called once the robust channel, reopened, declared and bound the queue again; added
        # first, so a reopening during the first subscribe subscribes again too.
        channel.reopen_callbacks.add(self._reopened)
        await self._subscribe()
        counted_while_alive(self._service, DASHBOARD_FEED_PREFIX, self)

    async def stop(self) -> None:
        self._tag = None
        if self._resubscribing is not None:
            await cancel_and_wait(self._resubscribing)
        if self._channel is not None:
            self._channel.reopen_callbacks.discard(self._reopened)
            if not self._channel.is_closed:
                await self._channel.close()

    async def _subscribe(self) -> None:
        """Consume the queue on the channel's current aiormq channel, with a plain callback."""
        assert self._channel is not None and self._queue is not None
        underlay = await self._channel.get_underlay_channel()
        underlay.on_consumer_cancel_callbacks.add(self._cancelled)
        subscribed = await underlay.basic_consume(
            self._queue.name, self._delivered, no_ack=True, exclusive=True
        )
        self._tag = subscribed.consumer_tag

    async def _reopened(self, _channel: object) -> None:
        self._tag = None
        try:
            await self._subscribe()
        except Exception as exc:
            # aio-pika gathers the reopen callbacks and drops their errors: left to it, the feed
            # would stay unsubscribed on a channel that is open.
            log.warning("dashboard.feed_not_resubscribed", error=repr(exc), after="reopen")
            self._start_resubscribing()

    def _cancelled(self, frame: Basic.Cancel) -> None:
        """The broker cancelled the consumer (its queue deleted): the queue is declared and
        bound again, and consumed anew. In a task: the channel's reader runs this callback and
        must go on reading to get the answers."""
        if frame.consumer_tag != self._tag:
            return
        self._tag = None
        log.warning("dashboard.feed_cancelled", queue=self.queue_name)
        self._start_resubscribing()

    def _start_resubscribing(self) -> None:
        """The queue declared and bound again and consumed anew, in a task; one at a time: one
        under way subscribes anyway, and stop() has only one to cancel."""
        if self._resubscribing is None or self._resubscribing.done():
            self._resubscribing = asyncio.create_task(self._resubscribe())

    async def _resubscribe(self) -> None:
        assert self._queue is not None
        try:
            await self._queue.restore()
            await self._subscribe()
        except Exception as exc:  # the channel is going: its reopening subscribes again
            log.warning("dashboard.feed_not_resubscribed", error=repr(exc))

    async def _delivered(self, message: DeliveredMessage) -> None:
        self.on_body(message.body)

    def on_body(self, body: bytes) -> None:
        """One event of the feed, as the broker delivered its body."""
        try:
            envelope, payload = read_event(body)
        except MalformedMessage as exc:
            # The work queues park such a message; the live view just does not show it.
            log.warning("dashboard.event_not_understood", reason=str(exc)[:300])
            return
        if self._activity.record(envelope, payload, time.time()):
            counter = self._counted.get(envelope.type)
            if counter is None:
                counter = self._counted[envelope.type] = DASHBOARD_EVENTS.labels(envelope.type)
            counter.inc()
