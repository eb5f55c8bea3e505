"""One base cannot see or touch another's uploads, results, devices, processes, webhook, LAN
documents or deliveries: through any API, nor with an event naming the other base's delivery.

Base A uploads and works; base B tries everything with its own API key, device and LAN user,
and A's state is checked unchanged afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.messaging.topology import ROUTING_WORK
from tests.security.helpers import (
    delivered,
    envelope,
    paired,
    parked_with_reasons,
    publish,
)
from tests.support.documents import by_device, by_pin, order, upload
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, ApiError, TerminalClient
from tools.client.api import LanClient

OWN_PROCESS = {
    "name": "Приёмка базы А",
    "source_type": "Заказ поставщику",
    "terminal_type": "Приёмка",
    "result_type": "Приобретение товаров и услуг",
}


async def refused(call: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        await call
    return caught.value


def final_lines(quantity: str = "1") -> list[dict[str, Any]]:
    return [{"line_no": 1, "product_id": "prod-1", "quantity": quantity}]


@pytest.fixture
async def other(stack: Stack, admin: AdminClient) -> AsyncIterator[tuple[dict[str, str], Any]]:
    """Base B: its tenant and its accounting client."""
    tenant = await admin.create_tenant(f"Чужой склад {uuid.uuid4().hex[:6]}")
    async with AccountingClient(stack.url("gateway"), tenant["api_key"]) as accounting:
        yield tenant, accounting


async def test_another_bases_api_key_sees_and_touches_nothing_of_this_base(
    stack: Stack,
    admin: AdminClient,
    tenant: dict[str, str],
    accounting: AccountingClient,
    other: tuple[dict[str, str], AccountingClient],
) -> None:
    _, b = other
    async with paired(stack, tenant, mode="offline") as terminal:
        finished = order(lines=1)
        answer = await delivered(accounting, terminal, finished)
        await _finish(terminal, answer["deliveries"][0]["delivery_id"])
        done_id = finished["header"]["id"]
        await eventually(accounting.results, until=lambda r: len(r) == 1, what="A's result")
        await admin.put_process({"id": "own-receipt", **OWN_PROCESS}, tenant["tenant"])
        hook = await accounting.set_webhook("https://1c.example.ru/hs/tsdx/completed")

        # Uploads, results, devices.
        assert (await refused(b.upload_status(answer["request_id"]))).status == 404
        assert (await refused(b.result(done_id))).status == 404
        assert (await refused(b.mark_loaded(done_id))).status == 404
        assert await b.results() == []
        assert await b.devices() == []
        pin, device_id = terminal.device["pin"], terminal.device["device_id"]
        by_its_pin = await b.upload(upload(by_pin(pin), order()))
        by_its_id = await b.upload(upload(by_device(device_id), order()))
        assert by_its_pin["code"] == "device_not_found_by_pin"
        assert by_its_id["code"] == "device_not_found"

        # Processes of A's own.
        assert "own-receipt" not in {p["id"] for p in await b.processes()}
        assert (await refused(b.process("own-receipt"))).code == "process_not_found"
        with_it = await b.upload(upload(by_pin(pin), order(), process="own-receipt"))
        assert with_it["code"] == "process_not_found"

        # Webhook settings and the delivery log.
        assert (await b.webhook())["configured"] is False
        assert await b.webhook_deliveries() == []
        await b.delete_webhook()
        await b.set_webhook("https://b.example.ru/hook")

        # A's state is as it was.
        [result] = await accounting.results()
        assert (result["document_id"], result["state"]) == (done_id, "completed")
        assert [d["device_id"] for d in await accounting.devices()] == [device_id]
        assert (await accounting.webhook())["url"] == hook["url"]
        assert (await terminal.inbox())["documents"] == []  # nothing of B's reached it


async def _finish(terminal: TerminalClient, delivery_id: str) -> None:
    await terminal.acknowledge(delivery_id)
    answer = await terminal.send_result(delivery_id, uuid.uuid4().hex, final_lines(), final=True)
    assert answer["status"] == "received"


async def test_another_bases_device_cannot_download_acknowledge_or_answer_a_delivery(
    stack: Stack,
    tenant: dict[str, str],
    accounting: AccountingClient,
    other: tuple[dict[str, str], AccountingClient],
) -> None:
    b_tenant, _ = other
    async with paired(stack, tenant) as mine, paired(stack, b_tenant) as theirs:
        answer = await delivered(accounting, mine, order(lines=1))
        delivery_id = answer["deliveries"][0]["delivery_id"]
        result_id = uuid.uuid4().hex
        for call in (
            theirs.download(delivery_id),
            theirs.acknowledge(delivery_id),
            theirs.send_result(delivery_id, result_id, final_lines(), final=True),
            theirs.result_status(delivery_id, result_id),
        ):
            error = await refused(call)
            assert (error.status, error.code) == (404, "not_found")
        assert (await theirs.inbox())["documents"] == []
        [waiting] = (await mine.inbox())["documents"]
        assert (waiting["delivery_id"], waiting["state"]) == (delivery_id, "waiting")
        assert (await refused(mine.result_status(delivery_id, result_id))).status == 404


async def test_another_bases_lan_user_cannot_list_take_or_answer_a_document(
    stack: Stack,
    admin: AdminClient,
    tenant: dict[str, str],
    accounting: AccountingClient,
    other: tuple[dict[str, str], AccountingClient],
) -> None:
    b_tenant, _ = other
    await admin.create_user(tenant["tenant"], "ivanov", password="пароль-А")
    await admin.create_user(b_tenant["tenant"], "ivanov", password="пароль-Б")
    body = upload({"kind": "everyone"}, order(lines=1), channel="lan")
    answer = await accounting.upload(body)
    assert answer["status"] == "accepted", answer
    delivery_id = answer["deliveries"][0]["delivery_id"]
    url = stack.url("lan_writer")
    async with LanClient(url) as mine, LanClient(url) as namesake:
        await mine.login(tenant["tenant"], "ivanov", "пароль-А")
        await eventually(mine.documents, what="A's document in the LAN base")
        # B's credentials do not open A's base, even under the same login.
        assert (await refused(namesake.login(tenant["tenant"], "ivanov", "пароль-Б"))).status == 401
        await namesake.login(b_tenant["tenant"], "ivanov", "пароль-Б")
        assert await namesake.documents() == []
        for call in (
            namesake.document(delivery_id),
            namesake.take(delivery_id),
            namesake.release(delivery_id),
            namesake.send_result(delivery_id, uuid.uuid4().hex, final_lines(), final=True),
        ):
            error = await refused(call)
            assert (error.status, error.code) == (404, "not_found")
        [document] = await mine.documents()
        assert (document["delivery_id"], document["state"]) == (delivery_id, "free")


async def test_a_result_event_of_another_base_naming_a_delivery_is_parked_and_changes_nothing(
    stack: Stack,
    tenant: dict[str, str],
    accounting: AccountingClient,
    other: tuple[dict[str, str], AccountingClient],
) -> None:
    b_tenant, _ = other
    async with paired(stack, tenant) as terminal:
        document = order(lines=1)
        answer = await delivered(accounting, terminal, document)
        delivery_id = answer["deliveries"][0]["delivery_id"]
        forged = {
            "result_id": uuid.uuid4().hex,
            "delivery_id": delivery_id,
            "channel": "internet",
            "final": True,
            "lines": final_lines("7"),
            "user": "intruder",
        }
        message_id = f"forged-{uuid.uuid4().hex}"
        await publish(
            stack,
            "result.submitted",
            {message_id: envelope("result.submitted", forged, tenant=b_tenant["tenant"])},
        )
        reasons = await parked_with_reasons(stack, ROUTING_WORK.name, {message_id})
        assert reasons[message_id] == f"unknown delivery {delivery_id}"
        # A's document is not completed: its own terminal finishes it, with its own lines.
        assert await accounting.results() == []
        await terminal.acknowledge(delivery_id)
        await terminal.send_result(delivery_id, uuid.uuid4().hex, final_lines("2"), final=True)
        [done] = await eventually(accounting.results, what="A's own result")
        completed = await accounting.result(done["document_id"])
        assert [line["quantity"] for line in completed["result"]["lines"]] == ["2"]
