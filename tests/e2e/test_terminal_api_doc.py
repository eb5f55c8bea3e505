"""docs/terminal-api.md tells the truth: every answer it shows (``<!-- answer: NAME -->``
before a JSON block) has exactly the fields the running stack answers with, nested fields
included, and every call this walk makes is shown there.

With ``TSDX_DUMP_TERMINAL_API=<file>`` the real answers are written to that file, to update
the page's examples from.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.support.documents import by_pin, order, upload
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient

DOC = Path(__file__).resolve().parents[2] / "docs" / "terminal-api.md"
ANSWER = re.compile(r"<!-- answer: ([a-z0-9_.]+) -->\s*```json\n(.*?)\n```", re.S)
PICKING_TYPE = "Заказ клиента"


def documented() -> dict[str, Any]:
    found = {}
    for name, text in ANSWER.findall(DOC.read_text(encoding="utf-8")):
        assert name not in found, f"answer {name} shown twice"
        found[name] = json.loads(text)
    return found


def fields(value: Any, path: str = "") -> set[str]:
    """Every field path of a JSON value: ``a``, ``a.b``, ``a[].c`` (lists by their items)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else key
            found.add(here)
            found |= fields(item, here)
    elif isinstance(value, list):
        for item in value:
            found |= fields(item, f"{path}[]")
    return found


class Walk:
    """Calls the terminal APIs as a client would and keeps each answer under a name."""

    def __init__(self) -> None:
        self.answers: dict[str, Any] = {}

    async def call(
        self, http: httpx.AsyncClient, name: str, method: str, path: str, **kwargs: Any
    ) -> Any:
        answer = await http.request(method, path, **kwargs)
        body = answer.json()
        self.answers[name] = body
        return body


async def _internet(walk: Walk, stack: Stack, tenant: dict[str, str]) -> None:
    async with (
        httpx.AsyncClient(base_url=stack.url("gateway"), headers={"Accept-Language": "en"}) as http,
        AccountingClient(stack.url("gateway"), tenant["api_key"]) as accounting,
    ):
        paired = await walk.call(
            http,
            "pair",
            "POST",
            "/api/v1/terminal/pair",
            json={
                "connection_code": tenant["connection_code"],
                "hardware_id": "@HONEYWELL-EDA50-V-16204B17A7",
                "model": "EDA50",
                "name": "EDA50",
                "mode": "online",
            },
        )
        http.headers["Authorization"] = f"Bearer {paired['credential']}"
        await walk.call(http, "me", "GET", "/api/v1/terminal/me")

        document = order(lines=2)
        uploaded = await accounting.upload(upload(by_pin(paired["pin"]), document))
        delivery = uploaded["deliveries"][0]["delivery_id"]
        await eventually(
            lambda: walk.call(http, "inbox", "GET", "/api/v1/terminal/inbox?wait=25&known=0"),
            until=lambda inbox: len(inbox["documents"]) == 1,
            what="the document in the inbox",
        )
        await walk.call(http, "download", "GET", f"/api/v1/terminal/documents/{delivery}")
        await walk.call(http, "ack", "POST", f"/api/v1/terminal/documents/{delivery}/ack")
        partial = {
            "result_id": "5f0c7a0e-partial-1",
            "final": False,
            "lines": [
                {"line_no": 1, "product_id": "prod-1", "barcode": "4600000000001", "quantity": "1"}
            ],
        }
        path = f"/api/v1/terminal/documents/{delivery}/results"
        await walk.call(http, "result", "POST", path, json=partial)
        await walk.call(http, "result_again", "POST", path, json=partial)
        await walk.call(http, "result_status", "GET", f"{path}/{partial['result_id']}")
        final = {
            "result_id": "5f0c7a0e-final",
            "final": True,
            "lines": [
                {"line_no": 1, "product_id": "prod-1", "quantity": "2"},
                {
                    "line_no": 2,
                    "product_id": "prod-2",
                    "quantity": "4",
                    "marks": ["0104601234567893215Nq+g/\u001d93dGVz"],
                },
            ],
        }
        await walk.call(http, "result_final", "POST", path, json=final)

        # Quantity control: a refused result, as the inbox and its status show it.
        picking = order(lines=1, number="0000-000124")
        picking["header"]["accounting_type"] = PICKING_TYPE
        body = upload(by_pin(paired["pin"]), picking, process="picking")
        refused_copy = (await accounting.upload(body))["deliveries"][0]["delivery_id"]
        over = {
            "result_id": "over-1",
            "final": True,
            "lines": [{"line_no": 1, "product_id": "prod-1", "quantity": "5"}],
        }
        refused_path = f"/api/v1/terminal/documents/{refused_copy}/results"
        await http.post(refused_path, json=over)
        await eventually(
            lambda: walk.call(http, "result_refused", "GET", f"{refused_path}/over-1"),
            until=lambda status: status["status"] == "refused",
            what="the result refused",
        )

        # A document replaced before it was downloaded: withdrawn from the terminal.
        again = order(lines=1, number="0000-000125")
        first = (await accounting.upload(upload(by_pin(paired["pin"]), again)))["deliveries"][0]
        await accounting.upload(upload(by_pin(paired["pin"]), again))
        await eventually(
            lambda: walk.call(http, "inbox_withdrawn", "GET", "/api/v1/terminal/inbox"),
            until=lambda inbox: any(
                w["delivery_id"] == first["delivery_id"] for w in inbox["withdrawn"]
            ),
            what="the withdrawal in the inbox",
        )
        await walk.call(
            http, "download_withdrawn", "GET", f"/api/v1/terminal/documents/{first['delivery_id']}"
        )
        # Several acknowledged at once: a withdrawal, a finished copy, an id not this device's.
        await walk.call(
            http,
            "ack_batch",
            "POST",
            "/api/v1/terminal/documents/ack",
            json={"delivery_ids": [first["delivery_id"], delivery, "not-this-device"]},
        )
        http.headers["Authorization"] = "Bearer wrong"
        await walk.call(http, "unauthorized", "GET", "/api/v1/terminal/me")


