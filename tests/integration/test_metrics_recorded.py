"""Each service records the metrics that describe its own work, with the labels Grafana uses."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from shared.cli.stack import Stack
from shared.client import AccountingClient
from tests.integration.test_metrics_promtool import make_traffic, scrape

Samples = dict[str, list[tuple[dict[str, str], float]]]


def samples(text: str) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return found


def value(found: Samples, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include ``labels`` (0 when none)."""
    return sum(v for have, v in found.get(name, []) if labels.items() <= have.items())


async def test_services_record_their_work(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    await make_traffic(stack, tenant, accounting)
    scraped = {name: samples(text) for name, text in (await scrape(stack)).items()}

    routing = scraped["routing"]
    assert value(routing, "tsdx_uploads_total", outcome="accepted") >= 1
    assert (
        value(routing, "tsdx_uploads_total", outcome="refused", code="device_not_found_by_pin") >= 1
    )
    assert (
        value(
            routing,
            "tsdx_documents_routed_total",
            channel="internet",
            target_kind="device",
            process="purchase-receipt",
        )
        >= 1
    )
    assert value(routing, "tsdx_results_total", outcome="final") >= 1
    assert (
        value(routing, "tsdx_messages_handled_total", service="routing", type="upload.requested")
        >= 1
    )

    gateway = scraped["gateway"]
    assert value(gateway, "tsdx_delivery_latency_seconds_count", channel="internet") >= 1
    assert value(gateway, "tsdx_http_requests_total", service="gateway", method="POST") >= 1
    assert value(gateway, "tsdx_http_request_duration_seconds_count", service="gateway") >= 1
    assert (
        value(gateway, "tsdx_messages_handled_total", service="gateway", type="document.routed")
        >= 1
    )

    registry = scraped["registry"]
    assert value(registry, "tsdx_rpc_calls_total", method="device.resolve_pin", outcome="ok") >= 1

    dashboard = scraped["dashboard"]
    assert value(dashboard, "tsdx_dashboard_events_total", type="upload.decided") >= 1
    assert value(dashboard, "tsdx_consumers", service="dashboard") == 1

    # Every service with a work queue shows its consumer running.
    for name in ("registry", "routing", "gateway", "lan_writer"):
        if name in scraped:
            assert value(scraped[name], "tsdx_consumers", service=name) >= 1, name
