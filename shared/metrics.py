"""Prometheus metrics, defined once here and shared by every service.

Each service labels what it records with its own name; ``/metrics`` of a service shows its
own process. Names follow Prometheus conventions (base units, ``_total`` on counters).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from shared.logging import dropped_log_lines

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
PROGRESS_REFUSED = Counter(
    "tsdx_progress_copies_refused_total",
    "Copies in a message of several copies' progress that routing refused while applying the "
    "others, by reason",
    ["reason"],
)
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


class _Reader(Protocol):
    @property
    def alive(self) -> bool: ...


def counted_while_alive(service: str, queue: str, reader: _Reader) -> None:
    """``tsdx_consumers`` of the queue reads 1 while the reader consumes and 0 once it stopped
    or its connection is down: read when scraped, so an outage shows at once."""
    CONSUMERS.labels(service, queue).set_function(lambda: 1.0 if reader.alive else 0.0)


DEVICES_ONLINE = Gauge("tsdx_devices_online", "Devices that contacted the gateway recently")
RPC_CALLS = Counter(
    "tsdx_rpc_calls_total", "RPC calls by method and outcome", ["method", "outcome"]
)
LONG_POLLS_WAITING = Gauge(
    "tsdx_long_polls_waiting", "Terminal inbox requests waiting for news right now"
)
INBOX_POLLS = Counter(
    "tsdx_inbox_polls_total",
    "Terminal inbox polls by outcome: news (something to show), empty (nothing new), refused",
    ["outcome"],
)
INBOX_NEWS = Counter(
    "tsdx_inbox_news_total",
    "Changed inboxes a gateway instance learnt of, by how: stored here, announced by another "
    "instance, or found by the safety check (an announcement missed)",
    ["source"],
)
INBOX_GREETINGS = Counter(
    "tsdx_inbox_greetings_total",
    "Greetings this gateway instance sent on the inbox broadcast (at start, after a reconnect, "
    "then on its timer: one message each, whatever the load)",
)
ACCESS_NEWS = Counter(
    "tsdx_access_news_total",
    "Changes of a device's or a base's access heard by this gateway instance",
    ["kind"],
)
RATE_LIMITED = Counter(
    "tsdx_rate_limited_total", "Requests refused for exceeding the rate of their credential"
)
WEBHOOK_ATTEMPTS = Counter(
    "tsdx_webhook_attempts_total", "Webhook delivery attempts by outcome", ["outcome"]
)
DASHBOARD_EVENTS = Counter(
    "tsdx_dashboard_events_total", "Events received by the dashboard's live feed", ["type"]
)
PARKED_REPLAYED = Counter(
    "tsdx_parked_replayed_total", "Parked messages sent back to their work queue", ["queue"]
)
PARKED_DISCARDED = Counter(
    "tsdx_parked_discarded_total", "Parked messages an operator deleted for good", ["queue"]
)
PIN_MISSES = Counter(
    "tsdx_pin_misses_total",
    "Upload targets by PIN that matched no active device of the tenant (counted by routing)",
)
LAN_LOGINS = Counter("tsdx_lan_logins_total", "LAN terminal log-ins by outcome", ["outcome"])
LAN_LOCKS = Counter(
    "tsdx_lan_lock_events_total",
    "LAN document locks: taken, joined, contended, released, force_released, race_lost",
    ["event"],
)
DOCUMENTS_COMPLETED = Counter(
    "tsdx_documents_completed_total",
    "Documents whose every copy finished, by business process and mode (online, offline)",
    ["process", "mode"],
)
FOLLOW_UPS_STARTED = Counter(
    "tsdx_follow_ups_started_total",
    "Next business processes started on completion, by the process started",
    ["process"],
)
ADMIN_ACTIONS = Counter(
    "tsdx_admin_actions_total",
    "Operators' changes through the admin endpoints, by action and outcome (ok, refused, failed)",
    ["action", "outcome"],
)


class _LogLinesDropped(Collector):
    """The writer's own count (shared/logging.py), read when scraped: a line that could not be
    written cannot say so in the log."""

    def collect(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily(
            "tsdx_log_lines_dropped",
            "Log lines the process could not write (its log's reader gone), since it started",
            value=dropped_log_lines(),
        )


REGISTRY.register(_LogLinesDropped())
