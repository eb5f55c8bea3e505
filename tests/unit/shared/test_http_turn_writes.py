"""The HTTP server's transport: an answer's head is held until its body is written and both go
to the socket's transport as one write, in order; a write with nothing after it in its loop
turn goes at the start of the next (pure: a transport that records its writes)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from shared.http_server import HOLD_BELOW_BYTES, HttpProtocol, TurnWriter
from tests.unit.shared.test_coalesced_writes import RecordingTransport


def _writer() -> tuple[TurnWriter, RecordingTransport]:
    transport = RecordingTransport()
    return TurnWriter(transport, asyncio.get_running_loop()), transport


async def _next_turn() -> None:
    """Let the loop run the callbacks scheduled so far (the flush among them)."""
    turn = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(turn.set_result, None)
    await turn


async def test_an_answer_s_head_goes_out_with_its_body_in_one_write_at_once() -> None:
    writer, transport = _writer()
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    assert transport.writes == []  # held for the body
    writer.write(b"{}")
    assert transport.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
    await _next_turn()  # nothing held, nothing written
    assert len(transport.writes) == 1


async def test_a_write_with_nothing_after_it_goes_at_the_next_turn() -> None:
    writer, transport = _writer()
    writer.writelines([b"", b"0\r\n\r\n"])
    assert transport.writes == []
    await _next_turn()
    assert transport.writes == [b"0\r\n\r\n"]


async def test_a_buffer_changed_after_its_write_goes_out_as_it_was_written() -> None:
    writer, transport = _writer()
    buffer = bytearray(b"chunk-1")
    writer.write(buffer)
    buffer[:] = b"changed"
    await _next_turn()
    assert transport.writes == [b"chunk-1"]


async def test_a_large_first_write_goes_out_at_once() -> None:
    writer, transport = _writer()
    large = b"x" * HOLD_BELOW_BYTES
    writer.write(large)
    assert transport.writes == [large]
    writer.write(b"head")
    writer.write(large)  # after a held write: both at once
    assert transport.writes == [large, b"head" + large]


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


def _protocol() -> HttpProtocol:
    config = uvicorn.Config(_no_app, http=HttpProtocol, log_config=None, lifespan="off")
    return HttpProtocol(config, ServerState(), {}, asyncio.get_running_loop())


async def _no_app(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("no request is made")


async def test_uvicorn_writes_its_answers_through_the_turn_writer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(HttpProtocol, "_seam_checked", False)
    protocol = _protocol()
    protocol.connection_made(RecordingTransport())  # type: ignore[arg-type]
    assert isinstance(protocol.transport, TurnWriter)
    assert HttpProtocol._seam_checked


async def test_a_uvicorn_that_keeps_its_transport_elsewhere_fails_loudly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def keeps_it_elsewhere(self: HttpToolsProtocol, transport: asyncio.Transport) -> None:
        self._transport = transport  # type: ignore[attr-defined]

    monkeypatch.setattr(HttpProtocol, "_seam_checked", False)
    monkeypatch.setattr(HttpToolsProtocol, "connection_made", keeps_it_elsewhere)
    transport = RecordingTransport()
    with pytest.raises(RuntimeError, match=r"self\.transport"):
        _protocol().connection_made(transport)  # type: ignore[arg-type]
    assert transport.events == ["abort"]  # the connection is not served around the writer
    assert not HttpProtocol._seam_checked
