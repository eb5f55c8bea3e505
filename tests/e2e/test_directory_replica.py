"""Routing decides from its own copy of the registry's directory: uploads are decided with the
registry stopped, a copy routed on news that came too late is returned to the accounting side
(or moved to a replacement), and a routing that was down catches up with the registry.

Every service runs in its own process on a real RabbitMQ (a vhost of the test's own); the
tests speak HTTP, and reach the broker only to hold back one event on its way to routing.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage

from services.routing import repository as routing_repo
from shared.messaging.topology import EVENTS_EXCHANGE, ROUTING_WORK
from shared.settings import Settings
from shared.storage import open_store
from tests.support.stack import ADMIN_TOKEN
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, TerminalClient

RECEIPT = "Заказ поставщику"  # the source type of purchase-receipt
PATIENT = 60.0  # the machine may be loaded: generous deadlines, never asserted


def a_document(number: str = "0000-000777") -> dict[str, Any]:
    return {
        "header": {"accounting_type": RECEIPT, "id": str(uuid.uuid4()), "number": number},
        "lines": [{"line_no": 1, "product_id": "p1", "name": "Товар", "planned_qty": "3"}],
    }


def upload_to(pin: str, *documents: dict[str, Any]) -> dict[str, Any]:
    return {
        "request_id": uuid.uuid4().hex,
        "process": "purchase-receipt",
        "target": {"kind": "pin", "value": pin},
        "documents": list(documents),
    }


class Base:
    """One accounting base on the test's own stack, with its clients."""

    def __init__(self, stack: Stack, admin: AdminClient, tenant: dict[str, str]) -> None:
        self.stack = stack
        self.admin = admin
        self.tenant = tenant
        self.id = tenant["tenant"] if "tenant" in tenant else tenant["id"]

    async def terminal(self, name: str) -> TerminalClient:
        client = TerminalClient(self.stack.url("gateway"))
        await client.__aenter__()
        await client.pair(self.tenant["connection_code"], f"@HW-{uuid.uuid4().hex[:8]}", name)
        return client


@pytest.fixture
async def base(fresh_stack: Stack) -> AsyncIterator[Base]:
    async with AdminClient(fresh_stack.url("gateway"), ADMIN_TOKEN) as admin:
        tenant = await admin.create_tenant(f"Склад {uuid.uuid4().hex[:6]}")
        yield Base(fresh_stack, admin, tenant)


@pytest.fixture
async def accounting(base: Base) -> AsyncIterator[AccountingClient]:
    async with AccountingClient(base.stack.url("gateway"), base.tenant["api_key"]) as client:
        yield client


async def known_to_routing(accounting: AccountingClient, pin: str) -> dict[str, Any]:
    """Upload to the PIN until routing accepts it: its copy of the directory knows the device."""
    answer: dict[str, Any] = await eventually(
        lambda: accounting.upload(upload_to(pin, a_document())),
        until=lambda a: a.get("status") == "accepted",
        timeout=PATIENT,
        what=f"routing knowing the device with PIN {pin}",
    )
    return answer


async def inbox_ids(terminal: TerminalClient) -> set[str]:
    inbox = await terminal.inbox()
    return {d["document_id"] for d in inbox["documents"]}


async def test_uploads_by_pin_are_decided_while_the_registry_is_stopped(
    base: Base, accounting: AccountingClient
) -> None:
    terminal = await base.terminal("EDA50")
    pin, device_id = terminal.device["pin"], terminal.device["device_id"]
    await eventually(
        lambda: _routing_replica(base.stack),
        until=lambda replica: device_id in replica,
        timeout=PATIENT,
        what="routing's copy of the directory knowing the device",
    )

    base.stack.kill("registry")
    document = a_document("0000-000900")
    answer = await accounting.upload(upload_to(pin, document))

    assert answer["status"] == "accepted"
    assert [d["device_pin"] for d in answer["deliveries"]] == [pin]
    await eventually(
        lambda: inbox_ids(terminal),
        until=lambda ids: document["header"]["id"] in ids,
        timeout=PATIENT,
        what="the document in the terminal's inbox",
    )
    # A PIN missing from the copy is asked of the registry, which does not answer: the copy's
    # answer stands, once the question has timed out (the upload may be answered "pending").
    missed = upload_to("999999", a_document())
    await accounting.upload(missed)
    wrong = await eventually(
        lambda: accounting.upload_status(missed["request_id"]),
        until=lambda a: a["status"] != "pending",
        timeout=PATIENT,
        what="the wrong PIN's decision",
    )
    assert (wrong["status"], wrong["code"]) == ("refused", "device_not_found_by_pin")

    # The base's device list (the picker in 1C) fills from that decision once the registry is
    # back: the device was addressed only while it was away (the list is the registry's: it
    # cannot be read meanwhile).
    base.stack.start("registry")
    base.stack.wait_ready(timeout=PATIENT, services=("registry",))
    picker = await eventually(
        accounting.devices,
        until=lambda ds: [d["pin"] for d in ds] == [pin],
        timeout=PATIENT,
        what="the device in the base's device list",
    )
    assert picker[0]["device_id"] == device_id


