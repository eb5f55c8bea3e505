"""A device's life (block, unblock, retire, rename, mode, replace) and rotated tenant secrets,
through the admin API on the whole stack.

Revocation must hold at the very next request: the tests call the terminal right after the
admin call answers, with no waiting in between.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.documents import by_device, by_pin, order, upload
from tests.support.stack import ADMIN_TOKEN
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, ApiError, TerminalClient


def hardware_id() -> str:
    return f"@HONEYWELL-EDA50-V-{uuid.uuid4().hex[:8].upper()}"


async def decided(accounting: AccountingClient, body: dict[str, Any]) -> dict[str, Any]:
    """The upload's answer once routing has decided (a busy stack may answer 'pending' first)."""
    answer = await accounting.upload(body)
    if answer["status"] != "pending":
        return answer
    return await eventually(
        lambda: accounting.upload_status(body["request_id"]),
        until=lambda a: a["status"] != "pending",
        what="the upload decided",
    )


async def refused_code(call: Any) -> tuple[int, str]:
    with pytest.raises(ApiError) as refused:
        await call
    return refused.value.status, refused.value.code


@pytest.fixture
async def terminal(stack: Stack, tenant: dict[str, str]) -> Any:
    async with TerminalClient(stack.url("gateway")) as client:
        await client.pair(tenant["connection_code"], hardware_id(), "EDA50", "EDA50")
        yield client


async def test_a_blocked_device_is_refused_at_once_and_let_in_again_with_its_pin(
    terminal: TerminalClient,
    tenant: dict[str, str],
    admin: AdminClient,
    accounting: AccountingClient,
) -> None:
    device_id, pin = terminal.device["device_id"], terminal.device["pin"]
    assert (await terminal.me())["pin"] == pin

    blocked = await admin.block_device(tenant["tenant"], device_id)

    assert blocked["status"] == "blocked"
    # Refused with the reason, not as a wrong key (the terminal says why it cannot work).
    assert await refused_code(terminal.me()) == (401, "device_blocked")
    # An upload by its PIN is told the device is blocked, not that no device has that PIN.
    answer = await decided(accounting, upload(by_pin(pin)))
    assert (answer["status"], answer["code"]) == ("refused", "device_not_active")
    assert answer["message"] == f"Устройство {pin} заблокировано или выведено из работы."
    again = await admin.unblock_device(tenant["tenant"], device_id)
    assert (again["status"], again["pin"]) == ("active", pin)
    assert (await terminal.me())["pin"] == pin


async def test_a_blocked_terminal_cannot_pair_again(
    stack: Stack, terminal: TerminalClient, tenant: dict[str, str], admin: AdminClient
) -> None:
    await admin.block_device(tenant["tenant"], terminal.device["device_id"])
    hw = (await admin.device(tenant["tenant"], terminal.device["device_id"]))["hardware_id"]

    async with TerminalClient(stack.url("gateway")) as again:
        status, code = await refused_code(again.pair(tenant["connection_code"], hw))

    assert (status, code) == (403, "device_blocked")


async def test_a_retired_device_is_refused_at_once_and_its_pin_is_not_handed_out_again(
    stack: Stack, terminal: TerminalClient, tenant: dict[str, str], admin: AdminClient
) -> None:
    device_id, pin = terminal.device["device_id"], terminal.device["pin"]
    hw = (await admin.device(tenant["tenant"], device_id))["hardware_id"]

    retired = await admin.retire_device(tenant["tenant"], device_id)

    assert retired["status"] == "retired"
    assert await refused_code(terminal.me()) == (401, "device_retired")
    assert await refused_code(admin.block_device(tenant["tenant"], device_id)) == (
        409,
        "device_retired",
    )
    async with TerminalClient(stack.url("gateway")) as rejoined:
        again = await rejoined.pair(tenant["connection_code"], hw)
        assert again["device_id"] == device_id
        assert again["pin"] != pin  # the old PIN is cooling off
        assert (await rejoined.me())["pin"] == again["pin"]


async def test_renaming_and_switching_mode_show_on_the_terminal_at_once(
    terminal: TerminalClient, tenant: dict[str, str], admin: AdminClient
) -> None:
    device_id = terminal.device["device_id"]

    renamed = await admin.update_device(tenant["tenant"], device_id, name="Склад, ряд 3")
    switched = await admin.update_device(tenant["tenant"], device_id, mode="offline")

    assert (renamed["name"], switched["mode"]) == ("Склад, ряд 3", "offline")
    me = await terminal.me()
    assert (me["name"], me["mode"]) == ("Склад, ряд 3", "offline")
    [listed] = await admin.devices(tenant["tenant"])
    assert (listed["name"], listed["mode"], listed["status"]) == (
        "Склад, ряд 3",
        "offline",
        "active",
    )


