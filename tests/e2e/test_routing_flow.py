"""The internet channel end to end, as 1C and a terminal see it: quantity control, results
pushed or kept, and the next business process. (Re-upload and recall on the internet channel
are in tests/integration/test_routing_decisions.py, which can wait for routing to learn of a
download before uploading again.)

Every service runs in its own process on a real RabbitMQ; the test speaks HTTP only.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, TerminalClient


@pytest.fixture
async def terminal(stack: Stack, tenant: dict[str, str]) -> AsyncIterator[TerminalClient]:
    async with TerminalClient(stack.url("gateway")) as client:
        await client.pair(tenant["connection_code"], f"@HW-{uuid.uuid4().hex[:8]}", "EDA50")
        yield client


def document(accounting_type: str, number: str = "0000-000123") -> dict[str, Any]:
    return {
        "header": {"accounting_type": accounting_type, "id": str(uuid.uuid4()), "number": number},
        "lines": [
            {"line_no": n, "product_id": f"p{n}", "name": f"Товар {n}", "planned_qty": str(n * 5)}
            for n in (1, 2)
        ],
    }


def upload(process: str, pin: str, doc: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "request_id": uuid.uuid4().hex,
        "process": process,
        "target": {"kind": "pin", "value": pin},
        "documents": [doc],
        **extra,
    }


def fact(line_no: int, quantity: str) -> dict[str, Any]:
    return {"line_no": line_no, "product_id": f"p{line_no}", "quantity": quantity}


async def inbox_until(terminal: TerminalClient, until: Any, what: str) -> dict[str, Any]:
    result: dict[str, Any] = await eventually(lambda: terminal.inbox(), until=until, what=what)
    return result


async def test_quantity_control_refuses_an_over_plan_result_and_takes_a_corrected_one(
    terminal: TerminalClient, accounting: AccountingClient
) -> None:
    picking = document("Заказ клиента")  # plans 5 of p1, 10 of p2
    answer = await accounting.upload(upload("picking", terminal.device["pin"], picking))
    [copy] = answer["deliveries"]
    delivery = copy["delivery_id"]
    downloaded = await terminal.download(delivery)
    assert downloaded["settings"]["quantity_control"] is True
    await terminal.acknowledge(delivery)

    await terminal.send_result(delivery, "over", [fact(1, "5"), fact(2, "12")], final=True)
    status = await eventually(
        lambda: terminal.result_status(delivery, "over"),
        until=lambda s: s["status"] == "refused",
        what="the over-plan result refused",
    )
    assert status["refusal"]["code"] == "quantity_over_plan"
    assert status["refusal"]["message"] == "Строка 2: количество 12 больше плана 10."
    assert await accounting.results() == []

    await terminal.send_result(delivery, "fixed", [fact(1, "5"), fact(2, "10")], final=True)
    [kept] = await eventually(accounting.results, what="result")
    assert (kept["document_id"], kept["process"]) == (picking["header"]["id"], "picking")
    result = await accounting.result(picking["header"]["id"])
    assert [(f["product_id"], f["quantity"]) for f in result["result"]["lines"]] == [
        ("p1", "5"),
        ("p2", "10"),
    ]


async def test_online_results_are_pushed_and_offline_ones_wait_to_be_loaded(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    finished = {}
    for mode in ("online", "offline"):
        async with TerminalClient(stack.url("gateway")) as device:
            await device.pair(
                tenant["connection_code"], f"@HW-{mode}-{uuid.uuid4().hex[:6]}", mode=mode
            )
            doc = document("Заказ поставщику")
            answer = await accounting.upload(upload("purchase-receipt", device.device["pin"], doc))
            [copy] = answer["deliveries"]
            await device.send_result(copy["delivery_id"], "r", [fact(1, "5")], final=True)
            finished[mode] = doc["header"]["id"]

    results = await eventually(
        lambda: accounting.results(), until=lambda r: len(r) == 2, what="both results"
    )
    assert {r["document_id"]: r["mode"] for r in results} == {
        finished["online"]: "online",
        finished["offline"]: "offline",
    }
    assert all(r["result_type"] == "Приобретение товаров и услуг" for r in results)


async def test_the_next_business_process_starts_on_completion(
    terminal: TerminalClient, accounting: AccountingClient
) -> None:
    receipt = document("Приходный ордер на товары")
    doc_id = receipt["header"]["id"]
    answer = await accounting.upload(
        upload("storekeepers-receipt", terminal.device["pin"], receipt)
    )
    assert answer["status"] == "accepted", answer
    [copy] = answer["deliveries"]
    await terminal.acknowledge(copy["delivery_id"])
    await terminal.send_result(copy["delivery_id"], "r", [fact(1, "4"), fact(2, "9")], final=True)

    follow_up_id = f"{doc_id}:storekeepers-placement"
    inbox = await inbox_until(
        terminal,
        lambda r: any(d["document_id"] == follow_up_id for d in r["documents"]),
        "the placement in the same terminal's inbox",
    )
    [placement] = [d for d in inbox["documents"] if d["document_id"] == follow_up_id]
    assert placement["terminal_type"] == "Размещение"
    assert placement["accounting_type"] == "Приходный ордер на товары"
    downloaded = await terminal.download(placement["delivery_id"])
    assert [
        (line["product_id"], line["planned_qty"]) for line in downloaded["document"]["lines"]
    ] == [
        ("p1", "4"),
        ("p2", "9"),
    ]
    assert downloaded["document"]["header"]["extra"]["based_on"] == doc_id

    started = await accounting.upload_status(follow_up_id)
    assert (started["status"], started["deliveries"][0]["device_pin"]) == (
        "accepted",
        terminal.device["pin"],
    )
    [kept] = await eventually(accounting.results, what="result")
    assert (kept["document_id"], kept["result_type"]) == (doc_id, "Приходный ордер на товары")
