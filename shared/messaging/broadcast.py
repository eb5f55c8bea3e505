"""News every instance of a service must hear, not one of them: a fanout exchange, and a queue
of each process's own bound to it.

The queue is non-durable, exclusive and auto-delete, consumed without acknowledgements: the
news is about what the process holds in memory, so a process that is gone needs none of it.
What a process misses while its connection is down it cannot hear later: ``on_reconnect`` is
told instead, so it can forget whatever the missed news might have changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
import orjson
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractIncomingMessage

from shared.logging import get_logger
from shared.messaging.broker import Broker, BrokerUnavailable

log = get_logger("tsdx.broadcast")

Listener = Callable[[dict[str, Any]], Awaitable[None]]


class Broadcast:
    def __init__(
        self,
        broker: Broker,
        exchange: str,
        on_news: Listener,
        on_reconnect: Callable[[], None],
        publish_timeout: float,
    ) -> None:
        self._broker = broker
        self._exchange_name = exchange
        self._on_news = on_news
        self._on_reconnect = on_reconnect
        self._timeout = publish_timeout
        self.queue_name = f"{exchange}.{uuid.uuid4().hex[:12]}"
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        # Up from start until the channel closes, and again only once a reopened channel has
        # told on_reconnect: a robust channel looks open before that (its queue is consumed
        # again first), while news of the outage is still unforgotten.
        self._up = False

    @property
    def alive(self) -> bool:
        """Whether news can arrive and nothing missed is still remembered."""
        return self._up

    async def start(self) -> None:
        # A channel of its own: a robust channel declares its queue again after a reconnect.
        channel = await self._broker.connection.channel(publisher_confirms=True)
        self._exchange = await channel.declare_exchange(
            self._exchange_name, aio_pika.ExchangeType.FANOUT, durable=True
        )
        queue = await channel.declare_queue(
            self.queue_name, durable=False, exclusive=True, auto_delete=True
        )
        await queue.bind(self._exchange)
        await queue.consume(self._received, no_ack=True)
        channel.close_callbacks.add(self._went_down)
        reopened = getattr(channel, "reopen_callbacks", None)
        if reopened is not None:
            reopened.add(self._came_back)
        self._channel = channel
        self._up = True

    def _went_down(self, _channel: object, _exc: BaseException | None = None) -> None:
        self._up = False

    def _came_back(self, _channel: object) -> None:
        self._on_reconnect()
        self._up = True

    async def stop(self) -> None:
        self._up = False
        if self._channel is not None and not self._channel.is_closed:
            await self._channel.close()
        self._channel = None

    async def publish(self, news: dict[str, Any]) -> None:
        """Tell every instance, this one included; returns once the broker has taken it."""
        if self._exchange is None:
            raise BrokerUnavailable("broadcast not started")
        message = aio_pika.Message(
            orjson.dumps(news),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.NOT_PERSISTENT,
        )
        try:
            await self._exchange.publish(message, routing_key="", timeout=self._timeout)
        except Exception as exc:  # a timeout, a nack, a closed channel: "not sent"
            failed = f"broadcast on {self._exchange_name!r} failed: {exc!r}"
            raise BrokerUnavailable(failed) from exc

    async def _received(self, message: AbstractIncomingMessage) -> None:
        try:
            news = orjson.loads(message.body)
        except orjson.JSONDecodeError:
            log.warning("broadcast.not_understood", exchange=self._exchange_name)
            return
        if not isinstance(news, dict):
            log.warning("broadcast.not_understood", exchange=self._exchange_name)
            return
        await self._on_news(news)
