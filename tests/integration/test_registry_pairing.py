"""Pairing terminals and issuing PINs, on the whole stack (every service its own process).

Covers re-pairing (same device and PIN, the new credential replaces the old at once), PIN
uniqueness under many concurrent pairings, widening of PINs when a tenant's space is crowded,
and the base's device list, which appears after the first successful upload by PIN.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from services.registry import pins
from tests.support.documents import by_device, by_pin, upload
from tests.support.stack import ADMIN_TOKEN, running_stack
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, ApiError, TerminalClient

CONCURRENT_PAIRINGS = 200


def hardware_id() -> str:
    return f"@HONEYWELL-EDA50-V-{uuid.uuid4().hex[:8].upper()}"


async def pair(url: str, code: str, hw: str | None = None, **fields: str) -> dict[str, Any]:
    async with TerminalClient(url) as terminal:
        return await terminal.pair(code, hw or hardware_id(), **fields)


async def pair_many(url: str, code: str, count: int) -> list[dict[str, Any]]:
    """``count`` terminals pairing at the same moment (one connection pool, as a client costs)."""
    limits = httpx.Limits(max_connections=count)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as http:

        async def one() -> dict[str, Any]:
            body = {"connection_code": code, "hardware_id": hardware_id()}
            response = await http.post("/api/v1/terminal/pair", json=body)
            assert response.status_code == 200, response.text
            paired: dict[str, Any] = response.json()
            return paired

        return list(await asyncio.gather(*(one() for _ in range(count))))


async def test_pairing_again_keeps_device_and_pin_and_only_the_new_credential_works(
    stack: Stack, tenant: dict[str, str]
) -> None:
    url = stack.url("gateway")
    hw = hardware_id()
    first = await pair(url, tenant["connection_code"], hw, model="EDA50", name="EDA50")

    again = await pair(url, tenant["connection_code"], hw, model="EDA50", name="EDA50")

    assert again["device_id"] == first["device_id"]
    assert again["pin"] == first["pin"]
    assert again["credential"] != first["credential"]
    async with TerminalClient(url, again["credential"]) as fresh:
        assert (await fresh.me())["pin"] == first["pin"]
    async with TerminalClient(url, first["credential"]) as stale:
        with pytest.raises(ApiError) as refused:
            await stale.me()
    assert (refused.value.status, refused.value.code) == (401, "unauthorized")


async def test_a_wrong_connection_code_pairs_nothing(stack: Stack, admin: AdminClient) -> None:
    with pytest.raises(ApiError) as refused:
        await pair(stack.url("gateway"), "AAAA-BBBB-CCCC")

    assert (refused.value.status, refused.value.code) == (403, "bad_connection_code")
    assert refused.value.message == "Неверный код подключения к базе."


async def test_concurrent_pairings_get_distinct_pins(
    stack: Stack, tenant: dict[str, str], admin: AdminClient
) -> None:
    paired = await pair_many(stack.url("gateway"), tenant["connection_code"], CONCURRENT_PAIRINGS)

    issued = [p["pin"] for p in paired]
    assert len(set(issued)) == CONCURRENT_PAIRINGS
    assert all(len(pin) == 4 and pin[0] != "0" for pin in issued)
    listed = await admin.devices(tenant["tenant"], "active")
    assert sorted(d["pin"] for d in listed) == sorted(issued)


async def test_the_device_list_appears_after_the_first_successful_upload_by_pin(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    device = await pair(
        stack.url("gateway"),
        tenant["connection_code"],
        "@HONEYWELL-EDA50-V-16204B17A7",
        model="EDA50",
        name="EDA50",
    )
    assert await accounting.devices() == []

    answer = await accounting.upload(upload(by_pin(device["pin"])))
    assert answer["status"] == "accepted", answer

    [listed] = await eventually(accounting.devices, what="the device in the base's list")
    assert listed["device_id"] == device["device_id"]
    assert listed["title"] == f"{device['pin']}  EDA50, (@HONEYWELL-EDA50-V-16204B17A7)"
    picked = await accounting.upload(upload(by_device(device["device_id"])))
    assert picked["status"] == "accepted", picked


# --- a tenant whose PIN space fills up quickly ------------------------------------------------


@pytest.fixture(scope="module")
def short_pin_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack issuing two-digit PINs: 90 of them, so widening starts after 45 devices."""
    with running_stack(
        tmp_path_factory.mktemp("short-pins"), extra_env={"TSDX_PIN_LENGTH": "2"}
    ) as s:
        yield s


async def test_pins_widen_when_half_the_space_is_held(short_pin_stack: Stack) -> None:
    url = short_pin_stack.url("gateway")
    async with AdminClient(url, ADMIN_TOKEN) as admin:
        tenant = await admin.create_tenant("Склад с короткими пин-кодами")

    paired = await pair_many(url, tenant["connection_code"], CONCURRENT_PAIRINGS)

    issued = [p["pin"] for p in paired]
    assert len(set(issued)) == CONCURRENT_PAIRINGS
    short = [pin for pin in issued if len(pin) == 2]
    expected_short = sum(pins.pin_length(n, 2) == 2 for n in range(CONCURRENT_PAIRINGS))
    assert len(short) == expected_short == 45
    assert all(len(pin) == 3 for pin in issued if pin not in short)
    # A short PIN is as good as any: an upload by it reaches the device.
    async with AccountingClient(url, tenant["api_key"]) as accounting:
        answer = await accounting.upload(upload(by_pin(short[0])))
    assert answer["status"] == "accepted", answer
    [delivery] = answer["deliveries"]
    assert delivery["device_pin"] == short[0]
