"""The trace context in message headers: nothing while tracing is off (the default); a stored
context is passed on as it was, and only its W3C fields."""

from __future__ import annotations

from shared import telemetry
from shared.messaging import tracing
from shared.settings import Settings


def test_tracing_is_off_by_default_and_adds_nothing() -> None:
    assert Settings().otlp_endpoint == ""
    telemetry.setup("gateway", Settings())
    assert not telemetry.enabled()
    assert tracing.current_context() == {}
    assert tracing.headers_for(None) == {}
    with tracing.consuming("upload.requested", {"traceparent": "00-bad"}):
        pass  # a no-op, whatever the headers hold


def test_a_stored_context_is_published_as_stored_and_nothing_else() -> None:
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    stored = {"traceparent": parent, "tracestate": "k=v", "x-tenant": "other"}
    assert tracing.headers_for(stored) == {"traceparent": parent, "tracestate": "k=v"}
