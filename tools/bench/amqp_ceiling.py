"""The messaging ceiling: a raw aio-pika round trip on the same broker the services use.

Published as the services publish (persistent messages through a topic exchange, ``mandatory``,
publisher confirms awaited per message but many in flight at once, as the outbox relay does),
into a durable queue of the same kind (quorum when the services use quorum queues), consumed
with the services' prefetch and acknowledged one by one. Publisher and consumer have
connections of their own, as two services would.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from tools.bench.stats import per_second

# In flight at once: the outbox relay publishes up to this many rows together.
PIPELINE = 200
# About the size of an upload.decided envelope.
BODY = b'{"pad":"' + b"x" * 1000 + b'"}'


async def round_trip_rate(
    amqp_url: str, messages: int, *, prefetch: int, quorum: bool, warmup: int = 200
) -> float:
    """Messages per second from the first publish to the last acknowledgement."""
    publisher = await aio_pika.connect(amqp_url)
    consumer = await aio_pika.connect(amqp_url)
    try:
        pub_channel = await publisher.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await pub_channel.declare_exchange(
            "bench.ceiling", aio_pika.ExchangeType.TOPIC, durable=True
        )
        con_channel = await consumer.channel()
        await con_channel.set_qos(prefetch_count=prefetch)
        arguments: dict[str, Any] = {"x-queue-type": "quorum"} if quorum else {}
        queue = await con_channel.declare_queue(
            f"bench.ceiling.{uuid.uuid4().hex[:8]}", durable=True, arguments=arguments
        )
        await queue.bind("bench.ceiling", routing_key="bench.#")

        received = 0
        expected = warmup
        enough = asyncio.Event()

        async def on_message(message: AbstractIncomingMessage) -> None:
            nonlocal received
            await message.ack()
            received += 1
            if received >= expected:
                enough.set()

        consumer_tag = await queue.consume(on_message)
        window = asyncio.Semaphore(PIPELINE)

        async def publish_one() -> None:
            async with window:
                await exchange.publish(
                    aio_pika.Message(
                        BODY,
                        content_type="application/json",
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        message_id=uuid.uuid4().hex,
                    ),
                    routing_key="bench.round_trip",
                    mandatory=True,
                )

        async def send(count: int) -> float:
            started = time.perf_counter()
            await asyncio.gather(*(publish_one() for _ in range(count)))
            await asyncio.wait_for(enough.wait(), timeout=120)
            return time.perf_counter() - started

        await send(warmup)
        enough.clear()
        expected = warmup + messages
        seconds = await send(messages)
        await queue.cancel(consumer_tag)
        await queue.delete(if_unused=False, if_empty=False)
        await exchange.delete()
        return per_second(messages, seconds)
    finally:
        await consumer.close()
        await publisher.close()
