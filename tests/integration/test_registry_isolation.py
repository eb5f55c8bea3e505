"""Tenant isolation: a base cannot resolve, list or address another base's devices or users."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.documents import by_device, by_pin, upload
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, ApiError, TerminalClient


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


@pytest.fixture
async def other(admin: AdminClient) -> dict[str, str]:
    """A second base next to ``tenant``."""
    return await admin.create_tenant(f"Другой склад {uuid.uuid4().hex[:6]}")


@pytest.fixture
async def other_accounting(stack: Stack, other: dict[str, str]) -> AsyncIterator[AccountingClient]:
    async with AccountingClient(stack.url("gateway"), other["api_key"]) as client:
        yield client


async def pair(stack: Stack, code: str) -> dict[str, Any]:
    async with TerminalClient(stack.url("gateway")) as terminal:
        return await terminal.pair(code, f"@HW-{uuid.uuid4().hex[:10]}", "EDA50", "EDA50")


async def test_a_base_cannot_reach_another_bases_device(
    stack: Stack,
    tenant: dict[str, str],
    other: dict[str, str],
    accounting: AccountingClient,
    other_accounting: AccountingClient,
) -> None:
    mine = await pair(stack, tenant["connection_code"])

    # The other base has no device at all yet, so no PIN of its own can match by chance.
    by_my_pin = await decided(other_accounting, upload(by_pin(mine["pin"])))
    by_my_id = await decided(other_accounting, upload(by_device(mine["device_id"])))

    assert (by_my_pin["status"], by_my_pin["code"]) == ("refused", "device_not_found_by_pin")
    assert (by_my_id["status"], by_my_id["code"]) == ("refused", "device_not_found")
    theirs = await pair(stack, other["connection_code"])
    assert (await decided(other_accounting, upload(by_pin(theirs["pin"]))))["status"] == "accepted"
    assert (await decided(accounting, upload(by_pin(mine["pin"]))))["status"] == "accepted"
    [listed] = await eventually(other_accounting.devices, what="the other base's device list")
    assert listed["device_id"] == theirs["device_id"]
    [my_listed] = await eventually(accounting.devices, what="my base's device list")
    assert my_listed["device_id"] == mine["device_id"]


async def test_the_admin_api_keeps_each_bases_devices_apart(
    stack: Stack, tenant: dict[str, str], other: dict[str, str], admin: AdminClient
) -> None:
    mine = await pair(stack, tenant["connection_code"])

    with pytest.raises(ApiError) as not_theirs:
        await admin.device(other["tenant"], mine["device_id"])
    with pytest.raises(ApiError) as no_blocking:
        await admin.block_device(other["tenant"], mine["device_id"])

    assert (not_theirs.value.status, not_theirs.value.code) == (404, "device_not_found")
    assert (no_blocking.value.status, no_blocking.value.code) == (404, "device_not_found")
    assert await admin.devices(other["tenant"]) == []
    assert [d["device_id"] for d in await admin.devices(tenant["tenant"])] == [mine["device_id"]]
    async with TerminalClient(stack.url("gateway"), mine["credential"]) as terminal:
        assert (await terminal.me())["pin"] == mine["pin"]


async def test_users_and_groups_belong_to_their_base(
    tenant: dict[str, str], other: dict[str, str], admin: AdminClient
) -> None:
    await admin.create_user(tenant["tenant"], "ivanov", password="секрет")
    await admin.create_group(tenant["tenant"], "Кладовщики")
    await admin.add_member(tenant["tenant"], "Кладовщики", "ivanov")

    with pytest.raises(ApiError) as no_user:
        await admin.user(other["tenant"], "ivanov")
    with pytest.raises(ApiError) as no_group:
        await admin.add_member(other["tenant"], "Кладовщики", "ivanov")

    assert (no_user.value.status, no_user.value.code) == (404, "user_not_found")
    assert (no_group.value.status, no_group.value.code) == (404, "group_not_found")
    assert await admin.users(other["tenant"]) == []
    assert await admin.groups(other["tenant"]) == []
    # The same login in another base is another user.
    await admin.create_user(other["tenant"], "ivanov")
    assert [u["login"] for u in await admin.users(other["tenant"])] == ["ivanov"]
    [mine] = await admin.users(tenant["tenant"])
    assert mine["groups"] == ["Кладовщики"]
