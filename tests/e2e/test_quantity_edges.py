"""One quantity rule at every edge, and nothing the edge accepts can get stuck behind it.

Boundary quantities go the whole way: upload (as strings and as raw JSON numbers) → terminal →
result → completed and listed for the accounting side, exactly as sent.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from shared.cli.stack import Stack
from shared.client import AccountingClient
from shared.contracts.quantity import MAX_QUANTITY
from tests.e2e.test_gateway_terminal import _delivered, paired
from tests.support.documents import by_pin, order, upload
from tests.support.waiting import eventually

BIGGEST = format(MAX_QUANTITY, "f")  # 999999999999999.999999


def _raw(body: dict[str, Any], numbers: dict[str, str]) -> bytes:
    """``body`` as JSON, with the strings named in ``numbers`` written as bare JSON numbers
    (as 1C's ЗаписатьJSON writes them), digit for digit."""
    text = json.dumps(body, ensure_ascii=False)
    for marker, number in numbers.items():
        text = text.replace(f'"{marker}"', number)
    return text.encode()


async def _post(stack: Stack, path: str, token: str, content: bytes) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient(base_url=stack.url("gateway")) as http:
        answer = await http.post(
            path,
            content=content,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Accept-Language": "en",
            },
        )
    return answer.status_code, answer.json()


async def test_out_of_rule_quantities_are_refused_before_acceptance(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    async with paired(stack, tenant) as terminal:
        for written in ('"1e999999999"', "1e5", '"1234567890123456"', "0.0000001", '"NaN"'):
            document = order(lines=1)
            document["lines"][0]["planned_qty"] = "Q"
            body = _raw(upload(by_pin(terminal.device["pin"]), document), {"Q": written})
            status, answer = await _post(stack, "/api/v1/uploads", tenant["api_key"], body)
            assert status == 422, (written, answer)
            assert answer["code"] == "quantity_invalid", (written, answer)
        assert (await terminal.inbox())["documents"] == []  # nothing was accepted

        delivery_id = await _delivered(accounting, terminal, order(lines=1))
        credential = terminal.device["credential"]
        path = f"/api/v1/terminal/documents/{delivery_id}/results"
        for written in ('"1e1000000"', "1E+3", '"-1"', '"0.0000001"'):
            line = {"line_no": 1, "product_id": "prod-1", "quantity": "Q"}
            body = _raw(
                {"result_id": uuid.uuid4().hex, "final": True, "lines": [line]}, {"Q": written}
            )
            status, answer = await _post(stack, path, credential, body)
            assert (status, answer["code"]) == (422, "quantity_invalid"), (written, answer)
        # The document is still open: a correct result is taken and completes it.
        sent = await terminal.send_result(
            delivery_id,
            "r-ok",
            [{"line_no": 1, "product_id": "prod-1", "quantity": "2"}],
            final=True,
        )
        assert sent["status"] == "received"


async def test_boundary_quantities_go_the_whole_way_exactly(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    async with paired(stack, tenant) as terminal:
        document = order(lines=3)
        document["lines"][0]["planned_qty"] = "P1"  # the largest, as a JSON number
        document["lines"][1]["planned_qty"] = "0.000001"
        document["lines"][2]["planned_qty"] = "P3"
        document["header"]["extra"] = {"СуммаДокумента": "SUM"}
        body = _raw(
            upload(by_pin(terminal.device["pin"]), document),
            {"P1": BIGGEST, "P3": "1.000001", "SUM": "12345678901234567890.123"},
        )
        status, answer = await _post(stack, "/api/v1/uploads", tenant["api_key"], body)
        assert (status, answer.get("status")) == (200, "accepted"), answer
        delivery_id = answer["deliveries"][0]["delivery_id"]
        downloaded = await terminal.download(delivery_id)
        # A fraction in free-form data is passed on exactly too (as a string).
        assert downloaded["document"]["header"]["extra"] == {
            "СуммаДокумента": "12345678901234567890.123"
        }
        assert [line["planned_qty"] for line in downloaded["document"]["lines"]] == [
            BIGGEST,
            "0.000001",
            "1.000001",
        ]

        # Facts whose sum on line 1 would pass the largest quantity: refused with a code, never
        # stuck; the corrected result, whose facts add up to exactly the largest, completes it.
        half = "500000000000000"
        too_much = await terminal.send_result(
            delivery_id, "r-2", [_fact(1, BIGGEST), _fact(1, half)], final=True
        )
        assert too_much["status"] == "received"
        refused = await eventually(
            lambda: terminal.result_status(delivery_id, "r-2"),
            until=lambda r: r["status"] == "refused",
            what="the sum beyond the largest quantity refused",
        )
        assert refused["refusal"]["code"] == "quantity_total_too_large"

        line_3 = {"line_no": 3, "product_id": "prod-3", "quantity": "Q3"}
        final = _raw(
            {
                "result_id": "r-3",
                "final": True,
                "lines": [
                    _fact(1, "499999999999999.999999"),
                    _fact(1, half),
                    _fact(2, "0.000001"),
                    line_3,
                ],
            },
            {"Q3": "1.000001"},  # a JSON number, exactly
        )
        status, sent = await _post(
            stack,
            f"/api/v1/terminal/documents/{delivery_id}/results",
            terminal.device["credential"],
            final,
        )
        assert (status, sent["status"]) == (200, "received"), sent
        await eventually(
            accounting.results,
            until=lambda r: any(d["document_id"] == document["header"]["id"] for d in r),
            what="the completed result listed for the accounting side",
        )
        completed = await accounting.result(document["header"]["id"])
        assert [line["quantity"] for line in completed["result"]["lines"]] == [
            BIGGEST,
            "0.000001",
            "1.000001",
        ]


def _fact(line_no: int, quantity: str) -> dict[str, Any]:
    return {"line_no": line_no, "product_id": f"prod-{line_no}", "quantity": quantity}
