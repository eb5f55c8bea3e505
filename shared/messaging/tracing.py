"""The W3C trace context in message headers: the one place it is injected and extracted.

- Publishing puts the current context into the message's headers (``traceparent``,
  ``tracestate``). An event emitted in a transaction is published later by the outbox relay,
  outside the handler that caused it, so :func:`current_context` is stored with the outbox row
  and given back at publish time.
- Consuming runs the handler inside a consumer span whose parent is the context the message
  carries (:func:`consuming`).
- A terminal's call carries no context of its own: the gateway keeps the context of the routed
  document with its inbox row and traces the download as its continuation (:func:`continuing`).

All of it is a no-op while tracing is off (``shared.telemetry``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from shared import telemetry

_FIELDS = ("traceparent", "tracestate")


def current_context() -> dict[str, str]:
    """The current trace context as headers (empty while tracing is off or no span is open)."""
    if not telemetry.enabled():
        return {}
    from opentelemetry.propagate import inject

    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier


def headers_for(stored: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Headers to publish with: the context stored with the message, or the current one."""
    if stored:
        return {k: str(v) for k, v in stored.items() if k in _FIELDS}
    return current_context()


@contextmanager
def consuming(message_type: str, headers: Mapping[str, Any] | None) -> Iterator[None]:
    """A consumer span for handling one message, continuing the trace its headers carry."""
    with _span(f"{message_type} process", headers, kind="CONSUMER"):
        yield


@contextmanager
def continuing(name: str, stored: Mapping[str, Any] | None) -> Iterator[None]:
    """A span continuing a trace whose context was stored earlier (none: nothing traced)."""
    if not stored:
        yield
        return
    with _span(name, stored, kind="SERVER"):
        yield


@contextmanager
def _span(name: str, carrier: Mapping[str, Any] | None, *, kind: str) -> Iterator[None]:
    if not telemetry.enabled():
        yield
        return
    from opentelemetry import trace
    from opentelemetry.propagate import extract

    parent = extract({k: str(v) for k, v in (carrier or {}).items() if k in _FIELDS})
    tracer = trace.get_tracer("tsdx")
    with tracer.start_as_current_span(name, context=parent, kind=getattr(trace.SpanKind, kind)):
        yield
