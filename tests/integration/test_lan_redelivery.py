"""The LAN writer on a real broker: a redelivered routed copy writes nothing twice, and a copy
it can never use is parked with its reason instead of being written.

Messages are published straight onto the events exchange of the running stack's vhost, as a
redelivery (or an outside adapter) would put them there.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from shared.contracts import Envelope, wrap
from shared.contracts.documents import Document, Target
from shared.contracts.uploads import DeliverySettings, DocumentRouted, DocumentRoutedV1
from shared.messaging.broker import Broker
from shared.messaging.parking import list_parked
from shared.messaging.topology import LAN_WRITER_WORK
from shared.settings import Settings
from tests.support.documents import order
from tests.support.stack import ADMIN_TOKEN
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client.api import LanAdminClient

ROUTED_KEY = "document.routed.lan"


@pytest.fixture
async def stack_broker(stack: Stack) -> AsyncIterator[Broker]:
    broker = Broker(Settings(amqp_url=stack.env["TSDX_AMQP_URL"]), "test")
    await broker.connect()
    yield broker
    await broker.close()


@pytest.fixture
async def operator(stack: Stack) -> AsyncIterator[LanAdminClient]:
    async with LanAdminClient(stack.url("lan_writer"), ADMIN_TOKEN) as client:
        yield client


def routed_v1(delivery_id: str, target: Target, number: str) -> DocumentRoutedV1:
    """One copy as routing sent it before the upgrade (a message per copy)."""
    return DocumentRoutedV1(
        delivery_id=delivery_id,
        request_id=uuid.uuid4().hex,
        process="purchase-receipt",
        version=1,
        channel="lan",
        target=target,
        settings=DeliverySettings(terminal_type="Поступление"),
        document=Document.model_validate(order(number=number)),
        requested_at=datetime.now(UTC),
    )


def routed(delivery_id: str, target: Target, number: str) -> DocumentRouted:
    """An upload's one copy, as routing sends it now."""
    return routed_v1(delivery_id, target, number).upgraded()


async def handled_routed(stack: Stack) -> float:
    """How many document.routed messages the LAN writer has acknowledged so far."""
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"{stack.url('lan_writer')}/metrics")).text
    pattern = r'^tsdx_messages_handled_total\{service="lan_writer",type="document\.routed"\} (\S+)$'
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_a_routed_copy_delivered_again_is_written_once(
    stack: Stack, stack_broker: Broker, operator: LanAdminClient
) -> None:
    tenant = f"lan-{uuid.uuid4().hex[:8]}"
    delivery_id = uuid.uuid4().hex
    group = Target(kind="group", value="storekeepers")
    first = wrap(routed(delivery_id, group, "0001"), tenant)
    # The same copy in another envelope, as a second relay of the same outbox row would not
    # be, but an outside adapter retrying might, or a message of the same copy sent before an
    # upgrade (version 1): the delivery id still keys it.
    again = wrap(routed_v1(delivery_id, group, "0002"), tenant)
    before = await handled_routed(stack)

    await stack_broker.publish_envelope(first, ROUTED_KEY)
    await stack_broker.publish_envelope(first, ROUTED_KEY)
    await stack_broker.publish_envelope(again, ROUTED_KEY)
    await eventually(
        lambda: handled_routed(stack),
        until=lambda count: count >= before + 3,
        what="all three deliveries acknowledged",
    )

    rows = await operator.documents(tenant)
    assert [r["delivery_id"] for r in rows] == [delivery_id]
    assert rows[0]["number"] == "0001"  # the first write stands
    assert rows[0]["state"] == "free"
    assert rows[0]["assigned_to"] == {"kind": "group", "value": "storekeepers"}


@pytest.mark.parametrize(
    ("target", "tenant", "reason"),
    [
        (Target(kind="pin", value="5546"), "lan-bad", "unusable target"),
        (Target(kind="user", value="ivanov"), None, "without a tenant"),
    ],
)
async def test_a_copy_the_base_cannot_use_is_parked_with_its_reason_and_not_written(
    stack: Stack,
    stack_broker: Broker,
    operator: LanAdminClient,
    target: Target,
    tenant: str | None,
    reason: str,
) -> None:
    envelope: Envelope = wrap(routed(uuid.uuid4().hex, target, "0003"), tenant)
    await stack_broker.publish_envelope(envelope, ROUTED_KEY)

    async def parked_here() -> list[Any]:
        return [
            p
            for p in await list_parked(stack_broker, LAN_WRITER_WORK)
            if p.message_id == envelope.id
        ]

    [parked] = await eventually(parked_here, what="copy parked")
    assert reason in parked.reason
    assert await operator.documents(tenant or "lan-bad") == []
