"""Inspect and replay parked messages (the operator's side of the parking queues)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.messaging.broker import Broker
from shared.messaging.consumer import REASON_HEADER, RETRY_HEADER
from shared.messaging.topology import WorkQueue


@dataclass(frozen=True)
class ParkedMessage:
    queue: str
    message_id: str
    reason: str
    parked_at: str
    body_preview: str


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return "" if value is None else str(value)


async def list_parked(broker: Broker, queue: WorkQueue, limit: int = 100) -> list[ParkedMessage]:
    """Peek at parked messages without taking them (they are returned to the queue)."""
    async with broker.own_channel() as channel:
        amqp_queue = await channel.declare_queue(queue.parked, passive=True)
        result: list[ParkedMessage] = []
        held = []
        for _ in range(limit):
            message = await amqp_queue.get(no_ack=False, fail=False)
            if message is None:
                break
            held.append(message)
            headers = message.headers or {}
            result.append(
                ParkedMessage(
                    queue=queue.name,
                    message_id=message.message_id or "",
                    reason=_text(headers.get(REASON_HEADER)),
                    parked_at=_text(headers.get("x-parked-at")),
                    body_preview=message.body[:300].decode(errors="replace"),
                )
            )
        for message in held:
            await message.nack(requeue=True)
        return result


async def replay(broker: Broker, queue: WorkQueue, message_id: str | None = None) -> int:
    """Send parked messages back to their work queue: one by id, or all. Returns how many."""
    replayed = 0
    async with broker.own_channel() as channel:
        amqp_queue = await channel.declare_queue(queue.parked, passive=True)
        keep = []
        while True:
            message = await amqp_queue.get(no_ack=False, fail=False, timeout=5)
            if message is None:
                break
            if message_id is not None and message.message_id != message_id:
                keep.append(message)
                continue
            headers = {
                k: v
                for k, v in (message.headers or {}).items()
                if k not in (REASON_HEADER, RETRY_HEADER) and not k.startswith("x-parked")
            }
            await broker.publish_to_queue(
                queue.name,
                message.body,
                headers,
                message_id=message.message_id,
                correlation_id=message.correlation_id,
            )
            await message.ack()
            replayed += 1
            if message_id is not None:
                break
        for message in keep:
            await message.nack(requeue=True)
        return replayed
