"""The broker connection sends the frames of one loop turn in one write (coalesced_writes.py):
on a real RabbitMQ, on asyncio and on uvloop (the services' loop), concurrent confirmed
publishes are all confirmed and delivered in the order they were published, and a connection
the broker closes mid-stream recovers as before (what was not confirmed is sent again)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import uvloop
from aio_pika.abc import AbstractIncomingMessage, UnderlayConnection

from shared.messaging.acks import settle
from shared.messaging.broker import (
    Broker,
    BrokerUnavailable,
    FailoverConnection,
    connect_failover,
)
from shared.settings import Settings
from tests.support.broker import AUTH, MANAGEMENT, amqp_url
from tests.support.waiting import eventually

LOOPS = ["asyncio", "uvloop"]


async def _on(loop: str, scenario: Coroutine[Any, Any, None]) -> None:
    """Run the scenario on the test's loop, or on a uvloop of its own (in a thread)."""
    if loop == "asyncio":
        await scenario
    else:
        await asyncio.to_thread(uvloop.run, scenario)


def _sockets_opened(broker: Broker) -> int:
    connection = broker.connection
    assert isinstance(connection, FailoverConnection)
    return connection.sockets.opened


async def _published_in_order(settings: Settings, count: int) -> None:
    broker = Broker(settings, "test-writes-order")
    await broker.connect()
    try:
        queue = await broker.consume_channel.declare_queue(
            f"test.writes.{uuid.uuid4().hex[:8]}", exclusive=True
        )
        seen: list[int] = []
        all_in = asyncio.Event()

        async def take(message: AbstractIncomingMessage) -> None:
            seen.append(int(message.body))
            await settle(message)
            if len(seen) == count:
                all_in.set()

        await queue.consume(take)
        # Started in this order, the publishes take the channel in this order (its lock is
        # fair), so many frames of them are written in each turn: each must keep its place.
        await asyncio.gather(
            *(broker.publish_to_queue(queue.name, str(i).encode(), {}) for i in range(count))
        )
        await asyncio.wait_for(all_in.wait(), 60)
        assert seen == list(range(count))
        assert _sockets_opened(broker) == 1
    finally:
        transport = broker.connection.transport
        assert transport is not None
        amqp: Any = transport.connection  # aiormq's, whose reader task is looked at below
        await broker.close()
    # The Connection.Close went out through the held writes and the broker answered Close-Ok:
    # aiormq's reader ends on that answer (it is cancelled when none comes in time).
    assert amqp._reader_task.done() and not amqp._reader_task.cancelled()


@pytest.mark.parametrize("loop", LOOPS)
async def test_concurrent_confirmed_publishes_are_all_confirmed_and_delivered_in_order(
    settings: Settings, loop: str
) -> None:
    await _on(loop, _published_in_order(settings, 2000))


async def _listed_connections(api: httpx.AsyncClient, vhost: str, name: str) -> list[str]:
    """The broker's names of the connections called ``name`` in ``vhost`` (the management API
    lists a connection once its statistics were first collected: waited for)."""

    async def named() -> list[str]:
        listed = (await api.get(f"/vhosts/{quote(vhost, safe='')}/connections")).json()
        return [
            c["name"]
            for c in listed
            if c.get("client_properties", {}).get("connection_name") == name
        ]

    return await eventually(named, timeout=30, interval=0.2, what="the connection listed")


async def _closed_mid_stream(settings: Settings, vhost: str, count: int, lanes: int) -> None:
    name = f"test-writes-{uuid.uuid4().hex[:8]}"
    broker = Broker(settings, name)
    await broker.connect()
    try:
        async with httpx.AsyncClient(base_url=MANAGEMENT, auth=AUTH, timeout=10) as api:
            await _stream_closed_by_the_broker(broker, api, vhost, count, lanes)
        # Reconnected through the same factory: the new socket coalesces too.
        assert _sockets_opened(broker) == 2
        assert broker.connected
    finally:
        await broker.close()


async def _stream_closed_by_the_broker(
    broker: Broker, api: httpx.AsyncClient, vhost: str, count: int, lanes: int
) -> None:
    name = broker.connection.kwargs["client_properties"]["connection_name"]
    # Durable and shared: the robust channel declares it again after the reconnection.
    queue = await broker.consume_channel.declare_queue(f"{name}.q", durable=True)
    received: set[int] = set()

    async def take(message: AbstractIncomingMessage) -> None:
        received.add(int(message.body))
        await settle(message)

    await queue.consume(take)
    listed = await _listed_connections(api, vhost, name)
    assert len(listed) == 1
    not_confirmed = 0

    async def send(lane: int) -> None:
        nonlocal not_confirmed
        for i in range(lane, count, lanes):
            while True:  # as the outbox does: not confirmed, send again
                try:
                    await broker.publish_to_queue(queue.name, str(i).encode(), {})
                    break
                except BrokerUnavailable:
                    not_confirmed += 1
                    await asyncio.sleep(0.05)

    sending = asyncio.gather(*(send(lane) for lane in range(lanes)))
    await eventually(lambda: asyncio.sleep(0, len(received)), until=lambda n: n >= count // 10)
    # Closed through RabbitMQ's management API while the lanes publish.
    (await api.delete(f"/connections/{quote(listed[0], safe='')}")).raise_for_status()
    await asyncio.wait_for(sending, 90)
    await eventually(
        lambda: asyncio.sleep(0, len(received)),
        until=lambda n: n == count,
        timeout=60,
        what="every message delivered",
    )
    assert received == set(range(count))
    assert not_confirmed >= 1, "the close did not land mid-stream"


@pytest.mark.parametrize("loop", LOOPS)
async def test_a_connection_closed_by_the_broker_mid_stream_recovers_and_loses_nothing(
    settings: Settings, vhost: str, loop: str
) -> None:
    await _on(loop, _closed_mid_stream(settings, vhost, count=4000, lanes=16))


async def test_an_aio_pika_that_does_not_hand_the_factory_on_stops_the_start(
    vhost: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another aio-pika that no longer passes its kwargs to aiormq would silently open plain
    sockets: the first connection refuses to start instead."""
    make_connection = UnderlayConnection.make_connection.__func__  # type: ignore[attr-defined]

    async def without_the_factory(
        cls: type[UnderlayConnection], url: Any, timeout: Any = None, **kwargs: Any
    ) -> Any:
        kwargs.pop("transport_factory")
        return await make_connection(cls, url, timeout=timeout, **kwargs)

    monkeypatch.setattr(
        UnderlayConnection,
        "make_connection",
        classmethod(without_the_factory),  # type: ignore[arg-type]
    )
    with pytest.raises(RuntimeError, match="tsdx's factory"):
        await connect_failover((amqp_url(vhost),), timeout=10)
