"""No secret ever reaches a log file: a whole working day with every kind of secret in use
(issued, rotated, checked, mistyped), then every service's log is searched for each of them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from tests.security.helpers import delivered, log_text, paired
from tests.support.documents import order, upload
from tests.support.stack import ADMIN_TOKEN, free_port
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, ApiError, TerminalClient
from tools.client.api import LanClient


class Receiver:
    """The accounting side's webhook address on loopback: keeps the signatures it was sent."""

    def __init__(self) -> None:
        self.port = free_port()
        self.signatures: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hs/tsdx/completed"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        while (await receive()).get("more_body"):
            pass
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.signatures.append(headers.get("x-tsdx-signature", ""))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    config = uvicorn.Config(
        receiver, host="127.0.0.1", port=receiver.port, log_config=None, lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: asyncio.sleep(0, server.started), what="receiver started")
        yield receiver
    finally:
        server.should_exit = True
        await task


async def refused(call: object) -> ApiError:
    with pytest.raises(ApiError) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def test_no_secret_in_use_appears_in_any_log(guarded_stack: Stack) -> None:
    stack = guarded_stack
    secrets: dict[str, str] = {"admin token": ADMIN_TOKEN}
    async with AdminClient(stack.url("gateway"), ADMIN_TOKEN) as admin:
        tenant = await admin.create_tenant(f"Склад {uuid.uuid4().hex[:6]}")
        base = tenant["tenant"]
        secrets |= {"first API key": tenant["api_key"], "first code": tenant["connection_code"]}

        # LAN users: a password and a badge, used right and mistyped.
        password, badge = f"пароль-{uuid.uuid4().hex}", f"BADGE{uuid.uuid4().hex}"
        wrong_password = f"неверный-{uuid.uuid4().hex}"
        await admin.create_user(base, "ivanov", password=password, barcode=badge)
        new_password = f"новый-{uuid.uuid4().hex}"
        await admin.update_user(base, "ivanov", password=new_password)
        secrets |= {"password": password, "new password": new_password, "badge": badge}
        secrets["mistyped password"] = wrong_password
        async with LanClient(stack.url("lan_writer")) as lan:
            assert (await refused(lan.login(base, "ivanov", wrong_password))).status == 401
            session = await lan.login(base, "ivanov", new_password)
            secrets["LAN session"] = session["token"]
            await lan.login(base, barcode=badge)
            await lan.logout()

        async with (
            receiving() as receiver,
            AccountingClient(stack.url("gateway"), tenant["api_key"]) as accounting,
            paired(stack, tenant) as terminal,
        ):
            secrets["device credential"] = terminal.device["credential"]
            hook = await accounting.set_webhook(receiver.url)
            secrets["webhook secret"] = hook["secret"]
            answer = await delivered(accounting, terminal, order(lines=1))
            delivery_id = answer["deliveries"][0]["delivery_id"]
            await terminal.acknowledge(delivery_id)
            lines = [{"line_no": 1, "product_id": "prod-1", "quantity": "2"}]
            await terminal.send_result(delivery_id, uuid.uuid4().hex, lines, final=True)
            # The push went out signed with the secret.
            await eventually(lambda: asyncio.sleep(0, receiver.signatures), what="a push")
            assert receiver.signatures[0].startswith("sha256=")
            rotated = await accounting.set_webhook(receiver.url, rotate_secret=True)
            secrets["rotated webhook secret"] = rotated["secret"]
            # A mistyped connection code pairs nothing.
            code = tenant["connection_code"]
            wrong_code = code[:-1] + ("Y" if code.endswith("Z") else "Z")
            async with TerminalClient(stack.url("gateway")) as stranger:
                error = await refused(stranger.pair(wrong_code, "@HW-STRANGER"))
                assert error.code == "bad_connection_code"
            secrets["mistyped code"] = wrong_code

        rotated_key = await admin.rotate_api_key(base)
        new_code = await admin.rotate_connection_code(base)
        secrets["rotated API key"] = rotated_key["api_key"]
        secrets["rotated code"] = new_code["connection_code"]
        async with AccountingClient(stack.url("gateway"), tenant["api_key"]) as old:
            assert (await refused(old.devices())).status == 401  # the old key, refused
        async with AccountingClient(stack.url("gateway"), rotated_key["api_key"]) as current:
            assert (await current.upload(upload({"kind": "pin", "value": "0000"})))["code"]

    assert stack.log_dir is not None
    logs = {path.stem: log_text(stack, path.stem) for path in stack.log_dir.glob("*.log")}
    assert set(logs) == set(stack.services)
    # The search reaches what was logged about this base's work.
    assert all(base in logs[service] for service in ("gateway", "routing", "registry")), base
    leaks = [
        f"{what} in {service}.log"
        for what, secret in secrets.items()
        for service, text in logs.items()
        if secret in text
    ]
    assert leaks == []
