"""Log lines reach the stream whole and in order, one write per turn of the event loop."""

from __future__ import annotations

import asyncio
import io

from shared.logging import _LineWriter


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def test_outside_an_event_loop_each_line_is_written_at_once() -> None:
    stream = CountingStream()
    writer = _LineWriter(stream)
    writer.msg("one")
    assert stream.getvalue() == "one\n"
    writer.info("two")
    assert stream.getvalue() == "one\ntwo\n"
    assert stream.writes == 2


async def test_the_lines_of_one_loop_turn_go_out_together_once_the_turn_ends() -> None:
    stream = CountingStream()
    writer = _LineWriter(stream)
    writer.msg("first")
    writer.warning("second")
    assert stream.getvalue() == ""  # not before the turn ends
    await asyncio.sleep(0)
    assert stream.getvalue() == "first\nsecond\n"
    assert stream.writes == 1
    writer.error("third")
    await asyncio.sleep(0)
    assert stream.getvalue() == "first\nsecond\nthird\n"


async def test_a_line_logged_from_a_worker_thread_is_written_too() -> None:
    stream = CountingStream()
    writer = _LineWriter(stream)
    await asyncio.to_thread(writer.msg, "from a thread")
    assert stream.getvalue() == "from a thread\n"


def test_lines_still_pending_are_written_by_flush() -> None:
    stream = CountingStream()
    writer = _LineWriter(stream)

    async def log_and_stop() -> None:
        writer.msg("last words")

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(log_and_stop())
    finally:
        loop.close()
    writer.flush()  # as at exit
    assert stream.getvalue() == "last words\n"
