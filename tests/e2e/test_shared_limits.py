"""Guess limits hold across instances: two gateways and two LAN writers on one store allow the
limit once, not twice (each instance is a process of its own, as in test_scale_out.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.support.documents import by_pin, upload
from tests.support.stack import ADMIN_TOKEN, free_port, running_stack
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, ApiError
from tools.client.api import LanClient

LIMIT = 4
SERVICES = ("registry", "routing", "gateway", "lan_writer")


@pytest.fixture(scope="module")
def twice(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    env = {"TSDX_PIN_MISSES_PER_MINUTE": str(LIMIT), "TSDX_LAN_LOGIN_MISSES_PER_MINUTE": str(LIMIT)}
    with running_stack(tmp_path_factory.mktemp("twice"), SERVICES, env) as stack:
        stack.start_instance("gateway", "gateway-2", free_port())
        stack.start_instance("lan_writer", "lan_writer-2", free_port())
        stack.wait_ready(60, ("gateway-2", "lan_writer-2"))
        yield stack


async def _tenant(stack: Stack) -> dict[str, str]:
    async with AdminClient(stack.url("gateway"), ADMIN_TOKEN) as admin:
        return await admin.create_tenant(f"Склад {uuid.uuid4().hex[:6]}")


async def test_wrong_pins_through_two_gateways_count_against_one_limit(twice: Stack) -> None:
    tenant = await _tenant(twice)
    gateways = [
        AccountingClient(twice.url(name), tenant["api_key"]) for name in ("gateway", "gateway-2")
    ]
    try:
        answers = [await gateways[n % 2].upload(upload(by_pin(f"0{n:03d}"))) for n in range(LIMIT)]
        assert [a.get("code") for a in answers] == ["device_not_found_by_pin"] * LIMIT
        for gateway in gateways:  # each instance has seen only half the limit itself
            with pytest.raises(ApiError) as limited:
                await gateway.upload(upload(by_pin("0999")))
            assert (limited.value.status, limited.value.code) == (429, "too_many_pin_misses")
    finally:
        for gateway in gateways:
            await gateway.close()


async def test_log_in_misses_through_two_lan_writers_count_against_one_limit(
    twice: Stack,
) -> None:
    tenant = await _tenant(twice)
    async with AdminClient(twice.url("gateway"), ADMIN_TOKEN) as admin:
        await admin.create_user(tenant["tenant"], "ivanov", password="секрет-1")
    writers = [LanClient(twice.url(name)) for name in ("lan_writer", "lan_writer-2")]
    try:
        for attempt in range(LIMIT):
            with pytest.raises(ApiError) as wrong:
                await writers[attempt % 2].login(tenant["tenant"], "ivanov", f"угадай-{attempt}")
            assert wrong.value.code == "lan_login_failed"
        for writer in writers:
            with pytest.raises(ApiError) as limited:
                await writer.login(tenant["tenant"], "ivanov", "секрет-1")
            assert (limited.value.status, limited.value.code) == (429, "too_many_login_attempts")
    finally:
        for writer in writers:
            await writer.close()
