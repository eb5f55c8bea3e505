"""Where a push really connects: the name resolved once and checked, the checked address used,
no redirect followed, and a delivery log that tells nothing of the network behind an address.

The receivers are real HTTP servers on 127.0.0.1; the name ``hooks.example.test`` is made to
resolve to them, as a hostile DNS server would make a public-looking name resolve to loopback.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from services.gateway.records import Webhook, WebhookPush
from services.gateway.webhook_sender import NO_ANSWER, WebhookSender
from shared.secret_box import SecretBox, new_key
from shared.settings import Settings
from tests.support.stack import free_port

NAME = "hooks.example.test"


class Receiver:
    """An HTTP server that answers every request with ``status`` (and ``location``)."""

    def __init__(self, status: int = 200, location: str | None = None) -> None:
        self.status = status
        self.location = location
        self.requests: list[bytes] = []
        self.port = 0

    async def answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            ),
            0,
        )
        await reader.readexactly(length)
        self.requests.append(head)
        extra = f"Location: {self.location}\r\n" if self.location else ""
        head_out = f"HTTP/1.1 {self.status} X\r\n{extra}Content-Length: 0\r\nConnection: close"
        writer.write(f"{head_out}\r\n\r\n".encode())
        await writer.drain()
        writer.close()

    @property
    def host_headers(self) -> list[str]:
        return [
            line.split(b":", 1)[1].strip().decode()
            for head in self.requests
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"host:")
        ]


Serve = Callable[[Receiver], Awaitable[Receiver]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Starts receivers on 127.0.0.1 for the test; stops them after."""
    servers: list[asyncio.Server] = []

    async def start(receiver: Receiver) -> Receiver:
        server = await asyncio.start_server(receiver.answer, "127.0.0.1", 0)
        receiver.port = server.sockets[0].getsockname()[1]
        servers.append(server)
        return receiver

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def opened() -> AsyncIterator[list[WebhookSender]]:
    """Senders made by a test, their HTTP clients closed after it."""
    senders: list[WebhookSender] = []
    yield senders
    for sender in senders:
        await sender.close()


async def _to_loopback(host: str, port: int) -> list[str]:
    assert host == NAME
    return ["127.0.0.1"]


def _sender(tmp_path: Path, allowed: str, opened: list[WebhookSender]) -> WebhookSender:
    settings = Settings(
        data_dir=tmp_path, webhook_allowed_networks=allowed, webhook_timeout_seconds=5
    )
    box = SecretBox([new_key()])
    runtime: Any = SimpleNamespace(settings=settings, state={"secret_box": box}, store=None)
    sender = WebhookSender(runtime, notifier=None, resolve=_to_loopback, box=box)  # type: ignore[arg-type]
    sender.open()  # its HTTP client only: start() would also run the loop, which needs a store
    opened.append(sender)
    return sender


def _push(sender: WebhookSender, url: str) -> tuple[Webhook, WebhookPush]:
    hook = Webhook(
        tenant="t1", url=url, updated_at="", sealed_secret=sender._box.seal("whsec_test")
    )
    row = WebhookPush(
        id="d-1",
        tenant="t1",
        event="document.completed",
        document_id="doc-1",
        body='{"event": "document.completed"}',
        state="pending",
        attempts=0,
        created_at="",
        next_attempt_at="",
    )
    return hook, row


async def test_a_name_that_resolves_to_loopback_is_refused_when_the_push_connects(
    tmp_path: Path, serve: Serve, opened: list[WebhookSender]
) -> None:
    receiver = await serve(Receiver())
    sender = _sender(tmp_path, "", opened)
    status, error, duration = await sender.push(
        *_push(sender, f"https://{NAME}:{receiver.port}/hook")
    )
    assert (status, error, duration) == (None, "address not allowed: loopback", None)
    assert receiver.requests == []  # nothing was sent to it


async def test_an_allowed_network_is_reached_at_the_checked_address_with_the_name_kept(
    tmp_path: Path, serve: Serve, opened: list[WebhookSender]
) -> None:
    receiver = await serve(Receiver())
    sender = _sender(tmp_path, "127.0.0.0/8", opened)
    status, error, _ = await sender.push(*_push(sender, f"http://{NAME}:{receiver.port}/hook"))
    assert (status, error) == (200, None)
    assert receiver.host_headers == [f"{NAME}:{receiver.port}"]


async def test_a_redirect_is_not_followed(
    tmp_path: Path, serve: Serve, opened: list[WebhookSender]
) -> None:
    elsewhere = await serve(Receiver())
    redirecting = await serve(
        Receiver(status=307, location=f"http://127.0.0.1:{elsewhere.port}/metadata")
    )
    sender = _sender(tmp_path, "127.0.0.0/8", opened)
    status, error, _ = await sender.push(
        *_push(sender, f"http://127.0.0.1:{redirecting.port}/hook")
    )
    assert (status, error) == (307, "HTTP 307")
    assert len(redirecting.requests) == 1
    assert elsewhere.requests == []


async def test_a_closed_port_reads_like_any_address_that_did_not_answer(
    tmp_path: Path, opened: list[WebhookSender]
) -> None:
    sender = _sender(tmp_path, "127.0.0.0/8", opened)
    closed = await sender.push(*_push(sender, f"http://127.0.0.1:{free_port()}/hook"))
    assert closed == (None, NO_ANSWER, None)
