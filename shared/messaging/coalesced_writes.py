"""The AMQP frames that become ready in one event-loop turn go out in one socket write.

aiormq's writer task hands every frame (a publish with its header and body, an
acknowledgement, a heartbeat) to its ``StreamWriter`` on its own, and the transport sends each
at once: a system call per frame (``StreamWriter.write`` was 7-19% of the services' samples
under load), and a segment for the broker to read per frame.
:class:`CoalescingWriter` holds what is written during a turn and gives it to the transport in
one piece at the start of the next (``loop.call_soon``): nothing is reordered, and nothing waits
for anything but the frames already ready.

The seam is aiormq's own: its connection takes a ``transport_factory`` that opens the socket and
returns the reader and writer it then uses for everything (the handshake, the writer task,
the close). :class:`CoalescingTransportFactory` opens it as aiormq's TCP and TLS factories do,
with this writer. An aiormq without that parameter fails here, at import, instead of silently
not coalescing.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import aiormq
from aiormq.exceptions import AMQPConnectionError
from yarl import URL

from shared.logging import get_logger

if "transport_factory" not in inspect.signature(aiormq.Connection.__init__).parameters:
    raise ImportError("aiormq's Connection takes no transport_factory: writes cannot be coalesced")

log = get_logger("tsdx.messaging")

# Held bytes beyond this go to the transport at once: a large message gains nothing from
# waiting, and the transport's flow control (its high-water mark, 64 KiB by default) then
# sees it at once. What is held is therefore bounded however fast frames come.
FLUSH_AT_BYTES = 64 * 1024


class CoalescingWriter(asyncio.StreamWriter):
    """A stream writer whose writes of one loop turn reach the transport as one write.

    ``drain`` is the transport's flow control: it waits while the transport is above its
    high-water mark, which counts only what was handed on, so it lags what was written by up to
    one loop turn or :data:`FLUSH_AT_BYTES`. A write the transport raises on loses the
    connection (see :meth:`flush`). The held bytes are handed on before the end of the stream
    (``write_eof``, ``close``); ``abort`` through ``transport`` drops them with the rest.
    """

    def __init__(
        self,
        transport: asyncio.WriteTransport,
        protocol: asyncio.StreamReaderProtocol,
        reader: asyncio.StreamReader | None,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        super().__init__(transport, protocol, reader, loop)
        self._flush_loop = loop
        self._held: list[bytes] = []
        self._held_bytes = 0
        self._flush_handle: asyncio.Handle | None = None
        self._ended = False  # write_eof was called

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._ended:
            # Refused now, as the transport refuses it: held, it would fail a later flush.
            raise RuntimeError("Cannot call write() after write_eof()")
        if not data:
            return
        if not isinstance(data, bytes):  # held past this call: a caller's buffer may change
            data = bytes(data)
        self._held.append(data)
        self._held_bytes += len(data)
        if self._held_bytes >= FLUSH_AT_BYTES:
            self.flush()
        elif self._flush_handle is None:
            self._flush_handle = self._flush_loop.call_soon(self._flush_turn)

    def writelines(self, data: Any) -> None:
        for chunk in data:
            self.write(chunk)

    def flush(self) -> None:
        """Hand everything held to the transport, in one write."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if not self._held:
            return
        held = self._held
        self._held = []
        self._held_bytes = 0
        if self.transport.is_closing():
            # The connection is gone (or going): the transport would drop these bytes too, or
            # refuse them. The broker never saw them, so their confirms fail with the channel.
            return
        try:
            self.transport.write(held[0] if len(held) == 1 else b"".join(held))
        except Exception:
            # Frames of other writers are missing from the stream now: the connection must not
            # go on without them. It is lost instead (the reader sees it closed, the confirms
            # fail, the outbox sends again).
            self.transport.abort()
            raise

    def _flush_turn(self) -> None:
        """The flush at the start of the next turn. Run by the loop, an error would only reach
        its exception handler: it is logged here, the connection already lost by ``flush``."""
        try:
            self.flush()
        except Exception as exc:
            log.warning("broker.socket_write_failed", error=repr(exc))

    def write_eof(self) -> None:
        self.flush()
        super().write_eof()
        self._ended = True

    def close(self) -> None:
        self.flush()
        super().close()


class CoalescingTransportFactory(aiormq.TransportFactory):
    """Opens the broker's socket as aiormq's TCP and TLS factories do, with a
    :class:`CoalescingWriter`; ``opened`` counts the sockets it opened."""

    def __init__(self) -> None:
        self.opened = 0

    async def create(
        self, url: URL, **kwargs: Any
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if url.host is None or url.port is None:
            # The address itself is not shown: it may hold the credentials.
            raise AMQPConnectionError("no host and port to connect to in the broker's address")
        tls = kwargs.pop("ssl_context_provider", None)
        ssl = await tls.get_context() if url.scheme == "amqps" else None
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(loop=loop)
        protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
        try:
            transport, _ = await loop.create_connection(
                lambda: protocol, host=url.host, port=url.port, ssl=ssl, **kwargs
            )
        except OSError as exc:
            raise AMQPConnectionError(*exc.args) from exc
        self.opened += 1
        return reader, CoalescingWriter(transport, protocol, reader, loop)
