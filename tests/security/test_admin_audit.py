"""Operators' changes are audited: one ``audit.<action>`` line with actor, tenant, target and
outcome (refusals too, with their code), never a secret; and counted by action and outcome."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.security.helpers import log_records, paired
from tests.support.documents import order, upload
from tests.support.stack import ADMIN_TOKEN
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, ApiError
from tools.client.api import LanAdminClient, LanClient


async def audited(
    stack: Stack, service: str, action: str, target: str, tenant: str | None = None
) -> dict[str, Any]:
    """The audit line of ``action`` on ``target`` (of ``tenant``, if given) in the service's
    log, once written."""

    async def find() -> list[dict[str, Any]]:
        return [
            r
            for r in log_records(stack, service)
            if r.get("event") == f"audit.{action}"
            and r.get("target") == target
            and tenant in (None, r.get("tenant"))
        ]

    [record] = await eventually(find, what=f"audit.{action} of {target} in {service}.log")
    return record


async def actions_counted(stack: Stack, service: str, action: str, outcome: str) -> float:
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"{stack.url(service)}/metrics")).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "tsdx_admin_actions_total"
        and sample.labels == {"action": action, "outcome": outcome}
    )


def assert_clean(record: dict[str, Any], *secrets: str) -> None:
    line = str(record)
    for secret in secrets:
        assert secret not in line


async def test_directory_changes_are_audited_without_their_secrets(
    stack: Stack, admin: AdminClient, tenant: dict[str, str]
) -> None:
    base = tenant["tenant"]
    created = await audited(stack, "gateway", "tenant.create", base)
    assert (created["actor"], created["tenant"], created["outcome"]) == ("admin", base, "ok")
    assert_clean(created, tenant["api_key"], tenant["connection_code"])

    blocked_before = await actions_counted(stack, "gateway", "device.block", "ok")
    rotated = await admin.rotate_api_key(base)
    password, badge = f"пароль-{uuid.uuid4().hex}", f"BADGE{uuid.uuid4().hex}"
    await admin.create_user(base, "ivanov", name="Иванов И.", password=password, barcode=badge)
    async with paired(stack, tenant) as terminal:
        device_id = terminal.device["device_id"]
        await admin.block_device(base, device_id)

    rotation = await audited(stack, "gateway", "tenant.rotate_api_key", base)
    assert (rotation["tenant"], rotation["outcome"]) == (base, "ok")
    assert_clean(rotation, rotated["api_key"], tenant["api_key"])

    user = await audited(stack, "gateway", "user.create", "ivanov", base)
    assert (user["tenant"], user["fields"]) == (base, ["barcode", "name", "password"])
    assert_clean(user, password, badge)

    block = await audited(stack, "gateway", "device.block", device_id)
    assert (block["actor"], block["tenant"], block["outcome"]) == ("admin", base, "ok")
    assert block["correlation_id"]  # the line belongs to its request
    assert await actions_counted(stack, "gateway", "device.block", "ok") == blocked_before + 1

    # A refused change is audited too, with the refusal's code.
    with pytest.raises(ApiError):
        await admin.retire_device(base, "no-such-device")
    refused = await audited(stack, "gateway", "device.retire", "no-such-device", base)
    assert (refused["outcome"], refused["code"]) == ("refused", "device_not_found")


async def test_process_lan_and_replay_actions_are_audited(
    stack: Stack, admin: AdminClient, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    base = tenant["tenant"]
    await admin.disable_process("inventory-count", base)
    disabled = await audited(stack, "gateway", "process.disable", "inventory-count", base)
    assert (disabled["tenant"], disabled["outcome"]) == (base, "ok")

    # An operator force-releases a LAN document a user holds.
    await admin.create_user(base, "petrov", password="пароль-2")
    answer = await accounting.upload(
        upload({"kind": "user", "value": "petrov"}, order(), channel="lan")
    )
    delivery_id = answer["deliveries"][0]["delivery_id"]
    async with (
        LanClient(stack.url("lan_writer")) as petrov,
        LanAdminClient(stack.url("lan_writer"), ADMIN_TOKEN) as operator,
    ):
        await petrov.login(base, "petrov", "пароль-2")
        await eventually(petrov.documents, what="the document in petrov's list")
        await petrov.take(delivery_id)
        await operator.force_release(delivery_id, "терминал разряжен")
    released = await audited(stack, "lan_writer", "lan.force_release", delivery_id)
    assert (released["tenant"], released["outcome"]) == (base, "ok")
    assert released["reason"] == "терминал разряжен"

    # Replaying a message that is not parked is refused, and audited as such.
    message_id = uuid.uuid4().hex
    async with httpx.AsyncClient(base_url=stack.url("dashboard")) as dashboard:
        response = await dashboard.post(
            "/api/v1/dashboard/parked/replay",
            json={"queue": "routing.work", "message_id": message_id},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
    assert response.status_code == 404
    replay = await audited(stack, "dashboard", "parked.replay", message_id)
    assert (replay["outcome"], replay["code"], replay["queue"]) == (
        "refused",
        "parked_message_not_found",
        "routing.work",
    )
