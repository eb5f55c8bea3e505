"""structlog set-up: JSON lines in production, a readable console on a TTY.

The correlation id lives in a context variable, so every log line of a request or of a
message handler carries it without being passed around.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import sys
import threading
from collections.abc import MutableMapping
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TextIO

import orjson
import structlog

_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)

_SECRET_KEYS = frozenset({"api_key", "credential", "password", "token", "authorization", "secret"})


def new_correlation_id() -> str:
    # 32 random hex digits, as a uuid4's hex, without building a UUID (every request makes one).
    return os.urandom(16).hex()


def current_correlation_id() -> str:
    """The id of the request or message being handled, or a new one outside of any."""
    return _correlation_id.get() or new_correlation_id()


class correlation:
    """``with correlation(cid) as cid:`` the request's or message's id (a new one for None), on
    every log line logged inside (:func:`_merge_context` adds it). A class rather than a
    generator: every request enters one."""

    __slots__ = ("_cid", "_token")

    def __init__(self, correlation_id: str | None) -> None:
        self._cid = correlation_id or new_correlation_id()
        self._token: Token[str | None] | None = None

    def __enter__(self) -> str:
        self._token = _correlation_id.set(self._cid)
        return self._cid

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._token is not None:
            _correlation_id.reset(self._token)


# structlog's own context variables, by name ("structlog_<key>"): bound by
# ``structlog.contextvars.bind_contextvars`` and friends. Read directly, they cost a line a
# lookup each, where structlog's ``merge_contextvars`` walks every variable of the context
# (asyncio's, anyio's, OpenTelemetry's…) on every line.
_STRUCTLOG_VARS: dict[str, ContextVar[Any]] | None = getattr(
    structlog.contextvars, "_CONTEXT_VARS", None
)
_PREFIX = len(structlog.contextvars.STRUCTLOG_KEY_PREFIX)


def _merge_context(
    logger: Any, method_name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """What ``merge_contextvars`` adds (the keys bound in the context, where the line does not
    give them), then the correlation id."""
    if _STRUCTLOG_VARS is None:  # a structlog without the registry: its own, slower way
        event = structlog.contextvars.merge_contextvars(logger, method_name, event)
    else:
        for name, var in tuple(_STRUCTLOG_VARS.items()):
            value = var.get()
            if value is not Ellipsis:
                event.setdefault(name[_PREFIX:], value)
    cid = _correlation_id.get()
    if cid is not None:
        event.setdefault("correlation_id", cid)
    return event


def _redact_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    # Secrets never reach a log line, whatever a caller passes.
    if not _SECRET_KEYS.isdisjoint(event):
        for key in event.keys() & _SECRET_KEYS:
            event[key] = "***"
    return event


# add_log_level's names: ``warn`` is the stdlib's alias, ``exception`` logs an error.
_LEVELS = {"warn": "warning", "exception": "error"}


def _finish(logger: Any, method_name: str, event: MutableMapping[str, Any]) -> Any:
    """structlog's ``add_log_level``, ``TimeStamper(fmt="iso", utc=True)`` and
    ``format_exc_info``, with the secrets redacted between the last two, in one step: every
    line passes here (a request's canonical line among them)."""
    event["level"] = _LEVELS.get(method_name, method_name)
    event["timestamp"] = _iso(datetime.now(UTC))
    _redact_secrets(logger, method_name, event)
    if "exc_info" in event:  # format_exc_info does nothing to a line without one
        return structlog.processors.format_exc_info(logger, method_name, event)
    return event


def _json_line(event: Any, **_: Any) -> str:
    # orjson: the same JSON line in a fraction of the time; anything it cannot encode is
    # written as its text.
    return orjson.dumps(event, default=str).decode()


# An informational line waits up to HOLD_SECONDS for others to go out with it: a write is a
# system call and a wake-up of the reader (a log pipe), about 0.03-0.1 ms of CPU, and under
# load the gateway's lines (three per uploaded document) came in turns of their own, one write
# each (9% of its CPU). More than HOLD_BYTES held goes at once, far below what a pipe holds
# (64 KiB), so a write never waits on the reader longer than a turn's lines did.
HOLD_SECONDS = 0.05
HOLD_BYTES = 8 * 1024


class _LineWriter:
    """structlog's logger. In a running event loop a warning or an error goes out at the end of
    its loop turn, with every line held before it, in one write; an informational line is held
    up to :data:`HOLD_SECONDS` (or until :data:`HOLD_BYTES` are held: then at the turn's end
    too) to go out with others. Outside an event loop each line is written at once; at exit
    what is held is written. A write the stream refuses (its reader gone: ``BrokenPipeError``)
    drops the lines and counts them in :attr:`dropped_lines`: logging never fails its caller."""

    def __init__(self, file: TextIO) -> None:
        self._file = file
        self._pending: list[str] = []
        self._pending_bytes = 0
        self._lock = threading.Lock()  # structlog may be called from a worker thread too
        # Held from taking the lines to their write: two threads' writes never swap. Apart
        # from _lock, so that adding a line never waits on a write.
        self._write_lock = threading.Lock()
        self.dropped_lines = 0
        # The loops a flush is scheduled on (at the turn's end, after the hold), if any: a
        # flush scheduled on a loop that stopped since never runs, and must not stop the next.
        self._soon_on: asyncio.AbstractEventLoop | None = None
        self._later_on: asyncio.AbstractEventLoop | None = None
        atexit.register(self.flush)

    def msg(self, message: str) -> None:
        self._add(message, urgent=False)

    def urgent(self, message: str) -> None:
        self._add(message, urgent=True)

    def _add(self, message: str, *, urgent: bool) -> None:
        with self._lock:
            self._pending.append(message)
            self._pending_bytes += len(message) + 1
            full = self._pending_bytes >= HOLD_BYTES
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop running in this thread
            loop = None
        if loop is None:
            self.flush()
        elif urgent or full:
            # Never written inside the caller (a request's middleware, a message's handler).
            if self._soon_on is not loop:
                self._soon_on = loop
                loop.call_soon(self._flush_soon)
        elif self._later_on is not loop and self._soon_on is not loop:
            self._later_on = loop
            loop.call_later(HOLD_SECONDS, self._flush_later)

    def _flush_soon(self) -> None:
        self._soon_on = None
        self.flush()

    def _flush_later(self) -> None:
        self._later_on = None
        self.flush()

    def flush(self) -> None:
        """Write what is held, in one write; never raises."""
        with self._write_lock:
            with self._lock:
                lines, self._pending, self._pending_bytes = self._pending, [], 0
            if not lines:
                return
            try:
                self._file.write("\n".join(lines) + "\n")
                self._file.flush()
            except (OSError, ValueError):  # the reader went away; ValueError: the file closed
                self.dropped_lines += len(lines)

    log = debug = info = msg
    warn = warning = error = critical = exception = fatal = urgent


class _JsonRecord(logging.Formatter):
    """A standard-library record as one JSON line with the keys of tsdx's own lines (event,
    level, timestamp, service, correlation id), its logger, and its traceback as one string:
    every line of a JSON log reads as JSON, a library's too, whatever thread logged it."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {"event": _message_of(record), "logger": record.name}
        _merge_context(None, "", event)
        event.setdefault("service", self._service)  # a thread of its own has no context
        event["level"] = record.levelname.lower()
        event["timestamp"] = _iso(datetime.fromtimestamp(record.created, UTC))
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            event["stack"] = self.formatStack(record.stack_info)
        return _json_line(event)


def _message_of(record: logging.LogRecord) -> str:
    """The record's message; one whose arguments do not fit it, as it was given."""
    try:
        return record.getMessage()
    except Exception:
        return f"{record.msg} {record.args!r}"


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class _WriterHandler(logging.Handler):
    """Standard-library records (aio-pika's, uvicorn's, OpenTelemetry's) through the same writer
    as structlog's lines, so that they keep their order: a warning goes out with every line
    logged before it. In a JSON log each is a JSON line; on a console, ``<logger> <message>``."""

    def __init__(self, writer: _LineWriter, *, as_json: bool, service: str = "") -> None:
        super().__init__()
        self.writer = writer
        plain = logging.Formatter("%(name)s %(message)s")
        self.setFormatter(_JsonRecord(service) if as_json else plain)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # logging's own contract: reported, never raised
            self.handleError(record)
            return
        if record.levelno >= logging.WARNING:
            self.writer.urgent(line)
        else:
            self.writer.msg(line)


_writer: _LineWriter | None = None


def dropped_log_lines() -> int:
    """The log lines this process could not write since it started (its log's reader gone)."""
    return 0 if _writer is None else _writer.dropped_lines


def flush_logs() -> None:
    """Write the lines still held now: before a traceback or a message goes to stderr, so that
    the log reads in the order things happened."""
    if _writer is not None:
        _writer.flush()


def configure_logging(service: str, level: str = "INFO", fmt: str = "auto") -> None:
    global _writer
    renderer: Any
    use_console = fmt == "console" or (fmt == "auto" and sys.stderr.isatty())
    if use_console:
        renderer = structlog.dev.ConsoleRenderer()
    else:
        renderer = structlog.processors.JSONRenderer(serializer=_json_line)
    flush_logs()  # a writer replaced goes out first
    dropped = dropped_log_lines()
    _writer = _LineWriter(sys.stderr if use_console else sys.stdout)
    writer = _writer
    writer.dropped_lines = dropped  # counted since the process started, whatever the writer
    structlog.configure(
        processors=[
            _merge_context,
            _finish,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=lambda *_args: writer,
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)
    # Libraries that use stdlib logging (aio-pika, uvicorn) go through the same writer.
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _WriterHandler)]:
        root.removeHandler(handler)
    handler = _WriterHandler(writer, as_json=not use_console, service=service)
    logging.basicConfig(level=logging.WARNING, handlers=[handler])


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
