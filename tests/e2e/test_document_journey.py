"""A document's journey through the real stack: every step once, in order, with the service
and the device, for the accounting side (its own base only) and for operators."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from shared.i18n import render
from tests.e2e.test_dashboard_api import decided_upload
from tests.e2e.test_gateway_terminal import _delivered, facts, paired
from tests.support.cli import tsdx
from tests.support.documents import by_pin, order, upload
from tests.support.stack import ADMIN_TOKEN
from tests.support.waiting import eventually
from tools.cli.output import OK, REFUSED, USAGE
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient


def steps(view: dict[str, Any]) -> list[str]:
    return [s["step"] for s in view["timeline"]]


async def finished_document(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient, number: str
) -> tuple[str, dict[str, Any]]:
    """Upload, download, a partial and a final result, read and loaded: the document's id and
    the paired device."""
    document = order(lines=2, number=number)
    async with paired(stack, tenant, name="EDA50") as terminal:
        delivery_id = await _delivered(accounting, terminal, document)
        await terminal.download(delivery_id)
        await terminal.acknowledge(delivery_id)
        await terminal.send_result(delivery_id, "r-1", facts("1"), final=False)
        await terminal.send_result(delivery_id, "r-2", facts("2", "4"), final=True)
        device = dict(terminal.device)
    document_id: str = document["header"]["id"]
    await eventually(
        accounting.results,
        until=lambda r: document_id in [d["document_id"] for d in r],
        what="the result at the gateway",
    )
    await accounting.result(document_id)
    await accounting.mark_loaded(document_id)
    return document_id, device


async def test_the_accounting_side_sees_every_step_of_its_document_in_order(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    number = f"0000-{uuid.uuid4().int % 10**6:06d}"
    document_id, device = await finished_document(stack, tenant, accounting, number)

    view = await eventually(
        lambda: accounting.document(document_id),
        until=lambda v: "loaded" in steps(v),
        what="the loaded step",
    )
    assert view["state"] == "loaded"
    assert view["number"] == number
    assert steps(view) == [
        "requested",
        "decided",
        "routed",
        "delivered",
        "downloaded",
        "result",
        "result",
        "completed",
        "pulled",
        "loaded",
    ]
    by_step = {s["step"]: s for s in view["timeline"]}
    assert by_step["routed"]["device"]["pin"] == device["pin"]
    assert by_step["routed"]["channel"] == "internet"
    assert by_step["downloaded"]["device"]["id"] == device["device_id"]
    assert [s["final"] for s in view["timeline"] if s["step"] == "result"] == [False, True]
    services = [s["service"] for s in view["timeline"]]
    assert services == [
        "accounting",
        "routing",
        "routing",
        "gateway",
        "gateway",
        "gateway",
        "gateway",
        "routing",
        "gateway",
        "gateway",
    ]
    times = [s["at"] for s in view["timeline"]]
    assert times == sorted(times)


async def test_another_bases_document_answers_like_an_unknown_one(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient, admin: AdminClient
) -> None:
    other = await admin.create_tenant(f"Другой склад {uuid.uuid4().hex[:6]}")
    body = upload(by_pin("0000"), order())
    await decided_upload(accounting, body)
    own_id = body["documents"][0]["header"]["id"]
    async with httpx.AsyncClient(base_url=stack.url("gateway")) as http:
        headers = {"Authorization": f"Bearer {other['api_key']}"}
        foreign = await http.get(f"/api/v1/documents/{own_id}", headers=headers)
        unknown = await http.get(f"/api/v1/documents/{uuid.uuid4()}", headers=headers)
        own = await http.get(
            f"/api/v1/documents/{own_id}",
            headers={"Authorization": f"Bearer {tenant['api_key']}"},
        )
    assert own.status_code == 200
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json() == unknown.json()
    assert foreign.json()["code"] == "not_found"


async def test_a_refused_upload_is_in_the_journey_with_its_code(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    body = upload(by_pin("0000"), order())
    refused = await decided_upload(accounting, body)
    assert refused["code"] == "device_not_found_by_pin"
    view = await accounting.document(body["documents"][0]["header"]["id"])
    assert view["state"] == "refused"
    assert steps(view) == ["requested", "refused"]
    assert view["timeline"][1]["code"] == "device_not_found_by_pin"


async def test_operators_find_a_document_by_number_or_pin(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient, admin: AdminClient
) -> None:
    number = f"0000-{uuid.uuid4().int % 10**6:06d}"
    document_id, device = await finished_document(stack, tenant, accounting, number)
    [by_number] = await admin.find_documents(number)
    assert (by_number["document_id"], by_number["tenant"]) == (document_id, tenant["tenant"])
    by_pin_found = await admin.find_documents(device["pin"])
    assert document_id in [d["document_id"] for d in by_pin_found]
    assert [d["document_id"] for d in await admin.find_documents(document_id)] == [document_id]
    view = await admin.document_journey(tenant["tenant"], document_id)
    assert steps(view)[:3] == ["requested", "decided", "routed"]


async def test_tsdx_document_show_prints_the_timeline_by_number(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    number = f"0000-{uuid.uuid4().int % 10**6:06d}"
    document_id, device = await finished_document(stack, tenant, accounting, number)
    await eventually(
        lambda: accounting.document(document_id),
        until=lambda v: "loaded" in steps(v),
        what="the loaded step",
    )
    env = {"TSDX_URL": stack.url("gateway"), "TSDX_ADMIN_TOKEN": ADMIN_TOKEN}

    shown = await tsdx("document", "show", number, "--lang", "en", env=env)
    assert shown.code == OK, shown
    assert document_id in shown.out and "State: loaded into accounting" in shown.out
    lines = shown.out.splitlines()[2:]  # the steps: after the title and the state
    order_seen = [
        next(i for i, line in enumerate(lines) if render(f"journey_step_{s}", "en") in line)
        for s in ("requested", "routed", "delivered", "downloaded", "completed", "loaded")
    ]
    assert order_seen == sorted(order_seen)
    downloaded = next(line for line in lines if "downloaded" in line and "gateway" in line)
    assert f"{device['pin']} EDA50" in downloaded

    as_json = await tsdx("document", "show", document_id, "--json", env=env)
    [view] = json.loads(as_json.out)
    assert view["state"] == "loaded" and view["tenant"] == tenant["tenant"]

    missing = await tsdx("document", "show", f"no-such-{uuid.uuid4().hex}", env=env)
    assert missing.code == REFUSED
    assert "не найден" in missing.err
    nothing = await tsdx("document", "show", number, env={"TSDX_URL": stack.url("gateway")})
    assert nothing.code == USAGE
    assert "ни токен администратора" in nothing.err and "ни ключ API базы" in nothing.err

    # A 1C integrator has the base's API key, not the operators' token: by the 1C id.
    keyed = {"TSDX_URL": stack.url("gateway"), "TSDX_API_KEY": tenant["api_key"]}
    by_key = await tsdx("document", "show", document_id, "--lang", "en", env=keyed)
    assert by_key.code == OK, by_key
    assert document_id in by_key.out and "State: loaded into accounting" in by_key.out
    assert f"{device['pin']} EDA50" in by_key.out
    by_number = await tsdx("document", "show", number, env=keyed)  # numbers: the operators'
    assert by_number.code == REFUSED and "В этой базе нет документа с ид" in by_number.err
    assert "--admin-token" in by_number.err
    one_base = await tsdx("document", "show", document_id, "--tenant", "x", env=keyed)
    assert one_base.code == USAGE and "--tenant выбирает базу" in one_base.err
    # A key on the command line wins over an admin token in the environment.
    both = {**env, "TSDX_API_KEY": ""}
    by_flag = await tsdx("document", "show", number, "--api-key", tenant["api_key"], env=both)
    assert by_flag.code == REFUSED and "В этой базе нет документа" in by_flag.err


async def test_a_step_by_the_replacement_device_names_that_device(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient, admin: AdminClient
) -> None:
    document = order()
    async with paired(stack, tenant, name="EDA50") as old:
        await _delivered(accounting, old, document)
        old_device = dict(old.device)
    async with paired(stack, tenant, name="EDA51") as successor:
        await admin.replace_device(
            tenant["tenant"], old_device["device_id"], successor.device["device_id"]
        )
        moved = await eventually(
            successor.inbox, until=lambda r: r["documents"], what="the document moved"
        )
        await successor.acknowledge(moved["documents"][0]["delivery_id"])
        new_device = dict(successor.device)
    view = await eventually(
        lambda: accounting.document(document["header"]["id"]),
        until=lambda v: "downloaded" in steps(v),
        what="the downloaded step",
    )
    by_step = {s["step"]: s for s in view["timeline"]}
    assert by_step["routed"]["device"]["id"] == old_device["device_id"]
    # The replacement, by the PIN it took over and its own name, from the move on.
    replacement = {"id": new_device["device_id"], "pin": old_device["pin"], "name": "EDA51"}
    assert by_step["moved"]["device"] == replacement
    assert by_step["downloaded"]["device"] == replacement


async def test_a_result_sent_without_confirming_the_download_implies_both_steps(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    document = order(lines=2)
    async with paired(stack, tenant, name="EDA50") as terminal:
        delivery_id = await _delivered(accounting, terminal, document)
        # Counted straight from the inbox: the download is never confirmed.
        await terminal.send_result(delivery_id, "r-1", facts("1"), final=False)
        await terminal.send_result(delivery_id, "r-2", facts("2", "4"), final=True)
        device_id = terminal.device["device_id"]
    view = await eventually(
        lambda: accounting.document(document["header"]["id"]),
        until=lambda v: "completed" in steps(v),
        what="the completed step",
    )
    assert steps(view)[:8] == [
        "requested",
        "decided",
        "routed",
        "delivered",
        "downloaded",
        "result",
        "result",
        "completed",
    ]
    implied = [s for s in view["timeline"] if s["step"] in ("delivered", "downloaded")]
    assert [(s["implied"], s["delivery_id"], s["device"]["id"]) for s in implied] == [
        (True, delivery_id, device_id),
        (True, delivery_id, device_id),
    ]
    first_result = next(s for s in view["timeline"] if s["step"] == "result")
    assert implied[1]["at"] == first_result["at"]
