"""Copies published as news to the known-devices list reach the registry and every consumer of
copies; the others reach every consumer but the registry; and a binding of an earlier release
that took every copy to the registry is gone once the topology is declared again. On a real
broker, in a virtual host of the test's own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel

from shared.messaging.broker import Broker
from shared.messaging.topology import (
    EVENTS_EXCHANGE,
    GATEWAY_WORK,
    REGISTRY_EVENTS,
    WorkQueue,
    declare_topology,
)
from shared.settings import Settings
from tests.support.waiting import eventually

INTERNET = "document.routed.internet"


@pytest.fixture
async def channel(broker: Broker, settings: Settings) -> AsyncIterator[AbstractChannel]:
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        yield await connection.channel(publisher_confirms=True)


async def _publish(channel: AbstractChannel, key: str) -> None:
    events = await channel.get_exchange(EVENTS_EXCHANGE)
    await events.publish(aio_pika.Message(b"{}", delivery_mode=2), routing_key=key)


async def _waiting(channel: AbstractChannel, queue: WorkQueue) -> int:
    declared = await channel.declare_queue(queue.name, passive=True)
    count = declared.declaration_result.message_count
    assert count is not None
    return count


async def _counts_become(channel: AbstractChannel, registry: int, gateway: int) -> None:
    async def counts() -> tuple[int, int]:
        return await _waiting(channel, REGISTRY_EVENTS), await _waiting(channel, GATEWAY_WORK)

    await eventually(counts, until=lambda c: c == (registry, gateway), what="queue counts")


async def test_only_news_reaches_the_registry_and_every_copy_the_gateway(
    channel: AbstractChannel,
) -> None:
    await _publish(channel, INTERNET)
    await _counts_become(channel, registry=0, gateway=1)
    await _publish(channel, f"{INTERNET}.device_news")
    await _counts_become(channel, registry=1, gateway=2)


async def test_the_registrys_binding_of_an_earlier_release_is_removed_at_the_next_start(
    channel: AbstractChannel, settings: Settings
) -> None:
    events = await channel.get_exchange(EVENTS_EXCHANGE)
    registry = await channel.declare_queue(REGISTRY_EVENTS.name, passive=True)
    await registry.bind(events, routing_key=INTERNET)  # as an earlier release bound it
    await _publish(channel, INTERNET)
    await _counts_become(channel, registry=1, gateway=1)
    # A service of this release starts: it declares the whole topology again.
    await declare_topology(
        channel,
        quorum=settings.quorum_queues,
        replicas=settings.quorum_replicas,
        retry_delays_ms=settings.retry_delays_ms,
        delivery_limit=settings.delivery_limit,
    )
    await _publish(channel, INTERNET)
    await _counts_become(channel, registry=1, gateway=2)
