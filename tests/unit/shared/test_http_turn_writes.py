"""The HTTP server's transport: what an answer writes in one loop turn (its head, then its
body) reaches the socket's transport as one write, in order, at the next turn at the latest
(pure: a transport that records its writes)."""

from __future__ import annotations

import asyncio

from shared.http_server import FLUSH_AT_BYTES, TurnWriter
from tests.unit.shared.test_coalesced_writes import RecordingTransport


def _writer() -> tuple[TurnWriter, RecordingTransport]:
    transport = RecordingTransport()
    return TurnWriter(transport, asyncio.get_running_loop()), transport


async def _next_turn() -> None:
    """Let the loop run the callbacks scheduled so far (the flush among them)."""
    turn = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(turn.set_result, None)
    await turn


async def test_an_answer_s_head_and_body_go_out_in_one_write_in_order() -> None:
    writer, transport = _writer()
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    writer.writelines([b"{}", b""])
    assert transport.writes == []  # held until the turn ends
    await _next_turn()
    assert transport.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
    writer.write(bytearray(b"next"))
    await _next_turn()
    await _next_turn()  # nothing held, nothing written
    assert transport.writes[1:] == [b"next"]


async def test_a_buffer_changed_after_its_write_goes_out_as_it_was_written() -> None:
    writer, transport = _writer()
    buffer = bytearray(b"chunk-1")
    writer.write(buffer)
    buffer[:] = b"changed"
    await _next_turn()
    assert transport.writes == [b"chunk-1"]


async def test_a_large_write_goes_out_at_once_after_what_was_held() -> None:
    writer, transport = _writer()
    writer.write(b"head")
    large = b"x" * FLUSH_AT_BYTES
    writer.write(large)
    assert transport.writes == [b"head" + large]
    await _next_turn()
    assert transport.writes == [b"head" + large]  # the scheduled flush found nothing left


async def test_closing_or_ending_hands_on_what_is_held_first_and_abort_drops_it() -> None:
    writer, transport = _writer()
    writer.write(b"answer")
    writer.write_eof()
    assert (transport.writes, transport.events) == ([b"answer"], ["eof"])

    writer, transport = _writer()
    writer.write(b"answer")
    writer.close()
    assert (transport.writes, transport.events) == ([b"answer"], ["close"])

    writer, transport = _writer()
    writer.write(b"answer")
    writer.abort()
    await _next_turn()
    assert (transport.writes, transport.events) == ([], ["abort"])


async def test_bytes_held_for_a_closing_connection_are_dropped_as_the_transport_would() -> None:
    writer, transport = _writer()
    writer.write(b"answer")
    transport.closing = True  # the client went away in the meantime
    await _next_turn()
    assert transport.writes == []
    assert writer.is_closing()  # the rest is the transport's own
