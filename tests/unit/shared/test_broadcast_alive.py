"""A broadcast is alive only while news can arrive and nothing missed is remembered: down from
the moment its channel closes until a reopened channel has told ``on_reconnect``, not from the
moment the robust channel looks open again (its queue is consumed again before that)."""

from __future__ import annotations

from typing import Any, cast

from aio_pika.tools import CallbackCollection

from shared.messaging.broadcast import Broadcast
from shared.messaging.broker import Broker


class Queue:
    async def bind(self, exchange: object) -> None:
        pass

    async def consume(self, callback: object, no_ack: bool) -> None:
        pass


class Channel:
    """A robust channel as the broadcast uses it: open/closed, with its two callback lists."""

    def __init__(self) -> None:
        self.is_closed = False
        self.close_callbacks: CallbackCollection[Any, Any] = CallbackCollection(self)
        self.reopen_callbacks: CallbackCollection[Any, Any] = CallbackCollection(self)

    async def declare_exchange(self, *args: Any, **kwargs: Any) -> object:
        return object()

    async def declare_queue(self, *args: Any, **kwargs: Any) -> Queue:
        return Queue()

    async def close(self) -> None:
        self.is_closed = True

    async def lose_connection(self) -> None:
        self.is_closed = True
        await self.close_callbacks(ConnectionError("gone"))

    def restore_underlying_channel(self) -> None:
        # aio-pika sets the new channel and consumes the queue again before reopen_callbacks.
        self.is_closed = False


class Connection:
    def __init__(self, channel: Channel) -> None:
        self._channel = channel

    async def channel(self, publisher_confirms: bool) -> Channel:
        return self._channel


class AnyBroker:
    def __init__(self, channel: Channel) -> None:
        self.connection = Connection(channel)


async def _news(news: dict[str, Any]) -> None:
    pass


async def _started(channel: Channel, on_reconnect: Any) -> Broadcast:
    broker = cast(Broker, AnyBroker(channel))
    broadcast = Broadcast(broker, "tsdx.test", _news, on_reconnect, publish_timeout=1.0)
    await broadcast.start()
    return broadcast


async def test_not_alive_before_start_and_alive_after() -> None:
    channel = Channel()
    broker = cast(Broker, AnyBroker(channel))
    broadcast = Broadcast(broker, "tsdx.test", _news, lambda: None, publish_timeout=1.0)
    assert not broadcast.alive
    await broadcast.start()
    assert broadcast.alive


async def test_down_from_the_close_until_on_reconnect_has_run() -> None:
    channel = Channel()
    alive_when_told: list[bool] = []
    broadcast: Broadcast | None = None

    def on_reconnect() -> None:
        assert broadcast is not None
        alive_when_told.append(broadcast.alive)

    broadcast = await _started(channel, on_reconnect)
    await channel.lose_connection()
    assert not broadcast.alive

    channel.restore_underlying_channel()
    assert not broadcast.alive  # open again, but what was missed is not forgotten yet

    await channel.reopen_callbacks()
    assert alive_when_told == [False]
    assert broadcast.alive


async def test_stays_down_when_on_reconnect_fails() -> None:
    channel = Channel()

    def on_reconnect() -> None:
        raise RuntimeError("could not forget")

    broadcast = await _started(channel, on_reconnect)
    await channel.lose_connection()
    channel.restore_underlying_channel()
    await channel.reopen_callbacks()  # aio-pika logs a failing callback and goes on
    assert not broadcast.alive


async def test_not_alive_once_stopped() -> None:
    channel = Channel()
    broadcast = await _started(channel, lambda: None)
    await broadcast.stop()
    assert not broadcast.alive
