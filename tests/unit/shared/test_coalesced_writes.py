"""The AMQP socket's writer: what is written in one loop turn reaches the transport as one
write, in order, at the next turn at the latest (pure: a transport that records its writes)."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import aiormq
import pytest
from yarl import URL

from shared.messaging.addresses import AddressRing
from shared.messaging.broker import FailoverConnection
from shared.messaging.coalesced_writes import (
    FLUSH_AT_BYTES,
    CoalescingTransportFactory,
    CoalescingWriter,
)


class RecordingTransport(asyncio.WriteTransport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.events: list[str] = []
        self.closing = False
        self.failure: Exception | None = None  # what the next write raises

    def write(self, data: Any) -> None:
        if "eof" in self.events:
            raise RuntimeError("Cannot call write() after write_eof()")  # as asyncio's do
        if self.failure is not None:
            raise self.failure
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.events.append("eof")

    def close(self) -> None:
        self.events.append("close")
        self.closing = True

    def abort(self) -> None:
        self.events.append("abort")
        self.closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


def _writer() -> tuple[CoalescingWriter, RecordingTransport, asyncio.StreamReaderProtocol]:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(loop=loop)
    protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
    transport = RecordingTransport()
    protocol.connection_made(transport)
    return CoalescingWriter(transport, protocol, reader, loop), transport, protocol


async def _next_turn() -> None:
    """Let the loop run the callbacks scheduled so far (the flush among them)."""
    turn = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(turn.set_result, None)
    await turn


async def test_the_frames_of_one_turn_go_out_in_one_write_in_order() -> None:
    writer, transport, _ = _writer()
    writer.write(b"publish-1")
    writer.write(b"ack-7")
    writer.writelines([b"publish-2", b""])
    assert transport.writes == []  # held until the turn ends
    await _next_turn()
    assert transport.writes == [b"publish-1ack-7publish-2"]
    writer.write(b"ack-8")
    await _next_turn()
    assert transport.writes == [b"publish-1ack-7publish-2", b"ack-8"]
    await _next_turn()  # nothing held, nothing written
    assert len(transport.writes) == 2


async def test_a_buffer_changed_after_its_write_goes_out_as_it_was_written() -> None:
    writer, transport, _ = _writer()
    buffer = bytearray(b"frame-1")
    writer.write(buffer)
    buffer[:] = b"changed"
    await _next_turn()
    assert transport.writes == [b"frame-1"]


async def test_a_large_write_goes_out_at_once_after_what_was_held() -> None:
    writer, transport, _ = _writer()
    writer.write(b"ack-1")
    large = b"x" * FLUSH_AT_BYTES
    writer.write(large)
    assert transport.writes == [b"ack-1" + large]
    await _next_turn()
    assert transport.writes == [b"ack-1" + large]  # the scheduled flush found nothing left


async def test_the_end_of_the_stream_hands_on_what_is_held_first() -> None:
    writer, transport, _ = _writer()
    writer.write(b"connection.close")
    writer.write_eof()
    assert (transport.writes, transport.events) == ([b"connection.close"], ["eof"])
    with pytest.raises(RuntimeError, match="after write_eof"):
        writer.write(b"late")  # refused at once, as the transport refuses it: never held
    writer.close()
    await _next_turn()
    assert (transport.writes, transport.events) == ([b"connection.close"], ["eof", "close"])


async def test_bytes_held_for_a_lost_connection_are_dropped_as_the_transport_would() -> None:
    writer, transport, _ = _writer()
    writer.write(b"publish-1")
    transport.closing = True  # the connection was lost in the meantime
    await _next_turn()
    assert transport.writes == []


async def test_drain_lags_the_held_bytes_which_go_on_while_it_waits() -> None:
    """``drain`` sees only what reached the transport: bytes held this turn do not make it
    wait, and bytes held while it waits still go out at the next turn (it never waits for a
    flush that waits for it)."""
    writer, transport, protocol = _writer()
    writer.write(b"publish-1")
    await writer.drain()  # not paused: returns at once, the bytes still held
    assert transport.writes == []
    protocol.pause_writing()  # the transport went above its high-water mark
    writer.write(b"publish-2")
    drained = asyncio.ensure_future(writer.drain())
    await _next_turn()
    assert transport.writes == [b"publish-1publish-2"]
    assert not drained.done()
    protocol.resume_writing()
    await asyncio.wait_for(drained, 5)


async def test_a_failed_flush_at_the_next_turn_loses_the_connection() -> None:
    """A transport that raises on the turn's write: the connection is aborted (frames are
    missing from its stream), nothing reaches the loop's exception handler."""
    loop = asyncio.get_running_loop()
    unhandled: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: unhandled.append(context))
    try:
        writer, transport, _ = _writer()
        transport.failure = OSError("broken pipe")
        writer.write(b"publish-1")
        await _next_turn()
    finally:
        loop.set_exception_handler(previous)
    assert (transport.writes, transport.events, unhandled) == ([], ["abort"], [])
    writer.write(b"publish-2")  # the connection is gone: dropped, as the transport drops it
    await _next_turn()
    assert transport.writes == []


async def test_a_failed_large_write_loses_the_connection_and_tells_its_writer() -> None:
    writer, transport, _ = _writer()
    writer.write(b"ack-1")
    transport.failure = OSError("broken pipe")
    with pytest.raises(OSError, match="broken pipe"):
        writer.write(b"x" * FLUSH_AT_BYTES)
    assert transport.events == ["abort"]


async def test_a_refused_socket_is_aiormq_s_connection_error() -> None:
    factory = CoalescingTransportFactory()
    with pytest.raises(aiormq.AMQPConnectionError):
        # Port 1 on the loopback: nothing listens there.
        await factory.create(URL("amqp://guest:guest@127.0.0.1:1/"))
    assert factory.opened == 0


async def test_an_address_without_host_is_refused_before_any_socket() -> None:
    factory = CoalescingTransportFactory()
    with pytest.raises(aiormq.AMQPConnectionError, match="no host and port"):
        await factory.create(URL("amqp:///tsdx"))
    assert factory.opened == 0


async def test_every_failover_connection_opens_its_sockets_with_the_coalescing_factory() -> None:
    # The seam: aiormq takes a transport factory, and aio-pika hands its kwargs on to it.
    assert "transport_factory" in inspect.signature(aiormq.Connection.__init__).parameters
    connection = FailoverConnection(AddressRing(("amqp://guest:guest@127.0.0.1:5672/",)))
    assert connection.kwargs["transport_factory"] is connection.sockets
    assert isinstance(connection.sockets, CoalescingTransportFactory)
