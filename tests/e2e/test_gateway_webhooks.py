"""Webhooks end to end: a base sets its address, finished online documents are pushed to a
receiver on 127.0.0.1, signed, retried after a failure, logged, and then count as loaded.

The stack of this module accepts plain http to loopback addresses (a setting meant for tests)
and retries quickly.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from services.gateway.webhook_sender import NO_ANSWER
from tests.support.documents import by_pin, order, upload
from tests.support.onec_text import GUIDES, documented_answers, same_shape
from tests.support.stack import ADMIN_TOKEN, free_port, running_stack
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, ApiError, TerminalClient


@pytest.fixture(scope="module")
def hook_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(
        tmp_path_factory.mktemp("webhooks"),
        services=("registry", "routing", "gateway"),
        extra_env={
            "TSDX_WEBHOOK_ALLOW_HTTP_LOOPBACK": "true",
            # The receivers of these tests listen on 127.0.0.1: allowed here, as an operator
            # would allow an on-site network.
            "TSDX_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
            "TSDX_WEBHOOK_RETRY_BASE_SECONDS": "0.2",
            "TSDX_WEBHOOK_MAX_ATTEMPTS": "3",
            "TSDX_WEBHOOK_TIMEOUT_SECONDS": "5",
        },
    ) as s:
        yield s


@pytest.fixture
async def base(hook_stack: Stack) -> AsyncIterator[tuple[dict[str, str], AccountingClient]]:
    async with AdminClient(hook_stack.url("gateway"), ADMIN_TOKEN) as admin:
        tenant = await admin.create_tenant(f"Склад {uuid.uuid4().hex[:6]}")
    async with AccountingClient(hook_stack.url("gateway"), tenant["api_key"]) as accounting:
        yield tenant, accounting


@dataclass
class Push:
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP endpoint of the accounting side: answers with ``statuses`` in turn, then 200."""

    statuses: list[int] = field(default_factory=list)
    pushes: list[Push] = field(default_factory=list)
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hs/tsdx/completed"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.pushes.append(Push(headers, body))
        status = self.statuses.pop(0) if self.statuses else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def count(self) -> int:
        return len(self.pushes)


