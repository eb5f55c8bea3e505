"""The accounting API end to end: uploads by PIN and from the device list, refusals, the same
request id, another base's device, validation and authentication, completed results.

Every service runs in its own process on a real RabbitMQ (one vhost per stack).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.support.documents import by_device, by_pin, order, upload
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, ApiError, TerminalClient

PIN_MESSAGE = "Устройство по пин-коду не найдено! Документы не выгружены в ТСД."


def _other_pin(pin: str) -> str:
    return ("1" if pin[0] != "1" else "2") + pin[1:]


@asynccontextmanager
async def paired(
    stack: Stack, tenant: dict[str, str], **kwargs: Any
) -> AsyncIterator[TerminalClient]:
    terminal = TerminalClient(stack.url("gateway"))
    try:
        await terminal.pair(
            tenant["connection_code"],
            f"@HONEYWELL-EDA50-V-{uuid.uuid4().hex[:8]}",
            "EDA50",
            **kwargs,
        )
        yield terminal
    finally:
        await terminal.close()


def raw(stack: Stack, token: str, language: str = "ru") -> httpx.AsyncClient:
    """Plain HTTP, for what the client class hides (status codes, query parameters)."""
    return httpx.AsyncClient(
        base_url=stack.url("gateway"),
        headers={"Authorization": f"Bearer {token}", "Accept-Language": language},
    )


async def test_upload_by_pin_then_pick_the_device_from_the_list(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    async with (
        paired(stack, tenant, name="EDA50") as first,
        paired(stack, tenant, name="EDA50") as second,
    ):
        assert first.device["pin"] != second.device["pin"]
        assert await accounting.devices() == []  # nothing addressed yet

        by_its_pin = await accounting.upload(upload(by_pin(first.device["pin"])))
        assert by_its_pin["status"] == "accepted", by_its_pin
        [delivery] = by_its_pin["deliveries"]
        assert delivery["device_pin"] == first.device["pin"]
        assert delivery["target"] == {"kind": "device", "value": first.device["device_id"]}

        # The device addressed by its PIN is now in the base's list, as 1C shows it.
        [listed] = await eventually(accounting.devices, what="the device in the list")
        assert listed["device_id"] == first.device["device_id"]
        assert listed["pin"] == first.device["pin"]
        assert listed["title"].startswith(f"{first.device['pin']}  EDA50, (@HONEYWELL-EDA50-V-")
        assert listed["mode"] == "online"
        assert listed["last_seen"] is not None

        picked = await accounting.upload(upload(by_device(listed["device_id"])))
        assert picked["status"] == "accepted", picked
        assert picked["deliveries"][0]["target"]["value"] == first.device["device_id"]

        inbox = await eventually(
            first.inbox, until=lambda r: len(r["documents"]) == 2, what="both copies delivered"
        )
        assert {d["delivery_id"] for d in inbox["documents"]} == {
            by_its_pin["deliveries"][0]["delivery_id"],
            picked["deliveries"][0]["delivery_id"],
        }
        assert (await second.inbox())["documents"] == []


async def test_wrong_pin_is_refused_in_the_callers_language(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    async with paired(stack, tenant) as terminal:
        wrong = _other_pin(terminal.device["pin"])
        body = upload(by_pin(wrong))
        async with raw(stack, tenant["api_key"]) as http:
            response = await http.post("/api/v1/uploads", json=body)
        assert response.status_code == 422
        refused = response.json()
        assert refused["status"] == "refused"
        assert refused["code"] == "device_not_found_by_pin"
        assert refused["message"] == PIN_MESSAGE
        assert "deliveries" not in refused

        async with AccountingClient(
            stack.url("gateway"), tenant["api_key"], language="en"
        ) as english:
            again = await english.upload_status(body["request_id"])
        assert again["code"] == "device_not_found_by_pin"
        assert again["message"].startswith("No device found by this PIN!")
        assert (await terminal.inbox())["documents"] == []
        assert await accounting.devices() == []


async def test_the_same_request_id_answers_the_same_and_delivers_once(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    async with paired(stack, tenant) as terminal:
        body = upload(by_pin(terminal.device["pin"]))
        first = await accounting.upload(body)
        assert first["status"] == "accepted"
        # Asked again with a different body: the request id decides, nothing new is sent.
        retried = {**body, "documents": [order(lines=5)]}
        assert await accounting.upload(retried) == {**first, "repeated": True}
        assert await accounting.upload_status(body["request_id"]) == first
        inbox = await eventually(terminal.inbox, until=lambda r: r["documents"])
        assert [d["delivery_id"] for d in inbox["documents"]] == [
            first["deliveries"][0]["delivery_id"]
        ]
        assert inbox["documents"][0]["lines"] == 2


async def test_another_bases_device_and_pin_are_refused(
    stack: Stack, admin: AdminClient, tenant: dict[str, str]
) -> None:
    other = await admin.create_tenant(f"Другой склад {uuid.uuid4().hex[:6]}")
    async with (
        paired(stack, tenant) as terminal,
        AccountingClient(stack.url("gateway"), other["api_key"]) as stranger,
    ):
        by_id = await stranger.upload(upload(by_device(terminal.device["device_id"])))
        assert by_id["status"] == "refused"
        assert by_id["code"] == "device_not_found"
        assert by_id["message"] == "Устройство не найдено или не принадлежит этой базе."

        by_its_pin = await stranger.upload(upload(by_pin(terminal.device["pin"])))
        assert by_its_pin["code"] == "device_not_found_by_pin"
        assert (await terminal.inbox())["documents"] == []
        assert await stranger.devices() == []


async def test_an_unknown_request_id_and_result_are_not_found(
    accounting: AccountingClient,
) -> None:
    with pytest.raises(ApiError) as missing:
        await accounting.upload_status("no-such-request")
    assert (missing.value.status, missing.value.code) == (404, "upload_not_found")
    assert "no-such-request" in missing.value.message  # what was not found, named
    with pytest.raises(ApiError) as no_result:
        await accounting.result("no-such-document")
    assert (no_result.value.status, no_result.value.code) == (404, "result_not_found")
    assert "no-such-document" in no_result.value.message
    with pytest.raises(ApiError) as not_loaded:
        await accounting.mark_loaded("no-such-document")
    assert (not_loaded.value.status, not_loaded.value.code) == (404, "result_not_found")


async def test_a_wrong_api_key_is_named_as_the_base_s_api_key(stack: Stack) -> None:
    # The code stays unauthorized (what clients act on); the message says which key, and where.
    async with raw(stack, "wrong-key") as http:
        answers = [
            await http.post("/api/v1/uploads", json=upload(by_pin("0000"))),  # the plain route
            await http.get("/api/v1/devices"),
        ]
    async with httpx.AsyncClient(base_url=stack.url("gateway")) as bare:
        answers.append(await bare.get("/api/v1/devices"))  # no key at all
    for answer in answers:
        assert answer.status_code == 401
        refused = answer.json()
        assert refused["code"] == "unauthorized"
        assert refused["message"].startswith("Нет доступа: неверный или отсутствующий ключ API")
        assert "TSDX_API_KEY" in refused["message"]


async def test_a_negative_quantity_written_as_a_number_is_refused_at_once(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    # As 1C's ЗаписатьJSON writes it: a JSON number. It once passed the gateway and was parked
    # by routing, the upload pending for ever.
    body = upload(by_pin("0000"))
    body["documents"][0]["lines"][0]["planned_qty"] = -1
    async with raw(stack, tenant["api_key"]) as http:
        response = await http.post("/api/v1/uploads", json=body)
    assert response.status_code == 422, response.text
    refused = response.json()
    assert refused["code"] == "quantity_invalid"
    assert refused["errors"][0]["reason"] == "количество отрицательное"
    with pytest.raises(ApiError) as missing:
        await accounting.upload_status(body["request_id"])
    assert missing.value.status == 404


async def test_validation_errors_name_the_field_and_change_nothing(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    body = upload(by_pin("0000"))
    del body["target"]
    body["documents"][0]["lines"][0]["planned_qty"] = "-1"
    async with raw(stack, tenant["api_key"], "en") as http:
        response = await http.post("/api/v1/uploads", json=body)
    assert response.status_code == 422
    refused = response.json()
    assert refused["code"] == "validation_error"
    fields = {e["field"]: e["reason"] for e in refused["errors"]}
    assert fields["body.target"] == "Field required"
    assert "body.documents.0.lines.0.planned_qty" in fields
    assert refused["message"].startswith("Invalid request: body.target: Field required")
    # In Russian each reason is said in Russian; the field and pydantic's kind stay as they are.
    async with raw(stack, tenant["api_key"], "ru") as http:
        said = (await http.post("/api/v1/uploads", json=body)).json()
    reasons = {e["field"]: (e["type"], e["reason"]) for e in said["errors"]}
    assert reasons["body.target"] == ("missing", "обязательное поле не указано")
    assert reasons["body.documents.0.lines.0.planned_qty"] == (
        "quantity_invalid",
        "количество отрицательное",
    )
    assert said["message"] == (
        "Ошибка в запросе: body.target: обязательное поле не указано; "
        "body.documents.0.lines.0.planned_qty (документ 1, 1-я строка): количество отрицательное"
    )
    with pytest.raises(ApiError) as missing:
        await accounting.upload_status(body["request_id"])
    assert missing.value.status == 404


async def test_every_call_needs_the_right_kind_of_key(stack: Stack, tenant: dict[str, str]) -> None:
    gateway = stack.url("gateway")
    async with httpx.AsyncClient(base_url=gateway) as http:
        anonymous = await http.get("/api/v1/devices")
        assert anonymous.status_code == 401
        assert anonymous.json()["code"] == "unauthorized"
        wrong = await http.get("/api/v1/results", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        # An API key is not a device credential, and the other way round.
        as_terminal = await http.get(
            "/api/v1/terminal/inbox", headers={"Authorization": f"Bearer {tenant['api_key']}"}
        )
        assert as_terminal.status_code == 401
    async with paired(stack, tenant) as terminal:
        credential = terminal.device["credential"]
        async with httpx.AsyncClient(base_url=gateway) as http:
            as_base = await http.get(
                "/api/v1/devices", headers={"Authorization": f"Bearer {credential}"}
            )
        assert as_base.status_code == 401


async def _finish(terminal: TerminalClient, delivery_id: str, quantities: list[str]) -> None:
    await terminal.acknowledge(delivery_id)
    lines = [
        {"line_no": n, "product_id": f"prod-{n}", "quantity": q}
        for n, q in enumerate(quantities, start=1)
    ]
    answer = await terminal.send_result(delivery_id, uuid.uuid4().hex, lines, final=True)
    assert answer["status"] == "received"


async def test_an_offline_devices_result_waits_until_loaded(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    async with paired(stack, tenant, mode="offline") as terminal:
        document = order(lines=2)
        answer = await accounting.upload(upload(by_pin(terminal.device["pin"]), document))
        delivery_id = answer["deliveries"][0]["delivery_id"]
        await eventually(terminal.inbox, until=lambda r: r["documents"])
        await _finish(terminal, delivery_id, ["2", "3.5"])

        document_id = document["header"]["id"]
        listed = await eventually(
            accounting.results,
            until=lambda rs: any(r["document_id"] == document_id for r in rs),
            what="the completed document listed",
        )
        [item] = [r for r in listed if r["document_id"] == document_id]
        assert item["mode"] == "offline"
        assert item["state"] == "completed"
        assert item["result_type"] == "Приобретение товаров и услуг"

        full = await accounting.result(document_id)
        assert full["result"]["header"]["number"] == document["header"]["number"]
        merged = {line["line_no"]: Decimal(line["quantity"]) for line in full["result"]["lines"]}
        assert merged == {1: Decimal(2), 2: Decimal("3.5")}
        assert "per_user" in full["result"]

        async with raw(stack, tenant["api_key"]) as http:
            online_only = (await http.get("/api/v1/results", params={"mode": "online"})).json()
            offline_only = (await http.get("/api/v1/results", params={"mode": "offline"})).json()
        assert document_id not in [r["document_id"] for r in online_only["results"]]
        assert document_id in [r["document_id"] for r in offline_only["results"]]

        # Uploading it again before its result is loaded would lose that result: refused.
        refused = await accounting.upload(upload(by_pin(terminal.device["pin"]), document))
        assert (refused["status"], refused["code"]) == ("refused", "document_result_not_loaded")
        assert document["header"]["number"] in refused["message"]
        assert (await accounting.result(document_id))["result"]["lines"] == full["result"]["lines"]

        assert await accounting.mark_loaded(document_id) == {
            "document_id": document_id,
            "state": "loaded",
        }
        assert (await accounting.mark_loaded(document_id))["state"] == "loaded"  # idempotent
        assert document_id not in [r["document_id"] for r in await accounting.results()]
        assert (await accounting.result(document_id))["state"] == "loaded"

        # Once loaded, the document may go out again: a new version, a new copy.
        accepted = await eventually(
            lambda: accounting.upload(upload(by_pin(terminal.device["pin"]), document)),
            until=lambda answer: answer["status"] == "accepted",
            what="the loaded document uploaded again",
        )
        assert accepted["deliveries"][0]["delivery_id"] != delivery_id


async def test_per_user_lines_when_the_process_does_not_keep_them_merged(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    async with paired(stack, tenant, mode="offline") as terminal:
        document = order(lines=1)
        document["header"]["accounting_type"] = "Приходный ордер на товары"
        answer = await accounting.upload(
            upload(by_pin(terminal.device["pin"]), document, process="storekeepers-receipt")
        )
        assert answer["status"] == "accepted", answer
        await _finish(terminal, answer["deliveries"][0]["delivery_id"], ["2"])
        document_id = document["header"]["id"]
        await eventually(
            accounting.results,
            until=lambda rs: any(r["document_id"] == document_id for r in rs),
            what="the completed document listed",
        )
        full = await accounting.result(document_id)
        device_id = terminal.device["device_id"]
        assert [Decimal(line["quantity"]) for line in full["result"]["lines"]] == [Decimal(2)]
        assert list(full["result"]["per_user"]) == [device_id]
        [own] = full["result"]["per_user"][device_id]
        assert (own["user"], Decimal(own["quantity"])) == (device_id, Decimal(2))