async def test_replacing_a_broken_terminal_moves_its_pin_and_waiting_documents(
    stack: Stack,
    terminal: TerminalClient,
    tenant: dict[str, str],
    admin: AdminClient,
    accounting: AccountingClient,
) -> None:
    old_id, pin = terminal.device["device_id"], terminal.device["pin"]
    taken, waiting = order(number="0001"), order(number="0002")
    for document in (taken, waiting):
        answer = await decided(accounting, upload(by_pin(pin), document))
        assert answer["status"] == "accepted", answer
    inbox = await eventually(
        terminal.inbox, until=lambda r: len(r["documents"]) == 2, what="both documents"
    )
    [downloaded] = [d for d in inbox["documents"] if d["document_id"] == taken["header"]["id"]]
    await terminal.acknowledge(downloaded["delivery_id"])
    await eventually(accounting.devices, what="the old device in the base's list")

    async with TerminalClient(stack.url("gateway")) as successor:
        new = await successor.pair(tenant["connection_code"], hardware_id(), "EDA51", "EDA51")
        replaced = await admin.replace_device(tenant["tenant"], old_id, new["device_id"])

        assert replaced["new"]["pin"] == pin
        assert replaced["old"]["status"] == "retired"
        assert (await successor.me())["pin"] == pin
        assert await refused_code(terminal.me()) == (401, "device_replaced")
        moved = await eventually(
            successor.inbox, until=lambda r: r["documents"], what="the waiting document moved"
        )
        assert [d["document_id"] for d in moved["documents"]] == [waiting["header"]["id"]]
        assert [d["device_id"] for d in await accounting.devices()] == [new["device_id"]]
        by_the_same_pin = await decided(accounting, upload(by_pin(pin)))
        assert [d["target"]["value"] for d in by_the_same_pin["deliveries"]] == [new["device_id"]]
        by_old_id = await decided(accounting, upload(by_device(old_id)))
        assert (by_old_id["status"], by_old_id["code"]) == ("refused", "device_not_active")


async def test_replacing_refuses_what_cannot_be_done(
    stack: Stack, terminal: TerminalClient, tenant: dict[str, str], admin: AdminClient
) -> None:
    base, old_id = tenant["tenant"], terminal.device["device_id"]
    async with TerminalClient(stack.url("gateway")) as other:
        blocked = (await other.pair(tenant["connection_code"], hardware_id()))["device_id"]
    await admin.block_device(base, blocked)

    assert await refused_code(admin.replace_device(base, old_id, old_id)) == (
        422,
        "replace_same_device",
    )
    assert await refused_code(admin.replace_device(base, old_id, blocked)) == (
        409,
        "device_not_active",
    )
    assert await refused_code(admin.replace_device(base, old_id, "no-such-device")) == (
        404,
        "device_not_found",
    )
    # Nothing changed.
    assert (await admin.device(base, old_id))["status"] == "active"
    assert (await terminal.me())["pin"] == terminal.device["pin"]


async def test_a_rotated_api_key_is_refused_at_once(
    stack: Stack, tenant: dict[str, str], admin: AdminClient, accounting: AccountingClient
) -> None:
    assert await accounting.devices() == []  # the old key works, and the gateway has its copy

    rotated = await admin.rotate_api_key(tenant["tenant"])

    assert rotated["api_key"] != tenant["api_key"]
    assert await refused_code(accounting.devices()) == (401, "unauthorized")
    async with AccountingClient(stack.url("gateway"), rotated["api_key"]) as renewed:
        assert await renewed.devices() == []


async def test_a_rotated_connection_code_pairs_and_the_old_one_no_longer_does(
    stack: Stack, terminal: TerminalClient, tenant: dict[str, str], admin: AdminClient
) -> None:
    rotated = await admin.rotate_connection_code(tenant["tenant"])

    async with TerminalClient(stack.url("gateway")) as newcomer:
        status, code = await refused_code(newcomer.pair(tenant["connection_code"], hardware_id()))
        assert (status, code) == (403, "bad_connection_code")
        assert (await newcomer.pair(rotated["connection_code"], hardware_id()))["pin"]
    assert (await terminal.me())["pin"] == terminal.device["pin"]  # paired devices stay paired


async def test_the_admin_api_wants_the_admin_token(stack: Stack, tenant: dict[str, str]) -> None:
    async with AdminClient(stack.url("gateway"), "not-the-token") as intruder:
        assert await refused_code(intruder.devices(tenant["tenant"])) == (401, "unauthorized")
        assert await refused_code(intruder.rotate_api_key(tenant["tenant"])) == (
            401,
            "unauthorized",
        )


async def test_bad_admin_requests_get_clear_codes_and_change_nothing(
    stack: Stack, terminal: TerminalClient, tenant: dict[str, str], admin: AdminClient
) -> None:
    base, device_id = tenant["tenant"], terminal.device["device_id"]

    assert await refused_code(admin.devices("no-such-base")) == (404, "tenant_not_found")
    assert await refused_code(admin.devices("Bad_Base")) == (422, "validation_error")
    assert await refused_code(admin.update_device(base, device_id)) == (422, "validation_error")
    assert await refused_code(admin.update_device(base, device_id, mode="sideways")) == (
        422,
        "validation_error",
    )
    assert await refused_code(admin.device(base, "no-such-device")) == (404, "device_not_found")
    assert await refused_code(admin.rotate_api_key("no-such-base")) == (404, "tenant_not_found")
    with pytest.raises(ApiError) as russian:
        await admin.devices("no-such-base")
    assert russian.value.message == "База «no-such-base» не найдена."
    async with AdminClient(stack.url("gateway"), ADMIN_TOKEN, language="en") as english:
        with pytest.raises(ApiError) as in_english:
            await english.devices("no-such-base")
    assert in_english.value.message == "Base “no-such-base” was not found."
    me = await terminal.me()
    assert (me["name"], me["mode"]) == ("EDA50", "online")
