"""Log lines reach the stream whole and in order: a warning or an error at the end of its
event-loop turn with everything held before it, an informational line held a moment to go out
with others, in one write."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import orjson
import pytest
import structlog
from prometheus_client import REGISTRY

import shared.metrics  # noqa: F401  (registers the dropped lines' metric)
from shared import logging as tsdx_logging
from shared.logging import HOLD_BYTES, _LineWriter, _WriterHandler, configure_logging, flush_logs
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[3]


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


async def test_a_warning_goes_out_at_its_turn_s_end_with_the_lines_held_before_it() -> None:
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


async def test_informational_lines_of_several_turns_go_out_together_after_the_hold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tsdx_logging, "HOLD_SECONDS", 0.2)
    stream = CountingStream()
    writer = _LineWriter(stream)
    writer.info("request one")
    await asyncio.sleep(0)
    writer.info("request two")
    await asyncio.sleep(0)
    assert stream.getvalue() == ""  # held across turns
    written = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_later(0.3, written.set_result, None)
    await written
    assert (stream.getvalue(), stream.writes) == ("request one\nrequest two\n", 1)


async def test_lines_beyond_what_is_held_go_out_at_the_turn_s_end_not_inside_the_caller() -> None:
    stream = CountingStream()
    writer = _LineWriter(stream)
    writer.info("a")
    large = "x" * HOLD_BYTES
    writer.info(large)
    assert stream.getvalue() == ""  # the caller (a request's middleware) never writes
    await asyncio.sleep(0)
    assert (stream.getvalue(), stream.writes) == (f"a\n{large}\n", 1)


def test_outside_an_event_loop_lines_beyond_what_is_held_go_out_at_once() -> None:
    stream = CountingStream()
    writer = _LineWriter(stream)
    large = "x" * HOLD_BYTES
    writer.info(large)
    assert (stream.getvalue(), stream.writes) == (f"{large}\n", 1)


@pytest.fixture
def pipe_without_reader() -> Iterator[TextIO]:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader went away (`tsdx up`'s pump thread died)
    stream = os.fdopen(write_end, "w")
    yield stream
    with contextlib.suppress(OSError):  # what the failed write left in the buffer
        stream.close()


async def test_a_reader_gone_drops_the_lines_and_never_fails_the_logger_s_caller(
    pipe_without_reader: TextIO,
) -> None:
    writer = _LineWriter(pipe_without_reader)
    writer.info("x" * HOLD_BYTES)  # full: the write is the turn's, not the caller's
    writer.error("an error")
    await asyncio.sleep(0)
    assert writer.dropped_lines == 2
    writer.flush()  # nothing left: nothing more dropped
    assert writer.dropped_lines == 2


def test_outside_an_event_loop_a_reader_gone_never_fails_the_logger_s_caller(
    pipe_without_reader: TextIO,
) -> None:
    writer = _LineWriter(pipe_without_reader)
    writer.info("x" * HOLD_BYTES)
    writer.info("one more")
    assert writer.dropped_lines == 2


async def test_a_standard_library_warning_goes_out_after_the_lines_logged_before_it() -> None:
    stream = CountingStream()
    writer = _LineWriter(stream)
    library = logging.getLogger("tests.a_library")
    library.propagate = False
    library.setLevel(logging.INFO)
    handler = _WriterHandler(writer, as_json=False)  # as on a console
    library.addHandler(handler)
    try:
        writer.info("request line")
        library.warning("connection %s lost", "amqp")
        library.info("below the root's level, here written too: after the warning")
        await asyncio.sleep(0)
    finally:
        library.removeHandler(handler)
    assert stream.getvalue() == (
        "request line\n"
        "tests.a_library connection amqp lost\n"
        "tests.a_library below the root's level, here written too: after the warning\n"
    )
    assert stream.writes == 1


def test_a_standard_library_record_is_a_json_line_in_a_json_log() -> None:
    stream = CountingStream()
    library = logging.getLogger("tests.a_json_library")
    library.propagate = False
    handler = _WriterHandler(_LineWriter(stream), as_json=True, service="gateway")
    library.addHandler(handler)
    try:
        try:
            raise ValueError("broken")
        except ValueError:
            library.error("Exception in %s", "ASGI application", exc_info=True)
        # From a thread of its own (an exporter's), with arguments that do not fit.
        thread = threading.Thread(target=library.warning, args=("%d items", "many"))
        thread.start()
        thread.join()
    finally:
        library.removeHandler(handler)
    line, odd = (orjson.loads(text) for text in stream.getvalue().splitlines())
    assert (odd["event"], odd["service"]) == ("%d items ('many',)", "gateway")
    assert line["event"] == "Exception in ASGI application"
    assert (line["logger"], line["level"]) == ("tests.a_json_library", "error")
    assert line["timestamp"].endswith("Z")
    assert line["exception"].startswith("Traceback") and "ValueError: broken" in line["exception"]
    assert line["service"] == "gateway"
    assert stream.getvalue().count("\n") == 2  # a traceback inside its one line


def test_the_lines_dropped_are_a_metric_and_outlast_a_new_writer(
    monkeypatch: pytest.MonkeyPatch, pipe_without_reader: TextIO
) -> None:
    saved = structlog.get_config()
    monkeypatch.setattr(tsdx_logging, "_writer", _LineWriter(pipe_without_reader))
    assert tsdx_logging._writer is not None
    tsdx_logging._writer.info("x" * HOLD_BYTES)  # no event loop here: written, and dropped
    assert _dropped_metric() == 1
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    try:
        configure_logging("unit", "INFO", "json")  # as a service does at start
        assert _dropped_metric() == 1
    finally:
        structlog.configure(**saved)
        root = logging.getLogger()
        for handler in [h for h in root.handlers if isinstance(h, _WriterHandler)]:
            root.removeHandler(handler)


def _dropped_metric() -> float | None:
    return REGISTRY.get_sample_value("tsdx_log_lines_dropped_total")


def test_flush_logs_writes_what_the_configured_writer_holds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = CountingStream()
    monkeypatch.setattr(tsdx_logging, "_writer", _LineWriter(stream))

    async def log_and_stop() -> None:
        assert tsdx_logging._writer is not None
        tsdx_logging._writer.info("the last request")

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(log_and_stop())  # stops within the hold: the line stays held
    finally:
        loop.close()
    assert stream.getvalue() == ""
    flush_logs()  # as service.main does before a traceback reaches stderr
    assert stream.getvalue() == "the last request\n"


def test_a_hold_on_a_loop_that_stopped_does_not_hold_the_next_loop_s_lines() -> None:
    stream = CountingStream()
    writer = _LineWriter(stream)

    async def log(line: str) -> None:
        writer.info(line)

    async def log_and_wait(line: str) -> None:
        writer.info(line)

        async def written() -> str:
            return stream.getvalue()

        await eventually(written, until=lambda text: line in text, timeout=5, what="written")

    first = asyncio.new_event_loop()
    try:
        first.run_until_complete(log("before a restart"))  # the loop stops within the hold
    finally:
        first.close()
    second = asyncio.new_event_loop()
    try:
        second.run_until_complete(log_and_wait("after it"))
    finally:
        second.close()
    assert stream.getvalue() == "before a restart\nafter it\n"


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


_CRASHING_SERVICE = """
import types
from shared import service

async def crash(spec, settings):
    service.log.info("request.handled")  # held: the loop ends within the hold
    raise RuntimeError("the service's bug")

service.serve = crash
service.main(types.SimpleNamespace(name="crashy"))
"""


def test_a_crashing_service_writes_its_held_lines_before_its_traceback() -> None:
    # stdout and stderr on one pipe, as `tsdx up` reads a service: its log tail must end with
    # the traceback that tells why the service died.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TSDX_LOG_FORMAT": "json"}
    done = subprocess.run(
        [sys.executable, "-c", _CRASHING_SERVICE],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        timeout=60,
        check=False,
    )
    output = done.stdout.decode()
    assert done.returncode == 1, output
    assert output.index('"request.handled"') < output.index("Traceback"), output
    assert output.rstrip().endswith("RuntimeError: the service's bug"), output
