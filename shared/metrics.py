"""Prometheus metrics, defined once here and shared by every service.

Each service labels what it records with its own name; ``/metrics`` of a service shows its
own process. Names follow Prometheus conventions (base units, ``_total`` on counters).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_HANDLED = Counter(
    "tsdx_messages_handled_total", "AMQP messages applied by a consumer", ["service", "type"]
)
MESSAGES_RETRIED = Counter(
    "tsdx_messages_retried_total", "AMQP messages sent for a delayed retry", ["service", "queue"]
)
MESSAGES_PARKED = Counter(
    "tsdx_messages_parked_total", "AMQP messages moved to a parking queue", ["service", "queue"]
)
UPLOADS = Counter(
    "tsdx_uploads_total",
    "Upload requests decided, by outcome and refusal code",
    ["outcome", "code"],
)
DOCUMENTS_ROUTED = Counter(
    "tsdx_documents_routed_total",
    "Document copies routed",
    ["channel", "target_kind", "process"],
)
DELIVERY_LATENCY = Histogram(
    "tsdx_delivery_latency_seconds",
    "From upload accepted by the gateway to the copy stored in an inbox or the LAN base",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
RESULTS = Counter("tsdx_results_total", "Terminal results by outcome", ["outcome"])
HTTP_REQUESTS = Counter(
    "tsdx_http_requests_total",
    "HTTP requests by route and status",
    ["service", "route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "tsdx_http_request_duration_seconds",
    "HTTP request duration",
    ["service", "route"],
)
CONSUMERS = Gauge("tsdx_consumers", "Consumers running in this process", ["service", "queue"])
DEVICES_ONLINE = Gauge("tsdx_devices_online", "Devices that contacted the gateway recently")
RPC_CALLS = Counter(
    "tsdx_rpc_calls_total", "RPC calls by method and outcome", ["method", "outcome"]
)
