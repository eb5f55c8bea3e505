"""Hostile AMQP messages are parked at once with a reason that says what is wrong, and the
queue goes on: a good upload right after them is routed and delivered. The HTTP side refuses
the same shapes by name (422), never with a server error.

The stack of this package parks messages over 256 KiB (``TSDX_MAX_MESSAGE_BYTES``), so the
oversized one need not be the default 32 MiB.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.contracts.documents import EXTRA_MAX_DEPTH
from shared.messaging.topology import ROUTING_WORK
from tests.security.conftest import MESSAGE_LIMIT
from tests.security.helpers import delivered, envelope, paired, parked_with_reasons, publish
from tests.support.documents import by_pin, order, upload
from tests.support.stack import ADMIN_TOKEN
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, ApiError


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"значение": "дно"}
    for _ in range(levels - 1):
        value = {"уровень": value}
    return value


@pytest.fixture
async def base(guarded_stack: Stack) -> AsyncIterator[tuple[dict[str, str], AccountingClient]]:
    async with AdminClient(guarded_stack.url("gateway"), ADMIN_TOKEN) as admin:
        tenant = await admin.create_tenant(f"Склад {uuid.uuid4().hex[:6]}")
    async with AccountingClient(guarded_stack.url("gateway"), tenant["api_key"]) as accounting:
        yield tenant, accounting


def _upload_with(tenant: str, change: Any) -> bytes:
    """An upload.requested envelope whose only document is changed by ``change``."""
    document = order(lines=1)
    change(document)
    payload = upload(by_pin("0000"), document)
    return envelope("upload.requested", payload, tenant=tenant)


def _pad_comment(document: dict[str, Any]) -> None:
    document["header"]["extra"] = {"Примечание": "Я" * MESSAGE_LIMIT}


def _long_number(document: dict[str, Any]) -> None:
    document["header"]["number"] = "9" * 100_000


def _deep_extra(document: dict[str, Any]) -> None:
    document["lines"][0]["extra"] = nested(300)


async def test_hostile_messages_are_parked_with_a_reason_and_the_queue_goes_on(
    guarded_stack: Stack, base: tuple[dict[str, str], AccountingClient]
) -> None:
    tenant, accounting = base
    t = tenant["tenant"]
    huge = _upload_with(t, _pad_comment)
    messages = {
        "huge": huge,
        "unknown-version": envelope(
            "upload.requested", upload(by_pin("0000")), tenant=t, version=9
        ),
        "deep-json": b"[" * 5000 + b"]" * 5000,
        "deep-extra": _upload_with(t, _deep_extra),
        "long-string": _upload_with(t, _long_number),
    }
    ids = {name: f"{name}-{uuid.uuid4().hex[:8]}" for name in messages}
    await publish(
        guarded_stack,
        "upload.requested",
        {ids[name]: body for name, body in messages.items()},
    )
    parked = await parked_with_reasons(guarded_stack, ROUTING_WORK.name, set(ids.values()))
    reasons = {name: parked[ids[name]] for name in messages}

    assert reasons["huge"] == f"message too large: {len(huge)} bytes > {MESSAGE_LIMIT}"
    assert reasons["unknown-version"] == "unknown version 9 of message type 'upload.requested'"
    assert reasons["deep-json"].startswith("not JSON: nested too deeply")
    assert reasons["deep-extra"] == (
        "bad upload.requested payload: documents.0.lines.0.extra: "
        f"Value error, nested deeper than {EXTRA_MAX_DEPTH} levels"
    )
    assert reasons["long-string"] == (
        "bad upload.requested payload: documents.0.header.number: "
        "String should have at most 100 characters"
    )
    # A reason is short: it never carries the message's content back.
    assert all(len(reason) < 300 for reason in reasons.values()), reasons

    # The queue is not blocked: a good upload right after is routed and delivered.
    async with paired(guarded_stack, tenant) as terminal:
        answer = await delivered(accounting, terminal, order())
        assert answer["status"] == "accepted"


async def test_the_http_side_refuses_deep_nesting_by_name_not_with_a_server_error(
    guarded_stack: Stack, base: tuple[dict[str, str], AccountingClient]
) -> None:
    tenant, accounting = base
    async with paired(guarded_stack, tenant) as terminal:
        deep = order(lines=1)
        deep["header"]["extra"] = nested(300)
        refused = await accounting.upload(upload(by_pin(terminal.device["pin"]), deep))
        assert refused["code"] == "validation_error"
        [error] = refused["errors"]
        assert error["field"] == "body.documents.0.header.extra"
        assert error["reason"] == f"Value error, nested deeper than {EXTRA_MAX_DEPTH} levels"
        assert (await terminal.inbox())["documents"] == []

        # At the limit it is taken, and reaches the terminal as sent.
        at_limit = order(lines=1)
        at_limit["lines"][0]["extra"] = nested(EXTRA_MAX_DEPTH)
        answer = await delivered(accounting, terminal, at_limit)
        delivery_id = answer["deliveries"][0]["delivery_id"]
        copy = await terminal.download(delivery_id)
        assert copy["document"]["lines"][0]["extra"] == nested(EXTRA_MAX_DEPTH)

        # A terminal's result with deep free-form data is refused the same way.
        lines = [{"line_no": 1, "product_id": "prod-1", "quantity": "1", "extra": nested(300)}]
        with pytest.raises(ApiError) as caught:
            await terminal.send_result(delivery_id, "r-1", lines, final=True)
        assert (caught.value.status, caught.value.code) == (422, "validation_error")
        assert caught.value.body["errors"][0]["field"] == "body.lines.0.extra"
