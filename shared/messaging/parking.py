"""Inspect, replay and discard parked messages (the operator's side of the parking queues)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aio_pika.abc import AbstractIncomingMessage

from shared.logging import get_logger
from shared.messaging.broker import Broker
from shared.messaging.consumer import REASON_HEADER, RETRY_HEADER
from shared.messaging.topology import WorkQueue

log = get_logger("tsdx.parking")


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

    async def send_back(message: AbstractIncomingMessage) -> None:
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

    return await _take_parked(broker, queue, message_id, send_back)


async def discard(broker: Broker, queue: WorkQueue, message_id: str) -> int:
    """Delete one parked message for good, by id (one that will never be right: an adapter's
    test message). Returns how many: 1, or 0 when no such message is parked."""

    async def drop(message: AbstractIncomingMessage) -> None:
        log.warning(
            "parked.discarded",
            queue=queue.name,
            message_id=message.message_id,
            reason=_text((message.headers or {}).get(REASON_HEADER)),
        )

    return await _take_parked(broker, queue, message_id, drop)


async def _take_parked(
    broker: Broker,
    queue: WorkQueue,
    message_id: str | None,
    act: Callable[[AbstractIncomingMessage], Awaitable[None]],
) -> int:
    """Each parked message of the queue (or the one with ``message_id``) acted on and taken off
    the parking queue; the others put back. Returns how many were taken."""
    taken = 0
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
            await act(message)
            await message.ack()
            taken += 1
            if message_id is not None:
                break
        for message in keep:
            await message.nack(requeue=True)
        return taken