async def _lan(walk: Walk, stack: Stack, tenant: dict[str, str], admin: AdminClient) -> None:
    base = tenant["tenant"]
    await admin.create_group(base, "storekeepers")
    await admin.create_user(
        base, "ivanov", name="Иванов И.", password="секрет-1", barcode="2900000000017"
    )
    await admin.create_user(base, "petrov", name="Петров П.", password="секрет-2")
    for login in ("ivanov", "petrov"):
        await admin.add_member(base, "storekeepers", login)
    lan = stack.url("lan_writer")
    async with (
        httpx.AsyncClient(base_url=lan, headers={"Accept-Language": "en"}) as ivanov,
        httpx.AsyncClient(base_url=lan, headers={"Accept-Language": "en"}) as petrov,
        AccountingClient(stack.url("gateway"), tenant["api_key"]) as accounting,
    ):
        session = await walk.call(
            ivanov,
            "lan_login",
            "POST",
            "/api/v1/lan/login",
            json={"tenant": base, "login": "ivanov", "password": "секрет-1"},
        )
        ivanov.headers["Authorization"] = f"Bearer {session['token']}"
        badge = await walk.call(
            petrov,
            "lan_login_badge",
            "POST",
            "/api/v1/lan/login",
            json={"tenant": base, "barcode": "2900000000017"},
        )
        assert badge["login"] == "ivanov"
        await walk.call(
            petrov,
            "lan_login_failed",
            "POST",
            "/api/v1/lan/login",
            json={"tenant": base, "login": "petrov", "password": "wrong"},
        )
        other = await petrov.post(
            "/api/v1/lan/login", json={"tenant": base, "login": "petrov", "password": "секрет-2"}
        )
        petrov.headers["Authorization"] = f"Bearer {other.json()['token']}"
        await walk.call(ivanov, "lan_me", "GET", "/api/v1/lan/me")

        document = order(lines=2, number="0000-000126")
        body = upload({"kind": "group", "value": "storekeepers"}, document, channel="lan")
        delivery = (await accounting.upload(body))["deliveries"][0]["delivery_id"]
        await eventually(
            lambda: walk.call(ivanov, "lan_documents", "GET", "/api/v1/lan/documents"),
            until=lambda listed: len(listed["documents"]) == 1,
            what="the document listed",
        )
        docs = f"/api/v1/lan/documents/{delivery}"
        await walk.call(ivanov, "lan_document", "GET", docs)
        await walk.call(ivanov, "lan_take", "POST", f"{docs}/take")
        await walk.call(petrov, "lan_taken", "POST", f"{docs}/take")
        await walk.call(ivanov, "lan_release", "POST", f"{docs}/release")
        await ivanov.post(f"{docs}/take")
        final = {
            "result_id": "b1c2-final",
            "final": True,
            "lines": [{"line_no": 1, "product_id": "prod-1", "quantity": "2"}],
        }
        await walk.call(ivanov, "lan_result", "POST", f"{docs}/results", json=final)
        await walk.call(ivanov, "lan_logout", "POST", "/api/v1/lan/logout")
        await walk.call(ivanov, "lan_session_invalid", "GET", "/api/v1/lan/me")


async def test_the_documented_answers_are_the_real_ones(stack: Stack, admin: AdminClient) -> None:
    walk = Walk()
    tenant = await admin.create_tenant("Склад терминалов", f"api-{uuid.uuid4().hex[:6]}")
    await _internet(walk, stack, tenant)
    await _lan(walk, stack, tenant, admin)
    dump = os.environ.get("TSDX_DUMP_TERMINAL_API")
    if dump:
        text = json.dumps(walk.answers, ensure_ascii=False, indent=1)
        await asyncio.to_thread(Path(dump).write_text, text, "utf-8")
    shown = documented()
    assert sorted(shown) == sorted(walk.answers), "every call shown, every example checked"
    for name, answer in walk.answers.items():
        assert fields(shown[name]) == fields(answer), name
