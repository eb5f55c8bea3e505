"""A witness on the broker: a queue of the test's own bound to the events that matter,
counting distinct envelopes per document (the wire may repeat an envelope; the effect may not)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import aio_pika
import orjson

from shared.messaging.addresses import parse_addresses
from shared.messaging.broker import connect_failover
from shared.messaging.topology import EVENTS_EXCHANGE

WATCHED = (
    "document.routed.#",
    "document.completed",
    "upload.decided",
    "upload.requested",
    "result.submitted",
)


class Witness:
    def __init__(self, amqp_urls: str) -> None:
        # One address, or every node of a cluster (comma-separated): then the witness fails
        # over as the services do, and its queue is replicated, so a node's loss hides nothing.
        self._addresses = parse_addresses(amqp_urls, "")
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None
        # routing key family -> document id -> set of envelope ids
        self.seen: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.wire_repeats = 0
        self._ids: set[str] = set()
        # Raw messages, to be delivered again on purpose: (routing key, body).
        self.captured: list[tuple[str, bytes]] = []

    async def start(self) -> None:
        self._connection = await connect_failover(self._addresses, timeout=30)
        channel = await self._connection.channel()
        exchange = await channel.declare_exchange(
            EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )
        # Durable, so a broker restart in the middle of a test loses nothing it should see.
        replicated = {"x-queue-type": "quorum"} if len(self._addresses) > 1 else None
        queue = await channel.declare_queue("test.witness", durable=True, arguments=replicated)
        for key in WATCHED:
            await queue.bind(exchange, routing_key=key)
        await queue.consume(self._on_message)

    async def _on_message(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        body: dict[str, Any] = orjson.loads(message.body)
        payload = body["payload"]
        kind = body["type"]
        if body["id"] in self._ids:
            self.wire_repeats += 1
        self._ids.add(body["id"])
        self.captured.append((message.routing_key or "", message.body))
        if kind == "document.routed":  # an upload's documents, each once, with their copies
            for document in payload["documents"]:
                self.seen["routed"][document["header"]["id"]].add(body["id"])
        elif kind == "document.completed":
            self.seen["completed"][payload["document_id"]].add(body["id"])
        elif kind == "upload.decided":
            self.seen["decided"][payload["request_id"]].add(body["id"])
        await message.ack()

    async def deliver_again(self, count: int) -> int:
        """Publish the first ``count`` captured messages once more, exactly as they were."""
        assert self._connection is not None
        channel = await self._connection.channel()
        exchange = await channel.get_exchange(EVENTS_EXCHANGE)
        again = self.captured[:count]
        for routing_key, body in again:
            await exchange.publish(aio_pika.Message(body), routing_key=routing_key)
        await channel.close()
        return len(again)

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()
        await asyncio.sleep(0)