@asynccontextmanager
async def receiving(receiver: Receiver) -> AsyncIterator[Receiver]:
    server = uvicorn.Server(
        uvicorn.Config(
            receiver, host="127.0.0.1", port=receiver.port, log_config=None, lifespan="off"
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: asyncio.sleep(0, server.started), what="receiver started")
        yield receiver
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def paired(stack: Stack, tenant: dict[str, str], mode: str) -> AsyncIterator[TerminalClient]:
    terminal = TerminalClient(stack.url("gateway"))
    try:
        await terminal.pair(tenant["connection_code"], f"@HW-{uuid.uuid4().hex[:8]}", mode=mode)
        yield terminal
    finally:
        await terminal.close()


async def finish_one(
    accounting: AccountingClient, terminal: TerminalClient, quantity: str = "2"
) -> str:
    """Upload a document to the terminal and send its final result; the document id."""
    document = order(lines=1)
    answer = await accounting.upload(upload(by_pin(terminal.device["pin"]), document))
    delivery_id = answer["deliveries"][0]["delivery_id"]
    await eventually(terminal.inbox, until=lambda r: r["documents"])
    await terminal.acknowledge(delivery_id)
    lines = [{"line_no": 1, "product_id": "prod-1", "quantity": quantity}]
    await terminal.send_result(delivery_id, uuid.uuid4().hex, lines, final=True)
    document_id: str = document["header"]["id"]
    return document_id


def expected_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def test_an_online_result_is_pushed_signed_retried_and_then_loaded(
    hook_stack: Stack, base: tuple[dict[str, str], AccountingClient]
) -> None:
    tenant, accounting = base
    async with receiving(Receiver(statuses=[500])) as receiver:
        configured = await accounting.set_webhook(receiver.url)
        secret = configured["secret"]
        assert secret.startswith("whsec_")
        shown = await accounting.webhook()
        assert (shown["configured"], shown["url"]) == (True, receiver.url)
        assert "secret" not in shown  # shown once only

        async with paired(hook_stack, tenant, "online") as terminal:
            document_id = await finish_one(accounting, terminal, quantity="2.5")

        await eventually(receiver.count, until=lambda n: n >= 2, what="the push and its retry")
        first, second = receiver.pushes[:2]
        for push in (first, second):
            assert push.headers["x-tsdx-signature"] == expected_signature(secret, push.body)
            assert push.headers["x-tsdx-event"] == "document.completed"
            assert push.headers["content-type"].startswith("application/json")
        assert first.body == second.body
        assert first.headers["x-tsdx-delivery"] == second.headers["x-tsdx-delivery"]
        event = second.json()
        assert event["event"] == "document.completed"
        assert event["event_id"] == second.headers["x-tsdx-delivery"]
        assert event["tenant"] == tenant["tenant"]
        assert event["document"]["document_id"] == document_id
        assert event["document"]["mode"] == "online"
        [line] = event["document"]["result"]["lines"]
        assert Decimal(line["quantity"]) == Decimal("2.5")

        [logged] = await eventually(
            lambda: accounting.webhook_deliveries(state="delivered"), what="delivered in the log"
        )
        assert logged["delivery_id"] == event["event_id"]
        assert logged["document_id"] == document_id
        assert logged["attempts"] == 2
        assert [a["status"] for a in logged["history"]] == [500, 200]
        assert logged["history"][0]["error"] == "HTTP 500"
        assert logged["history"][1]["url"] == receiver.url
        # Delivered means loaded: nothing left to pull.
        assert document_id not in [r["document_id"] for r in await accounting.results()]
        assert (await accounting.result(document_id))["state"] == "loaded"
        assert len(receiver.pushes) == 2


async def test_an_offline_result_is_not_pushed_but_waits_to_be_loaded(
    hook_stack: Stack, base: tuple[dict[str, str], AccountingClient]
) -> None:
    tenant, accounting = base
    async with receiving(Receiver()) as receiver:
        await accounting.set_webhook(receiver.url)
        async with paired(hook_stack, tenant, "offline") as terminal:
            document_id = await finish_one(accounting, terminal)
        listed = await eventually(
            accounting.results,
            until=lambda rs: document_id in [r["document_id"] for r in rs],
            what="the offline document waiting",
        )
        assert [r["mode"] for r in listed] == ["offline"]
        # The push would have been queued with the completed document: there is none.
        assert await accounting.webhook_deliveries() == []
        assert receiver.pushes == []


async def test_a_push_that_keeps_failing_is_given_up_and_the_document_stays_to_load(
    hook_stack: Stack, base: tuple[dict[str, str], AccountingClient]
) -> None:
    tenant, accounting = base
    async with receiving(Receiver(statuses=[503, 503, 503, 503])) as receiver:
        await accounting.set_webhook(receiver.url)
        async with paired(hook_stack, tenant, "online") as terminal:
            document_id = await finish_one(accounting, terminal)
        [failed] = await eventually(
            lambda: accounting.webhook_deliveries(state="failed"), what="the push given up"
        )
        assert failed["attempts"] == 3  # TSDX_WEBHOOK_MAX_ATTEMPTS of this stack
        assert [a["status"] for a in failed["history"]] == [503, 503, 503]
        assert failed["next_attempt_at"] is None
        assert len(receiver.pushes) == 3
        assert document_id in [r["document_id"] for r in await accounting.results()]


async def test_an_unreachable_address_is_logged_with_the_error(
    hook_stack: Stack, base: tuple[dict[str, str], AccountingClient]
) -> None:
    tenant, accounting = base
    nobody = f"http://127.0.0.1:{free_port()}/hook"
    await accounting.set_webhook(nobody)
    async with paired(hook_stack, tenant, "online") as terminal:
        await finish_one(accounting, terminal)
    [failed] = await eventually(
        lambda: accounting.webhook_deliveries(state="failed"), what="the push given up"
    )
    assert failed["last_status"] is None
    # Said without network details: a closed port reads like any address that did not answer.
    assert failed["last_error"] == NO_ANSWER
    assert [a["duration_ms"] for a in failed["history"]] == [None] * len(failed["history"])


async def test_the_address_must_be_https_except_loopback_in_tests(
    hook_stack: Stack, base: tuple[dict[str, str], AccountingClient]
) -> None:
    _, accounting = base
    for url, code in (
        ("http://1c.example.ru/hs/tsdx", "webhook_https_required"),
        ("ftp://1c.example.ru/hs/tsdx", "webhook_url_invalid"),
        ("https://user:password@1c.example.ru/hs", "webhook_url_invalid"),
        ("1c.example.ru", "webhook_url_invalid"),
    ):
        with pytest.raises(ApiError) as refused:
            await accounting.set_webhook(url)
        assert (refused.value.status, refused.value.code) == (422, code), url
    assert (await accounting.webhook())["configured"] is False  # nothing was stored
    async with httpx.AsyncClient(
        base_url=hook_stack.url("gateway"),
        headers={"Authorization": f"Bearer {base[0]['api_key']}", "Accept-Language": "en"},
    ) as http:
        answer = await http.put("/api/v1/settings/webhook", json={"url": "http://1c.example.ru/"})
    assert answer.json()["message"] == "The notification address must start with https://."

    https = await accounting.set_webhook("https://1c.example.ru/trade/hs/tsdx/completed")
    assert https["configured"] is True


def _gateway_files(data_dir: Path) -> bytes:
    return b"".join(path.read_bytes() for path in data_dir.glob("*gateway*.sqlite3*"))


async def test_the_secret_is_shown_once_and_rotated_on_request(
    hook_stack: Stack, base: tuple[dict[str, str], AccountingClient]
) -> None:
    _, accounting = base
    first = await accounting.set_webhook("https://1c.example.ru/a")
    moved = await accounting.set_webhook("https://1c.example.ru/b")
    assert "secret" not in moved
    assert (await accounting.webhook())["url"] == "https://1c.example.ru/b"
    rotated = await accounting.set_webhook("https://1c.example.ru/b", rotate_secret=True)
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != first["secret"]
    # Encrypted at rest: neither secret is anywhere in the gateway's store files.
    stored = await asyncio.to_thread(_gateway_files, Path(hook_stack.env["TSDX_DATA_DIR"]))
    assert b"1c.example.ru/b" in stored  # the right files were read
    for secret in (first["secret"], rotated["secret"]):
        assert secret.encode() not in stored
    assert (await accounting.delete_webhook())["configured"] is False
    assert (await accounting.webhook())["configured"] is False


async def test_a_base_sees_only_its_own_webhook_and_log(
    hook_stack: Stack, base: tuple[dict[str, str], AccountingClient]
) -> None:
    _, accounting = base
    await accounting.set_webhook("https://1c.example.ru/mine")
    async with AdminClient(hook_stack.url("gateway"), ADMIN_TOKEN) as admin:
        other = await admin.create_tenant(f"Склад {uuid.uuid4().hex[:6]}")
    async with AccountingClient(hook_stack.url("gateway"), other["api_key"]) as stranger:
        assert (await stranger.webhook())["configured"] is False
        assert await stranger.webhook_deliveries() == []


@pytest.mark.parametrize("guide", GUIDES, ids=lambda g: g.name)
async def test_the_guides_push_and_log_examples_are_shaped_as_the_real_ones(
    hook_stack: Stack, base: tuple[dict[str, str], AccountingClient], guide: Path
) -> None:
    tenant, accounting = base
    documented = documented_answers(guide)
    async with receiving(Receiver(statuses=[500])) as receiver:
        await accounting.set_webhook(receiver.url)
        async with paired(hook_stack, tenant, "online") as terminal:
            await finish_one(accounting, terminal, quantity="2.5")
        log = await eventually(
            lambda: accounting.webhook_deliveries(state="delivered"), what="delivered in the log"
        )
    same_shape(json.loads(documented["webhook-event"]), receiver.pushes[-1].json(), "event")
    same_shape(json.loads(documented["webhook-deliveries"]), {"deliveries": log}, "deliveries")
