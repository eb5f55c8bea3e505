"""Documents started on the terminal, through the gateway's terminal API on the real stack:
only processes that allow it are offered and taken; a refused one says why and reaches
nobody; bad input is refused and changes nothing; the same document twice is one."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from shared.cli.stack import Stack
from shared.client import AccountingClient, AdminClient, TerminalClient
from shared.client.api import LanClient
from tests.e2e.test_terminal_floor_browser import RECEIPT_HERE
from tests.support.waiting import eventually

MILK = "4601234567893"


def document(process: str, **changes: Any) -> dict[str, Any]:
    return {
        "document_id": uuid.uuid4().hex,
        "result_id": uuid.uuid4().hex,
        "process": process,
        "number": "Т-0001",
        "date": "2026-12-05T10:00:00",
        "lines": [{"product_id": MILK, "barcode": MILK, "quantity": "2", "series": "L1"}],
        **changes,
    }


async def test_a_document_made_on_the_terminal_is_taken_once_and_only_where_allowed(
    stack: Stack, tenant: dict[str, str], admin: AdminClient, accounting: AccountingClient
) -> None:
    base = tenant["tenant"]
    await admin.put_process(RECEIPT_HERE, tenant=base)
    plain = {**RECEIPT_HERE, "id": "receipt-by-order", "create_on_terminal": False}
    await admin.put_process(plain, tenant=base)
    async with TerminalClient(stack.url("gateway")) as terminal:
        await terminal.pair(tenant["connection_code"], f"@T-{uuid.uuid4().hex[:8]}")
        http: httpx.AsyncClient = terminal._http
        offered = (await http.get("/api/v1/terminal/processes")).json()["processes"]
        assert [p["id"] for p in offered] == [RECEIPT_HERE["id"]]

        # Bad input: refused at once, nothing stored.
        for bad in (
            document(RECEIPT_HERE["id"], document_id="short"),
            document(RECEIPT_HERE["id"], lines=[{"product_id": MILK, "quantity": "-1"}]),
            document(RECEIPT_HERE["id"], lines=[{"product_id": MILK, "quantity": "1",
                                                 "expiry": "31.03.2027"}]),
        ):  # fmt: skip
            answer = await http.post("/api/v1/terminal/created", json=bad)
            assert answer.status_code == 422, answer.text
            assert answer.json()["code"] in ("validation_error", "quantity_invalid")

        # A process that does not allow it: received, then refused by routing, reaching nobody.
        refused = document(plain["id"])
        assert (await http.post("/api/v1/terminal/created", json=refused)).status_code == 200
        status_url = (
            f"/api/v1/terminal/created/{refused['document_id']}/results/{refused['result_id']}"
        )

        async def status() -> dict[str, Any]:
            return dict((await http.get(status_url, headers={"Accept-Language": "en"})).json())

        seen = await eventually(status, until=lambda s: s["status"] == "refused", what="refusal")
        assert seen["refusal"]["code"] == "process_cannot_create"
        assert "does not allow creating documents" in seen["refusal"]["message"]

        # Allowed, sent twice (a lost answer): one new document of the result type.
        made = document(RECEIPT_HERE["id"])
        first = await http.post("/api/v1/terminal/created", json=made)
        again = await http.post("/api/v1/terminal/created", json=made)
        assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)

    async def finished() -> list[dict[str, Any]]:
        return await accounting.results()

    [listed] = await eventually(finished, what="the new document")
    assert listed["document_id"] == made["document_id"]
    result = (await accounting.result(made["document_id"]))["result"]
    assert (result["result_type"], result["created_on_terminal"]) == (
        RECEIPT_HERE["result_type"],
        True,
    )
    assert [(f["product_id"], f["series"], f["quantity"]) for f in result["lines"]] == [
        (MILK, "L1", "2")
    ]
    assert refused["document_id"] not in {r["document_id"] for r in await accounting.results()}


async def test_a_lan_user_starts_a_document_and_a_refused_one_says_why(
    stack: Stack, tenant: dict[str, str], admin: AdminClient, accounting: AccountingClient
) -> None:
    base = tenant["tenant"]
    await admin.put_process(RECEIPT_HERE, tenant=base)
    await admin.create_user(base, "ivanov", name="Иванов", password="секрет-1")
    async with LanClient(stack.url("lan_writer")) as terminal:
        await terminal.login(base, "ivanov", "секрет-1")
        http: httpx.AsyncClient = terminal._http
        offered = (await http.get("/api/v1/lan/processes")).json()["processes"]
        assert [p["id"] for p in offered] == [RECEIPT_HERE["id"]]

        made = document(RECEIPT_HERE["id"])
        first = (await http.post("/api/v1/lan/created", json=made)).json()
        again = (await http.post("/api/v1/lan/created", json=made)).json()
        assert first["status"] == again["status"] == "sent"

        unknown = document("no-such-process")
        sent = (await http.post("/api/v1/lan/created", json=unknown)).json()
        assert sent["status"] == "sent"
        status_url = f"/api/v1/lan/created/{unknown['document_id']}/results/{unknown['result_id']}"

        async def status() -> dict[str, Any]:
            return dict((await http.get(status_url)).json())

        seen = await eventually(status, until=lambda s: s["status"] == "refused", what="refusal")
        assert seen["refusal"]["code"] == "process_not_found"

    [listed] = await eventually(accounting.results, what="the LAN user's new document")
    assert listed["document_id"] == made["document_id"]
    result = (await accounting.result(made["document_id"]))["result"]
    assert result["created_on_terminal"] is True
    assert result["lines"][0]["user"] is None and result["mode"] == "online"
    journey = await accounting.document(made["document_id"])
    assert [step["step"] for step in journey["timeline"]][:2] == ["created", "result"]
    assert journey["timeline"][0]["user"] == "ivanov"
