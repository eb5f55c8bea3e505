"""How the services' HTTP server writes: an answer's head and body in one socket write.

uvicorn hands an answer's status line and headers to the transport as soon as the app sends
``http.response.start``, and its body at ``http.response.body``; on uvloop each is a ``send``
system call and a segment of its own on the wire (the head's write was 13% of the gateway's
samples under load). :class:`HttpProtocol` is uvicorn's httptools protocol on a transport that
holds what is written during one event-loop turn and hands it on in one write at the start of
the next (``loop.call_soon``), as the broker connection's writer does
(``shared/messaging/coalesced_writes.py``): nothing is reordered, and nothing waits for more
than the answer's own parts. ``uvicorn.Config(http=HttpProtocol)`` is uvicorn's own seam.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Held bytes beyond this go to the transport at once, so its flow control (pausing the app's
# writes above its high-water mark, 64 KiB by default) sees a large answer as it is written.
FLUSH_AT_BYTES = 64 * 1024


class TurnWriter:
    """A transport whose writes of one loop turn reach the real one as one write; everything
    else is the real transport's. Held bytes are handed on before the transport is closed or
    its end written; ``abort`` drops them with the rest, as the transport would."""

    def __init__(self, transport: asyncio.WriteTransport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []
        self._held_bytes = 0
        self._flush_handle: asyncio.Handle | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not isinstance(data, bytes):  # held past this call: a caller's buffer may change
            data = bytes(data)
        self._held.append(data)
        self._held_bytes += len(data)
        if self._held_bytes >= FLUSH_AT_BYTES:
            self.flush()
        elif self._flush_handle is None:
            self._flush_handle = self._loop.call_soon(self.flush)

    def writelines(self, data: Any) -> None:
        for chunk in data:
            self.write(chunk)

    def flush(self) -> None:
        """Hand everything held to the transport, in one write (dropped, as the transport
        drops it, once the connection is closing)."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if not self._held:
            return
        held, self._held, self._held_bytes = self._held, [], 0
        if not self._transport.is_closing():
            self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        self._held, self._held_bytes = [], 0
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:  # the rest is the real transport's
        return getattr(self._transport, name)


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol writing through a :class:`TurnWriter`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        writer = TurnWriter(transport, asyncio.get_running_loop())
        super().connection_made(writer)  # type: ignore[arg-type]
