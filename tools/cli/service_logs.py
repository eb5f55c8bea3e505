"""Service logs under ``tsdx up``: what a service writes (stdout and stderr) is read from a pipe
and written to ``DIR/<service>.log``, rotated by size with a bounded number of older files
(``<service>.log.1`` the newest of them), so years of running never fill the disk.

The supervisor owns the files, as supervisord does, rather than each service: a traceback
printed before a service's logging is set up lands in the same file, and a service in a
container keeps writing to stdout with nothing to configure.
"""

from __future__ import annotations

import logging
import os
import threading
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import IO

# A longer line is written in pieces of this size, so one runaway line cannot exhaust memory.
_MAX_LINE_BYTES = 1024 * 1024


class _SizeRotatingFile(RotatingFileHandler):
    def shouldRollover(self, record: logging.LogRecord) -> bool:
        # A line longer than the limit goes alone into the current file; rotating away an
        # empty file first would only cost one of the kept files.
        if not os.path.exists(self.baseFilename) or os.path.getsize(self.baseFilename) == 0:
            return False
        return bool(super().shouldRollover(record))


class ServiceLog:
    """One service's log file, rotated before a line would take it past ``max_bytes``."""

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = _SizeRotatingFile(
            path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True
        )
        self._file.setFormatter(logging.Formatter("%(message)s"))

    def write(self, line: str) -> None:
        record = logging.LogRecord(self.path.stem, logging.INFO, "", 0, line, None, None)
        self._file.handle(record)

    def close(self) -> None:
        self._file.close()


def pump(output: IO[bytes], log: ServiceLog) -> threading.Thread:
    """Copy a child's output into its log, line by line, until the child closes it."""

    def run() -> None:
        with output:
            for raw in iter(lambda: output.readline(_MAX_LINE_BYTES), b""):
                log.write(raw.decode("utf-8", errors="replace").rstrip("\r\n"))

    thread = threading.Thread(target=run, name=f"log-{log.path.stem}", daemon=True)
    thread.start()
    return thread
