"""What the security tests share: terminals, deliveries, raw AMQP messages, parked messages and
the services' log files."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from typing import Any

import aio_pika

from shared.messaging.consumer import REASON_HEADER
from shared.messaging.topology import EVENTS_EXCHANGE
from tests.support.documents import by_pin, upload
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, TerminalClient


@asynccontextmanager
async def paired(
    stack: Stack, tenant: dict[str, str], *, mode: str = "online", name: str = ""
) -> AsyncIterator[TerminalClient]:
    terminal = TerminalClient(stack.url("gateway"))
    try:
        await terminal.pair(
            tenant["connection_code"], f"@HW-{uuid.uuid4().hex[:8]}", name=name, mode=mode
        )
        yield terminal
    finally:
        await terminal.close()


async def delivered(
    accounting: AccountingClient, terminal: TerminalClient, document: dict[str, Any]
) -> dict[str, Any]:
    """Upload one document to the terminal by its PIN and wait for it in the inbox; the
    upload's answer (request id, deliveries)."""
    answer = await accounting.upload(upload(by_pin(terminal.device["pin"]), document))
    if answer["status"] == "pending":
        answer = await eventually(
            lambda: accounting.upload_status(answer["request_id"]),
            until=lambda a: a["status"] != "pending",
            what="upload decided",
        )
    assert answer["status"] == "accepted", answer
    delivery_id = answer["deliveries"][0]["delivery_id"]
    await eventually(
        terminal.inbox,
        until=lambda inbox: delivery_id in [d["delivery_id"] for d in inbox["documents"]],
        what="the document in the inbox",
    )
    return answer


def envelope(type_: str, payload: dict[str, Any], *, tenant: str | None, version: int = 1) -> bytes:
    # The standard encoder, as an outside adapter may use it: it writes deeper nesting
    # than orjson does.
    body = {
        "id": uuid.uuid4().hex,
        "type": type_,
        "version": version,
        "time": "2026-11-28T10:00:00Z",
        "tenant": tenant,
        "correlation_id": uuid.uuid4().hex,
        "payload": payload,
    }
    return json.dumps(body, ensure_ascii=False).encode()


async def publish(stack: Stack, routing_key: str, messages: dict[str, bytes]) -> None:
    """Publish raw bodies to the events exchange of the stack's vhost, by message id."""
    connection = await aio_pika.connect(stack.env["TSDX_AMQP_URL"])
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(EVENTS_EXCHANGE)
        for message_id, body in messages.items():
            await exchange.publish(
                aio_pika.Message(body, message_id=message_id), routing_key=routing_key
            )


async def parked_reasons(
    stack: Stack, queue: str, *, take: Collection[str] = ()
) -> list[tuple[str, str]]:
    """(message id, reason) of every message parked from ``queue``. All stay parked, except
    those named in ``take``, which are removed (a test cleans up after itself)."""
    connection = await aio_pika.connect(stack.env["TSDX_AMQP_URL"])
    async with connection:
        channel = await connection.channel()
        parked = await channel.declare_queue(f"{queue}.parked", passive=True)
        found: list[tuple[str, str]] = []
        held = []
        while (message := await parked.get(no_ack=False, fail=False)) is not None:
            message_id = message.message_id or ""
            found.append((message_id, str((message.headers or {}).get(REASON_HEADER, ""))))
            if message_id in take:
                await message.ack()
            else:
                held.append(message)
        for message in held:
            await message.nack(requeue=True)
    return found


async def parked_with_reasons(
    stack: Stack, queue: str, expected: set[str], *, timeout: float = 15.0
) -> dict[str, str]:
    """Wait until every id of ``expected`` is parked from ``queue``; their reasons. Each must
    be parked once (never retried into the parking queue again); all are removed afterwards."""
    await eventually(
        lambda: parked_reasons(stack, queue),
        until=lambda found: expected <= {message_id for message_id, _ in found},
        timeout=timeout,
        what=f"{sorted(expected)} parked from {queue}",
    )
    taken = await parked_reasons(stack, queue, take=expected)
    mine = [(i, reason) for i, reason in taken if i in expected]
    assert sorted(i for i, _ in mine) == sorted(expected), mine
    return dict(mine)


def log_text(stack: Stack, service: str) -> str:
    assert stack.log_dir is not None
    return (stack.log_dir / f"{service}.log").read_text(encoding="utf-8", errors="replace")


def log_records(stack: Stack, service: str) -> list[dict[str, Any]]:
    """The structured (JSON) lines of a service's log."""
    records = []
    for line in log_text(stack, service).splitlines():
        if line.startswith("{"):
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    return records
