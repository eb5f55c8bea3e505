"""Service logs under ``tsdx up``: what a service writes (stdout and stderr) is read from a pipe
and written to ``DIR/<service>.log``, rotated by size with a bounded number of older files
(``<service>.log.1`` the newest of them), so years of running never fill the disk.

The supervisor owns the files, as supervisord does, rather than each service: a traceback
printed before a service's logging is set up lands in the same file, and a service in a
container keeps writing to stdout with nothing to configure.

The pump copies what the pipe holds at once, in whole lines: one read and one write for all
the lines a service wrote since the last read, not a log record, two file-size checks and a
write for each line (under load that was a thread's wake-up and a dozen system calls per
request, in the process that also supervises the services).
"""

from __future__ import annotations

import os
import sys
import threading
from contextlib import suppress
from pathlib import Path
from typing import IO, BinaryIO

from shared.i18n import render
from tools.cli.output import language_default

# A longer line is written in pieces of this size, so one runaway line cannot exhaust memory.
_MAX_LINE_BYTES = 1024 * 1024
_READ_BYTES = 64 * 1024


class ServiceLog:
    """One service's log file, rotated before a line would take it past ``max_bytes``; a
    line longer than that goes alone into a file of its own. With no older files kept
    (``backups`` 0) the file is emptied instead."""

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._max_bytes = max_bytes
        self._backups = backups
        self._file: BinaryIO | None = None
        self._size = 0
        self._lock = threading.Lock()  # one file, kept across a service's restarts (two pumps)
        self._failing = False

    def write_lines(self, lines: list[bytes]) -> None:
        """Whole lines (each ending in a newline), written and flushed together. A file that
        cannot be written (a full disk, a directory gone) loses these lines, says so once on
        ``tsdx up``'s own stderr and is opened again for the next ones: the pump never stops
        reading, or the service would stop on a broken pipe."""
        with self._lock:
            try:
                for line in lines:
                    file = self._open()
                    if self._size and self._size + len(line) > self._max_bytes:
                        file = self._rotate()
                    file.write(line)
                    self._size += len(line)
                if self._file is not None:
                    self._file.flush()
            except OSError as exc:
                self._drop()
                if not self._failing:
                    said = {"path": str(self.path), "reason": str(exc)}
                    print(render("cli_log_not_written", language_default(), said), file=sys.stderr)
                self._failing = True
            else:
                self._failing = False

    def _open(self) -> BinaryIO:
        if self._file is None:
            # A buffer larger than one read's lines: they reach the file in one write.
            self._file = open(self.path, "ab", buffering=4 * _READ_BYTES)  # noqa: SIM115
            self._size = self._file.tell()
        return self._file

    def _rotate(self) -> BinaryIO:
        self._drop()
        if self._backups > 0:
            for n in range(self._backups - 1, 0, -1):
                older = self.path.with_name(f"{self.path.name}.{n}")
                if older.exists():
                    os.replace(older, self.path.with_name(f"{self.path.name}.{n + 1}"))
            if self.path.exists():  # someone may have moved or deleted it meanwhile
                os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        else:
            self.path.write_bytes(b"")
        return self._open()

    def _drop(self) -> None:
        if self._file is not None:
            with suppress(OSError):  # what it still held is lost with the file
                self._file.close()
            self._file = None

    def close(self) -> None:
        with self._lock:
            self._drop()


def whole_lines(pending: bytes) -> tuple[list[bytes], bytes]:
    """The whole lines in what was read (each ending in one newline, a carriage return before
    it dropped, bytes that are not UTF-8 replaced) and what is left of a line not yet ended;
    a piece of ``_MAX_LINE_BYTES`` of a longer line counts as a line."""
    *ended, rest = pending.split(b"\n")
    while len(rest) >= _MAX_LINE_BYTES:
        ended.append(rest[:_MAX_LINE_BYTES])
        rest = rest[_MAX_LINE_BYTES:]
    lines = [
        line.rstrip(b"\r").decode("utf-8", errors="replace").encode() + b"\n" for line in ended
    ]
    return lines, rest


def pump(output: IO[bytes], log: ServiceLog) -> threading.Thread:
    """Copy a child's output into its log, in whole lines, until the child closes it."""

    def run() -> None:
        with output:
            rest = b""
            while chunk := os.read(output.fileno(), _READ_BYTES):
                lines, rest = whole_lines(rest + chunk)
                if lines:
                    log.write_lines(lines)
            if rest:
                log.write_lines(whole_lines(rest + b"\n")[0])

    thread = threading.Thread(target=run, name=f"log-{log.path.stem}", daemon=True)
    thread.start()
    return thread
