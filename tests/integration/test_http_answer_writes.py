"""The services' HTTP server (``shared.http_server.HttpProtocol`` under uvicorn) on a real
socket: an answer's head and body go to the socket in one write, keep-alive answers come in
order, a streamed answer of large chunks comes whole, and an answer on a connection
the server closes arrives before the close."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from shared.http_server import HOLD_BELOW_BYTES, HttpProtocol
from tests.support.stack import free_port
from tests.support.waiting import eventually

CHUNK = b"y" * (HOLD_BELOW_BYTES // 2 + 1)


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    assert scope["type"] == "http"
    if scope["path"] == "/stream":  # three chunks, more than is held, no length declared
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(3):
            await send({"type": "http.response.body", "body": CHUNK, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    body = scope["path"].encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


SOCKET_WRITES: list[bytes] = []  # what the server's protocols hand their sockets, in order


class _CountedSocket:
    """The socket's transport, noting each write it is given."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport

    def write(self, data: bytes) -> None:
        SOCKET_WRITES.append(bytes(data))
        self._transport.write(data)

    def writelines(self, chunks: list[bytes]) -> None:  # one vectored write
        SOCKET_WRITES.append(b"".join(chunks))
        self._transport.writelines(chunks)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CountedHttpProtocol(HttpProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_CountedSocket(transport))  # type: ignore[arg-type]


@pytest.fixture
async def port() -> AsyncIterator[int]:
    SOCKET_WRITES.clear()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=free_port(),
        http=CountedHttpProtocol,
        log_config=None,
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: asyncio.sleep(0, server.started), what="server started")
        yield config.port
    finally:
        server.should_exit = True
        await task


def _request(path: str, *, close: bool = False) -> bytes:
    connection = b"Connection: close\r\n" if close else b""
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n" + connection + b"\r\n"


async def test_an_answer_s_head_and_body_go_to_the_socket_in_one_write(port: int) -> None:
    answers = []
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for path in ("/first", "/second"):  # keep-alive: each answer whole, in order
            writer.write(_request(path))
            data = await asyncio.wait_for(reader.read(65536), 10)
            assert data.startswith(b"HTTP/1.1 200 OK\r\n")
            assert data.endswith(b"\r\n\r\n" + path.encode()), data
            answers.append(data)
    finally:
        writer.close()
    assert answers == SOCKET_WRITES  # uvicorn alone writes the head, then the body


async def test_a_streamed_answer_of_large_chunks_arrives_whole(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(_request("/stream", close=True))
        data = await asyncio.wait_for(reader.read(), 10)  # until the server closes
    finally:
        writer.close()
    head, _, chunked = data.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head
    size = f"{len(CHUNK):x}".encode()
    assert chunked == (size + b"\r\n" + CHUNK + b"\r\n") * 3 + b"0\r\n\r\n"


async def test_an_answer_on_a_connection_the_server_closes_arrives_before_the_close(
    port: int,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(_request("/last", close=True))
        data = await asyncio.wait_for(reader.read(), 10)  # until the server closes
    finally:
        writer.close()
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert data.endswith(b"\r\n\r\n/last")