class HeldBack:
    """Holds ``device.changed`` back from routing (as a slow network would), then lets it go."""

    def __init__(self, url: str) -> None:
        self._url = url
        self.held: list[AbstractIncomingMessage] = []

    async def __aenter__(self) -> HeldBack:
        self._connection = await aio_pika.connect_robust(self._url)
        self._channel = await self._connection.channel()
        self._events = await self._channel.get_exchange(EVENTS_EXCHANGE)
        self._work = await self._channel.get_queue(ROUTING_WORK.name)
        self._hold = await self._channel.declare_queue(exclusive=True, auto_delete=True)
        await self._hold.bind(self._events, routing_key="device.changed")
        await self._work.unbind(self._events, routing_key="device.changed")
        return self

    async def take(self) -> list[AbstractIncomingMessage]:
        message = await self._hold.get(no_ack=False, fail=False)
        if message is not None:
            self.held.append(message)
        return self.held

    async def let_go(self) -> None:
        """Bind routing again and hand it what was held, as it was published."""
        await self._work.bind(self._events, routing_key="device.changed")
        for message in self.held:
            await self._channel.default_exchange.publish(
                aio_pika.Message(
                    message.body,
                    headers=message.headers,
                    message_id=message.message_id,
                    content_type=message.content_type,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=ROUTING_WORK.name,
            )
            await message.ack()

    async def __aexit__(self, *exc: object) -> None:
        await self._work.bind(self._events, routing_key="device.changed")
        await self._connection.close()


@pytest.mark.slow
async def test_a_document_routed_to_a_device_blocked_before_routing_heard_of_it_comes_back(
    base: Base, accounting: AccountingClient
) -> None:
    terminal = await base.terminal("EDA50")
    pin, device_id = terminal.device["pin"], terminal.device["device_id"]
    await known_to_routing(accounting, pin)

    async with HeldBack(base.stack.env["TSDX_AMQP_URL"]) as news:
        await base.admin.block_device(base.id, device_id)
        await eventually(news.take, timeout=PATIENT, what="the block's event held back")
        document = a_document("0000-000901")
        answer = await accounting.upload(upload_to(pin, document))
        assert answer["status"] == "accepted"  # routing did not know yet
        await news.let_go()

    document_id = document["header"]["id"]
    results = await eventually(
        accounting.results,
        until=lambda rs: any(r["document_id"] == document_id for r in rs),
        timeout=PATIENT,
        what="the returned document among the base's results",
    )
    [returned] = [r for r in results if r["document_id"] == document_id]
    assert returned["state"] == "returned"
    assert returned["returned"]["code"] == "returned_device_blocked"
    assert returned["returned"]["message"]["ru"] == (
        f"Документ 0000-000901 возвращён: устройство {pin} было заблокировано до выгрузки."
    )
    journey = await accounting.document(document_id)
    steps = [s["step"] for s in journey["timeline"]]
    assert steps[-1] == "returned" and "routed" in steps
    assert journey["state"] == "returned"
    # The upload's answer stays what it was: a late return is news, not a changed answer.
    assert (await accounting.upload_status(answer["request_id"]))["status"] == "accepted"
    await accounting.mark_loaded(document_id)
    assert all(r["document_id"] != document_id for r in await accounting.results())


@pytest.mark.slow
async def test_documents_in_flight_to_a_replaced_device_all_reach_the_replacement(
    base: Base, accounting: AccountingClient
) -> None:
    broken = await base.terminal("EDA50 (разбит)")
    successor = await base.terminal("EDA50")
    pin = broken.device["pin"]
    await known_to_routing(accounting, pin)
    await known_to_routing(accounting, successor.device["pin"])

    documents = [a_document(f"0000-0010{n:02d}") for n in range(8)]

    async def upload_one(document: dict[str, Any]) -> dict[str, Any]:
        return await accounting.upload(upload_to(pin, document))

    replaced, *answers = await asyncio.gather(
        base.admin.replace_device(
            base.id, broken.device["device_id"], successor.device["device_id"]
        ),
        *(upload_one(d) for d in documents),
    )
    assert replaced  # the registry's answer; the PIN moved with the work:
    shown = {d["device_id"]: d for d in await base.admin.devices(base.id)}
    assert shown[successor.device["device_id"]]["pin"] == pin
    assert [a["status"] for a in answers] == ["accepted"] * len(documents)
    wanted = {d["header"]["id"] for d in documents}
    await eventually(
        lambda: inbox_ids(successor),
        until=lambda ids: wanted <= ids,
        timeout=PATIENT,
        what="every document in the replacement's inbox",
    )
    for document_id in wanted:
        journey = await accounting.document(document_id)
        assert journey["state"] != "returned"


async def _routing_replica(stack: Stack) -> dict[str, tuple[str, str, str, str]]:
    settings = Settings(
        data_dir=stack.env["TSDX_DATA_DIR"], db_prefix=stack.env.get("TSDX_DB_PREFIX", "tsdx")
    )
    store = await open_store(settings, "routing", routing_repo.COLLECTIONS)
    try:
        rows = await store.find(routing_repo.REPLICA_DEVICES.name)
    finally:
        await store.close()
    return {r["id"]: (r["pin"], r["name"], r["mode"], r["status"]) for r in rows}


async def _drop_routings_queue(url: str, changes: int) -> None:
    """Lose what waits for routing (as a queue deleted and declared again would), once the
    ``changes`` events of the devices are all in it."""
    connection = await aio_pika.connect_robust(url)
    async with connection:
        channel = await connection.channel()

        async def waiting() -> int:
            queue = await channel.declare_queue(ROUTING_WORK.name, passive=True)
            return queue.declaration_result.message_count or 0

        await eventually(
            waiting, until=lambda n: n >= changes, timeout=PATIENT, what="the events queued"
        )
        await (await channel.get_queue(ROUTING_WORK.name)).purge()


@pytest.mark.slow
@pytest.mark.parametrize("events", ["kept", "lost"])
async def test_routing_restarted_after_devices_changed_while_it_was_down_equals_the_registry(
    base: Base, accounting: AccountingClient, events: str
) -> None:
    """With the events kept, routing applies them; with them lost, its snapshot request at
    start-up alone brings it level with the registry."""
    terminals = [await base.terminal(f"ТСД {n}") for n in range(4)]
    await known_to_routing(accounting, terminals[0].device["pin"])

    base.stack.kill("routing")
    ids = [t.device["device_id"] for t in terminals]
    await base.admin.block_device(base.id, ids[0])
    await base.admin.retire_device(base.id, ids[1])
    await base.admin.replace_device(base.id, ids[2], ids[3])
    late = await base.terminal("ТСД новый")
    if events == "lost":
        # blocked, retired, replaced (the old one and the new one), paired
        await _drop_routings_queue(base.stack.env["TSDX_AMQP_URL"], changes=5)
    base.stack.start("routing")
    base.stack.wait_ready(timeout=PATIENT, services=("routing",))

    registry = {
        d["device_id"]: (d["pin"], d["name"], d["mode"], d["status"])
        for d in await base.admin.devices(base.id)
    }
    assert late.device["device_id"] in registry and registry[ids[0]][3] == "blocked"
    await eventually(
        lambda: _routing_replica(base.stack),
        until=lambda replica: {k: v for k, v in replica.items() if k in registry} == registry,
        timeout=PATIENT,
        what="routing's copy of the directory equal to the registry's",
    )
    answer = await accounting.upload(upload_to(late.device["pin"], a_document()))
    assert answer["status"] == "accepted"


async def test_a_device_paired_a_moment_ago_is_found_though_its_news_has_not_reached_routing(
    base: Base, accounting: AccountingClient
) -> None:
    """1C may name a terminal the moment it is paired, while the pairing's event still waits
    on its way to routing: routing then asks the registry for that one device."""
    async with HeldBack(base.stack.env["TSDX_AMQP_URL"]) as news:
        terminal = await base.terminal("EDA51")
        pin = terminal.device["pin"]
        await eventually(news.take, timeout=PATIENT, what="the pairing's event held back")
        document = a_document("0000-000950")
        body = upload_to(pin, document)
        await accounting.upload(body)
        answer = await eventually(
            lambda: accounting.upload_status(body["request_id"]),
            until=lambda a: a["status"] != "pending",
            timeout=PATIENT,
            what="routing's decision",
        )
        assert answer["status"] == "accepted"
        await eventually(
            lambda: inbox_ids(terminal),
            until=lambda ids: document["header"]["id"] in ids,
            timeout=PATIENT,
            what="the document in the terminal's inbox",
        )
        assert document["header"]["id"] in await inbox_ids(terminal)
        await news.let_go()
