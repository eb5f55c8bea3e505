"""A PIN upload still pending when it is answered (202) keeps its guess counted only until
routing decides it: a right PIN gives the guess back then, a wrong one keeps it. Without that,
a busy routing (or a RabbitMQ node lost) would turn right PINs into "too many wrong PINs"."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from shared.cli.stack import Stack
from shared.client import AccountingClient, AdminClient, ApiError, TerminalClient
from tests.support.documents import by_pin, upload
from tests.support.stack import ADMIN_TOKEN, running_stack
from tests.support.waiting import eventually

LIMIT = 3
SERVICES = ("registry", "routing", "gateway")


@pytest.fixture(scope="module")
def answers_pending(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # The gateway does not wait for routing at all: every upload is answered 202 pending.
    env = {"TSDX_PIN_MISSES_PER_MINUTE": str(LIMIT), "TSDX_UPLOAD_WAIT_SECONDS": "0"}
    with running_stack(tmp_path_factory.mktemp("pending"), SERVICES, env) as stack:
        yield stack


async def _decided(accounting: AccountingClient, request_id: str) -> dict[str, Any]:
    return await eventually(
        lambda: accounting.upload_status(request_id),
        until=lambda answer: answer.get("status") != "pending",
        what=f"upload {request_id} decided",
    )


async def test_right_pins_answered_pending_give_their_guesses_back(answers_pending: Stack) -> None:
    stack = answers_pending
    async with AdminClient(stack.url("gateway"), ADMIN_TOKEN) as admin:
        tenant = await admin.create_tenant(f"Склад {uuid.uuid4().hex[:6]}")
    terminal = TerminalClient(stack.url("gateway"))
    accounting = AccountingClient(stack.url("gateway"), tenant["api_key"])
    try:
        paired = await terminal.pair(
            tenant["connection_code"], f"@HONEYWELL-EDA50-V-{uuid.uuid4().hex[:8]}", "EDA50"
        )
        # Twice the limit of right PINs, each answered before routing decided it.
        for _ in range(2 * LIMIT):
            request = upload(by_pin(paired["pin"]))
            answer = await accounting.upload(request)
            assert answer["status"] == "pending", answer
            assert (await _decided(accounting, request["request_id"]))["status"] == "accepted"
        # Wrong PINs still count, pending or not: the limit is reached after LIMIT of them.
        for n in range(LIMIT):
            request = upload(by_pin(f"0{n:03d}"))
            assert (await accounting.upload(request))["status"] == "pending"
            assert (await _decided(accounting, request["request_id"]))["status"] == "refused"
        with pytest.raises(ApiError) as limited:
            await accounting.upload(upload(by_pin("0999")))
        assert (limited.value.status, limited.value.code) == (429, "too_many_pin_misses")
    finally:
        await terminal.close()
        await accounting.close()
