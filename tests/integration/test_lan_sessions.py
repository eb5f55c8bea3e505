"""LAN log-in sessions end: a token stops working once its lifetime is over."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.support.stack import ADMIN_TOKEN, running_stack
from tests.support.waiting import eventually
from tools.client import AdminClient, ApiError
from tools.client.api import LanClient

# About four seconds: long enough for the first call, short enough to wait for.
SESSION_HOURS = "0.0012"


@pytest.mark.slow
async def test_a_session_token_is_refused_once_it_expired(tmp_path: Path) -> None:
    with running_stack(
        tmp_path,
        services=("registry", "gateway", "lan_writer"),
        extra_env={"TSDX_LAN_SESSION_HOURS": SESSION_HOURS},
    ) as stack:
        async with AdminClient(stack.url("gateway"), ADMIN_TOKEN) as admin:
            tenant = (await admin.create_tenant(f"Склад {uuid.uuid4().hex[:6]}"))["tenant"]
            await admin.create_user(tenant, "ivanov", password="секрет-1")
        async with LanClient(stack.url("lan_writer")) as terminal:
            await terminal.login(tenant, "ivanov", "секрет-1")
            assert (await terminal.me())["login"] == "ivanov"

            async def refusal() -> str | None:
                try:
                    await terminal.me()
                except ApiError as error:
                    return f"{error.status} {error.code}"
                return None

            assert await eventually(refusal, timeout=30, what="session expired") == (
                "401 lan_session_invalid"
            )
