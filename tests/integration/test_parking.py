"""Poison messages are parked with their reason, never retried forever, and never block a queue."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import aio_pika
import orjson

from shared.messaging.consumer import REASON_HEADER
from shared.messaging.topology import EVENTS_EXCHANGE, ROUTING_WORK
from tests.support.documents import by_pin, upload
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, TerminalClient


def _envelope(type_: str, payload: dict[str, Any], tenant: str = "t") -> bytes:
    return orjson.dumps(
        {
            "id": uuid.uuid4().hex,
            "type": type_,
            "version": 1,
            "time": "2026-11-28T10:00:00Z",
            "tenant": tenant,
            "correlation_id": uuid.uuid4().hex,
            "payload": payload,
        }
    )


POISON = {
    "not-json": (b"\xff{not json", "not JSON"),
    "wrong-schema": (
        _envelope("upload.requested", {"request_id": 5}),
        "bad upload.requested payload",
    ),
    "unknown-type": (_envelope("upload.exploded", {}), "unknown message type 'upload.exploded'"),
    "unknown-version": (
        orjson.dumps({**orjson.loads(_envelope("upload.requested", {})), "version": 99}),
        "unknown version 99",
    ),
    "no-envelope": (orjson.dumps({"hello": "world"}), "bad envelope"),
    "wrong-queue": (
        _envelope(
            "tenant.changed",
            {"tenant": "t", "name": "n", "api_key_hash": "h", "status": "active", "revision": 1},
        ),
        "has no handler for tenant.changed",
    ),
}


async def _parked(channel: aio_pika.abc.AbstractChannel) -> list[tuple[str, str]]:
    """(message id, reason) of every parked message, left in the queue."""
    queue = await channel.declare_queue(ROUTING_WORK.parked, passive=True)
    found: list[tuple[str, str]] = []
    held = []
    while (message := await queue.get(no_ack=False, fail=False)) is not None:
        held.append(message)
        found.append(
            (message.message_id or "", str((message.headers or {}).get(REASON_HEADER, "")))
        )
    for message in held:
        await message.nack(requeue=True)
    return found


async def test_poison_messages_are_parked_with_reason_and_good_ones_still_flow(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    connection = await aio_pika.connect(stack.env["TSDX_AMQP_URL"])
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(EVENTS_EXCHANGE)
        for name, (body, _) in POISON.items():
            # "wrong-queue" is a real message type that routing does not consume.
            await exchange.publish(
                aio_pika.Message(
                    body,
                    message_id=name,
                    correlation_id=f"corr-{name}",
                    type="upload.requested",
                    headers={"x-tenant": "sklad-7"},
                ),
                routing_key="upload.requested",
            )

        parked_list = await eventually(
            lambda: _parked(channel),
            until=lambda p: set(POISON) <= {i for i, _ in p},
            what="every poison message parked",
        )
        parked = dict(parked_list)
        for name, (_, reason) in POISON.items():
            assert reason in parked[name], (name, parked[name])

        # The queue is not blocked: a good upload right after is routed and delivered.
        async with TerminalClient(stack.url("gateway")) as terminal:
            paired = await terminal.pair(tenant["connection_code"], f"@HW-{uuid.uuid4().hex[:8]}")
            answer = await accounting.upload(upload(by_pin(paired["pin"])))
            assert answer["status"] == "accepted"

        # Each parking is logged with what the broker carried, even for a body never read:
        # an operator finds it by the correlation id and base 1C's side knows.
        assert stack.log_dir is not None
        routing_log = stack.log_dir / "routing.log"
        logged = await eventually(
            lambda: _parkings_logged(routing_log),
            until=lambda found: "not-json" in found,
            what="the not-JSON message's parking in routing's log",
        )
        assert logged["not-json"] == {
            "message_id": "not-json",
            "message_type": "upload.requested",
            "tenant": "sklad-7",
            "correlation_id": "corr-not-json",
            "routing_key": "upload.requested",
        }

        # Parked once, not retried: each appears exactly once in the parking queue.
        assert sorted(i for i, _ in await _parked(channel) if i in POISON) == sorted(POISON)


async def _parkings_logged(log: Path) -> dict[str, dict[str, str]]:
    """The ids, type, base, correlation and key each ``message.parked`` line names, by id."""
    text = await asyncio.to_thread(log.read_text, errors="replace")
    events = [orjson.loads(line) for line in text.splitlines() if line.startswith("{")]
    keys = ("message_id", "message_type", "tenant", "correlation_id", "routing_key")
    return {
        e["message_id"]: {key: e.get(key) for key in keys}
        for e in events
        if e.get("event") == "message.parked" and e.get("message_id")
    }
