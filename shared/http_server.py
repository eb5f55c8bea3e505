"""How the services' HTTP server writes: an answer's head and body in one socket write.

uvicorn hands an answer's status line and headers to the transport as soon as the app sends
``http.response.start``, and its body at ``http.response.body``; on uvloop each is a ``send``
system call and a segment of its own on the wire (the head's write was 13% of the gateway's
samples under load). :class:`HttpProtocol` is uvicorn's httptools protocol on a transport that
holds a write while nothing is held, and hands it on with the next one (the body after the
head: one vectored write, nothing copied), or at the start of the next event-loop turn
(``loop.call_soon``) when no other write comes in this one. An answer whose body follows its
head at once, as every answer of the services does, waits for nothing; nothing is reordered.
It is plugged in through uvicorn's own seam, ``uvicorn.Config(http=...)``, in one place for
the services and the bench's ceilings alike: :func:`server_config`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# A first write of this size or more is not held: it gains nothing from company, and the
# transport's flow control (pausing the app's writes above its high-water mark, 64 KiB by
# default) sees it at once.
HOLD_BELOW_BYTES = 64 * 1024


class TurnWriter:
    """A transport that holds a write while nothing is held and hands it on with the next one,
    or at the next loop turn; everything else is the real transport's. What is held is handed
    on before the transport is closed or its end written; ``abort`` drops it with the rest, as
    the transport would."""

    def __init__(self, transport: asyncio.WriteTransport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None
        self._flush_handle: asyncio.Handle | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if self._held is None:
            if len(data) >= HOLD_BELOW_BYTES:
                self._hand_on([data])
                return
            # Held past this call: a caller's buffer may change, so a copy of one that can.
            self._held = data if isinstance(data, bytes) else bytes(data)
            self._flush_handle = self._loop.call_soon(self.flush)
            return
        held = self._take_held()
        self._hand_on([held, data])

    def writelines(self, data: Any) -> None:
        for chunk in data:
            self.write(chunk)

    def flush(self) -> None:
        """Hand on what is held (dropped, as the transport drops it, once the connection is
        closing)."""
        if self._held is not None:
            self._hand_on([self._take_held()])

    def _take_held(self) -> bytes:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        held, self._held = self._held, None
        assert held is not None
        return held

    def _hand_on(self, chunks: list[Any]) -> None:
        if self._transport.is_closing():
            return
        if len(chunks) == 1:
            self._transport.write(chunks[0])
        else:
            self._transport.writelines(chunks)  # one vectored write on uvloop

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        if self._held is not None:
            self._take_held()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:  # the rest is the real transport's
        return getattr(self._transport, name)


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol writing through a :class:`TurnWriter`.

    The seam is how uvicorn's ``connection_made`` keeps the transport (``self.transport``, which
    every answer writes to); a uvicorn that kept it otherwise would write around the writer, and
    a held head could follow its body. The first connection checks it, and fails loudly."""

    _seam_checked = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        writer = TurnWriter(transport, asyncio.get_running_loop())
        super().connection_made(writer)  # type: ignore[arg-type]
        if not HttpProtocol._seam_checked:
            kept: object = self.transport
            if kept is not writer:
                transport.abort()
                raise RuntimeError(
                    "uvicorn's HttpToolsProtocol no longer keeps its transport in"
                    " self.transport: shared/http_server.py's TurnWriter would be bypassed"
                )
            HttpProtocol._seam_checked = True


def server_config(app: Any, **listening: Any) -> uvicorn.Config:
    """How every tsdx HTTP server is set up (the services, and the bench's ceilings, which are
    served as the services are): this module's protocol, no access log (each service writes
    its own line per request), no lifespan (the services start their runtime themselves).
    ``listening`` is where: ``host`` and ``port``, or nothing when sockets are handed over."""
    return uvicorn.Config(
        app, http=HttpProtocol, log_config=None, access_log=False, lifespan="off", **listening
    )
