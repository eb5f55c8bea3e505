"""A minimal HTTP/1.1 keep-alive client for load: pre-built requests, little work per call.

A general client (httpx) spends more CPU per request than a small server needs to answer it,
and on a small machine the load generator would then measure itself. This one writes bytes
and reads a ``Content-Length`` body, which is all the tsdx and ceiling endpoints send.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from typing import Any

import orjson

_CONTENT_LENGTH = b"\r\ncontent-length:"


class WireError(Exception):
    """The server answered something this client does not read (or closed the connection)."""


def build_request(
    method: str,
    path: str,
    host: str,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + (body or b"")


def parse_head(head: bytes) -> tuple[int, int]:
    """Status and body length of a response head (status line and headers, CRLF CRLF)."""
    try:
        status = int(head[9:12])
    except ValueError:
        raise WireError(f"not an HTTP response: {head[:40]!r}") from None
    at = head.lower().find(_CONTENT_LENGTH)
    if at < 0:
        raise WireError("response without Content-Length")
    end = head.index(b"\r\n", at + 2)
    return status, int(head[at + len(_CONTENT_LENGTH) : end])


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(
            self.host, self.port, limit=1 << 20
        )

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with suppress(OSError):
                await self._writer.wait_closed()
            self._reader = self._writer = None

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Send one pre-built request; the status and body of the answer."""
        if self._writer is None or self._reader is None:
            await self.open()
        assert self._reader is not None and self._writer is not None
        try:
            self._writer.write(request)
            head = await self._reader.readuntil(b"\r\n\r\n")
            status, length = parse_head(head)
            body = await self._reader.readexactly(length)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError) as exc:
            await self.close()
            raise WireError(f"connection lost: {exc!r}") from exc
        return status, body

    async def call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        payload: Any = None,
    ) -> tuple[int, Any]:
        """A JSON call with a Bearer token; the status and the decoded answer."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = orjson.dumps(payload) if payload is not None else None
        status, raw = await self.send(
            build_request(method, path, f"{self.host}:{self.port}", headers, body)
        )
        return status, orjson.loads(raw) if raw else None


# uvicorn closes a keep-alive connection idle for 5 s; one idle longer is not reused, so a
# request is never written to a connection the server is closing.
MAX_IDLE_SECONDS = 2.0


class Pool:
    """Keep-alive connections to one server, opened as needed and reused while fresh."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._idle: list[tuple[float, Connection]] = []

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        conn = await self._take()
        try:
            yield conn
        except BaseException:
            await conn.close()
            raise
        self._idle.append((time.monotonic(), conn))

    async def _take(self) -> Connection:
        while self._idle:
            since, conn = self._idle.pop()
            if time.monotonic() - since < MAX_IDLE_SECONDS:
                return conn
            await conn.close()
        return Connection(self.host, self.port)

    async def close(self) -> None:
        while self._idle:
            await self._idle.pop()[1].close()
