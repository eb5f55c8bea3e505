"""Optional OpenTelemetry traces, off by default.

``TSDX_OTLP_ENDPOINT`` (e.g. ``http://jaeger:4318``) turns them on: each service exports its
spans over OTLP/HTTP to ``<endpoint>/v1/traces`` as ``tsdx-<service>``. HTTP requests are traced
by the maintained FastAPI instrumentation; messages carry the W3C trace context in their
headers (``shared.messaging.tracing``), so one upload is one trace from the accounting call
through routing to the terminal's download.

OpenTelemetry is an optional extra (``pip install 'tsdx[otel]'``): without the setting nothing
of it is imported; with the setting but without the extra the service says so in its log and
runs untraced rather than not at all.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from shared.logging import get_logger
from shared.settings import Settings

log = get_logger("tsdx.telemetry")

# Paths probed every few seconds: spans of them would bury the useful ones.
_NOT_TRACED = "healthz,readyz,metrics"

_provider: Any = None


def enabled() -> bool:
    return _provider is not None


def setup(service: str, settings: Settings) -> None:
    """Start exporting this process's spans, when an OTLP endpoint is set."""
    global _provider
    if not settings.otlp_endpoint or _provider is not None:
        return
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.error(
            "tracing.unavailable",
            reason="TSDX_OTLP_ENDPOINT is set but OpenTelemetry is not installed "
            "(pip install 'tsdx[otel]'); running without traces",
        )
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"tsdx-{service}"}))
    endpoint = f"{settings.otlp_endpoint.rstrip('/')}/v1/traces"
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    _provider = provider
    log.info("tracing.enabled", endpoint=endpoint)


def instrument(app: FastAPI) -> None:
    """Trace the app's HTTP requests (a no-op while tracing is off)."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, tracer_provider=_provider, excluded_urls=_NOT_TRACED)


def shutdown() -> None:
    """Export what is still buffered before the process ends."""
    global _provider
    if _provider is not None:
        _provider.shutdown()
        _provider = None
