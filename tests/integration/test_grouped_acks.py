"""Grouped acknowledgements (shared/messaging/acks.py) on a real RabbitMQ: messages finishing
out of order all end acknowledged once, a message retried, parked or requeued is never covered
by a neighbour's ack, and a connection lost mid-way brings back only the unfinished ones."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass

import aio_pika

from shared.contracts import Envelope
from shared.contracts.results import DocumentLoaded
from shared.messaging.acks import settle_finished
from shared.messaging.broker import Broker
from shared.messaging.consumer import Consumer, PermanentFailure
from shared.messaging.parking import list_parked
from shared.messaging.topology import ROUTING_WORK, WorkQueue
from shared.outbox import AlreadyApplied
from shared.settings import Settings
from tests.support.broker import close_connections
from tests.support.waiting import eventually


async def _publish(broker: Broker, count: int) -> list[str]:
    ids = [f"d{n}" for n in range(count)]
    for document_id in ids:
        await broker.publish(DocumentLoaded(document_id=document_id), "t")
    return ids


async def _left_in(settings: Settings, queue: str) -> int:
    """Messages in ``queue`` seen from a connection of its own: once the consumer's connection
    is closed, one it left unacknowledged would be back in the queue and counted here."""
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count or 0
    finally:
        await connection.close()


class Applied:
    """A handler that applies each document once, as a service's applied-message record
    makes it: a message seen again is a duplicate (acknowledged, changing nothing)."""

    def __init__(self) -> None:
        self.delivered: Counter[str] = Counter()
        self.applied: Counter[str] = Counter()

    def take(self, document_id: str) -> None:
        if self.applied[document_id]:
            raise AlreadyApplied(document_id)
        self.applied[document_id] += 1


async def test_messages_finishing_out_of_order_all_end_acknowledged_once(
    broker: Broker, settings: Settings
) -> None:
    record = Applied()
    jitter = random.Random(19)

    async def slow_or_quick(envelope: Envelope, payload: DocumentLoaded) -> None:
        record.delivered[payload.document_id] += 1
        await asyncio.sleep(jitter.random() * 0.005)  # finish in another order than delivered
        record.take(payload.document_id)

    ids = await _publish(broker, 300)
    consumer = Consumer(
        broker, ROUTING_WORK, {DocumentLoaded: slow_or_quick}, settings.retry_delays_ms, "t"
    )
    await consumer.start()
    await eventually(lambda: asyncio.sleep(0, len(record.applied) == len(ids)), what="applied")
    await consumer.stop()
    await broker.close()

    assert record.applied == Counter(ids)
    assert record.delivered == Counter(ids)  # none came again
    assert await _left_in(settings, ROUTING_WORK.name) == 0


async def test_a_retried_and_a_parked_message_are_not_covered_by_their_neighbours_acks(
    broker: Broker, settings: Settings
) -> None:
    record = Applied()

    async def failing_some(envelope: Envelope, payload: DocumentLoaded) -> None:
        record.delivered[payload.document_id] += 1
        if payload.document_id == "d5":
            raise PermanentFailure("cannot apply d5")
        if payload.document_id == "d12" and record.delivered["d12"] == 1:
            raise ValueError("d12 fails once")
        record.take(payload.document_id)

    ids = await _publish(broker, 40)
    consumer = Consumer(
        broker, ROUTING_WORK, {DocumentLoaded: failing_some}, settings.retry_delays_ms, "t"
    )
    await consumer.start()
    others = [i for i in ids if i != "d5"]
    await eventually(lambda: asyncio.sleep(0, set(record.applied) == set(others)), what="applied")
    parked = await eventually(lambda: list_parked(broker, ROUTING_WORK), what="parked")
    await consumer.stop()
    await broker.close()

    assert [p.reason for p in parked] == ["cannot apply d5"]
    assert record.applied == Counter(others)
    assert record.delivered == Counter(ids) + Counter(["d12"])  # d12: its retry
    assert await _left_in(settings, ROUTING_WORK.name) == 0
    assert await _left_in(settings, ROUTING_WORK.parked) == 1


@dataclass(frozen=True)
class _NoParking(WorkQueue):
    """A work queue whose parking queue does not exist: parking is refused by the broker, so
    the message is requeued (nacked) in place."""

    @property
    def parked(self) -> str:
        return f"{self.name}.nowhere"


async def test_a_requeued_message_is_delivered_again_while_its_neighbours_are_acknowledged(
    broker: Broker, settings: Settings
) -> None:
    record = Applied()

    async def refusing_d7_once(envelope: Envelope, payload: DocumentLoaded) -> None:
        record.delivered[payload.document_id] += 1
        if payload.document_id == "d7" and record.delivered["d7"] == 1:
            raise PermanentFailure("to park, where there is no room")
        record.take(payload.document_id)

    ids = await _publish(broker, 40)
    queue = _NoParking(ROUTING_WORK.name, ROUTING_WORK.bindings)
    consumer = Consumer(
        broker, queue, {DocumentLoaded: refusing_d7_once}, settings.retry_delays_ms, "t"
    )
    await consumer.start()
    await eventually(lambda: asyncio.sleep(0, len(record.applied) == len(ids)), what="applied")
    await consumer.stop()
    await broker.close()

    assert record.applied == Counter(ids)
    assert record.delivered == Counter(ids) + Counter(["d7"])  # requeued, then applied
    assert await _left_in(settings, ROUTING_WORK.name) == 0


async def test_a_lost_connection_brings_back_only_the_unfinished_ones_applied_once(
    broker: Broker, settings: Settings, vhost: str
) -> None:
    record = Applied()
    held = {"d3", "d20", "d41"}
    release = asyncio.Event()

    async def holding_some(envelope: Envelope, payload: DocumentLoaded) -> None:
        record.delivered[payload.document_id] += 1
        if payload.document_id in held:
            await release.wait()
        record.take(payload.document_id)

    ids = await _publish(broker, 60)
    consumer = Consumer(
        broker, ROUTING_WORK, {DocumentLoaded: holding_some}, settings.retry_delays_ms, "t"
    )
    await consumer.start()
    finished = set(ids) - held
    await eventually(lambda: asyncio.sleep(0, set(record.applied) == finished), what="finished")
    # The finished ones' acks sent, the held ones' too; a request answered on the same channel
    # after them means the broker has taken them.
    await settle_finished()
    await broker.consume_channel.declare_queue(ROUTING_WORK.name, passive=True)
    # The management API lists a connection a moment after it opened.
    await eventually(lambda: close_connections(vhost), what="the connection closed")
    await eventually(
        lambda: asyncio.sleep(0, all(record.delivered[i] == 2 for i in held)),
        what="the unfinished ones delivered again after the reconnection",
    )
    release.set()
    await eventually(lambda: asyncio.sleep(0, len(record.applied) == len(ids)), what="applied")
    await consumer.stop()
    await broker.close()

    assert record.applied == Counter(ids)  # each applied once
    assert all(record.delivered[i] == 2 for i in held)
    # Acknowledged before the connection went: not delivered again.
    assert all(record.delivered[i] == 1 for i in finished)
    assert await _left_in(settings, ROUTING_WORK.name) == 0
