"""The integrator's guide shows real answers: the documented calls are made against the running
stack, and each example answer (``<!-- answer: NAME -->`` in docs/accounting-api.md and its
Russian twin) must have the keys, codes, parameters and value types of the real one; device
ids must look like real ones."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.e2e.test_gateway_accounting import _finish, paired, raw
from tests.support.documents import by_pin, order, upload
from tests.support.onec_text import GUIDES, documented_answers, same_shape
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AdminClient

# Shown by tests/e2e/test_gateway_webhooks.py, whose stack pushes to a receiver of its own.
PUSHED = {"webhook-event", "webhook-deliveries"}


async def real_answers(stack: Stack, tenant: dict[str, str], admin: AdminClient) -> dict[str, Any]:
    real: dict[str, Any] = {}
    async with (
        paired(stack, tenant, name="EDA50", mode="offline") as terminal,
        raw(stack, tenant["api_key"]) as http,
    ):
        pin = terminal.device["pin"]
        document = order(lines=1)
        document["header"]["accounting_type"] = "Приходный ордер на товары"
        document["header"]["extra"] = {"Контрагент.Код": "000000017"}
        accepted = await http.post(
            "/api/v1/uploads",
            json=upload(by_pin(pin), document, process="storekeepers-receipt"),
        )
        real["upload-accepted"] = accepted.json()
        wrong_pin = "1" if pin[0] != "1" else "2"
        real["upload-refused-pin"] = (
            await http.post("/api/v1/uploads", json=upload(by_pin(wrong_pin + pin[1:])))
        ).json()
        real["upload-1c-refused"] = (
            await http.post(
                "/api/v1/uploads",
                params={"request_id": uuid.uuid4().hex, "process": "purchase-receipt",
                        "pin": pin},
                content=json.dumps({"Ссылка": str(uuid.uuid4()), "ВидДокумента": "ЗаказПоставщику",
                                    "Товары": [{"Номенклатура": "x", "Количество": "1"},
                                               {"Номенклатура": "y",
                                                "Количество": "два с половиной"}]}),
                headers={"Content-Type": "application/vnd.1c+json"},
            )
        ).json()  # fmt: skip
        real["validation-error"] = (
            await http.post("/api/v1/uploads", json={"request_id": "r", "process": "p",
                                                     "documents": [document]})
        ).json()  # fmt: skip
        real["devices"] = (
            await eventually(
                lambda: http.get("/api/v1/devices"),
                until=lambda answer: answer.json()["devices"],
                what="the device in the list",
            )
        ).json()
        real["processes"] = (await http.get("/api/v1/processes")).json()

        await eventually(terminal.inbox, until=lambda inbox: inbox["documents"])
        await _finish(terminal, accepted.json()["deliveries"][0]["delivery_id"], ["2"])
        document_id = document["header"]["id"]
        real["results"] = (
            await eventually(
                lambda: http.get("/api/v1/results"),
                until=lambda answer: answer.json()["results"],
                what="the finished document",
            )
        ).json()
        real["result"] = (await http.get(f"/api/v1/results/{document_id}")).json()
        real["loaded"] = (await http.post(f"/api/v1/results/{document_id}/loaded")).json()
        real["webhook-set"] = (
            await http.put(
                "/api/v1/settings/webhook",
                json={"url": "https://1c.example.ru/trade/hs/tsdx/completed"},
            )
        ).json()
        for _ in range(11):  # past the wrong-PIN limit
            last = await http.post("/api/v1/uploads", json=upload(by_pin(wrong_pin + pin[1:])))
        real["too-many-pin-misses"] = last.json()
        real["too-many-pin-misses"]["Retry-After"] = last.headers.get("retry-after")
    return real


@pytest.mark.parametrize("guide", GUIDES, ids=lambda g: g.name)
async def test_every_example_answer_is_shaped_as_the_real_one(
    stack: Stack, tenant: dict[str, str], admin: AdminClient, guide: Any
) -> None:
    real = await real_answers(stack, tenant, admin)
    documented = documented_answers(guide)
    assert set(documented) - PUSHED == set(real), "every documented call, and only those"
    for name, actual in real.items():
        example = json.loads(documented[name])
        if name == "too-many-pin-misses":
            assert actual.pop("Retry-After") == str(actual["params"]["retry_after"])
        same_shape(example, actual, name)
