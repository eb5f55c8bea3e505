"""Each service records the metrics that describe its own work, with the labels Grafana uses."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.integration.test_metrics_promtool import make_traffic, scrape
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient

Samples = dict[str, list[tuple[dict[str, str], float]]]


def samples(text: str) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return found


def value(found: Samples, name: str, /, **labels: str) -> float:
    """The sum of a metric's samples whose labels include ``labels`` (0 when none)."""
    return sum(v for have, v in found.get(name, []) if labels.items() <= have.items())


async def _scraped(stack: Stack) -> dict[str, Samples]:
    return {name: samples(text) for name, text in (await scrape(stack)).items()}


async def test_services_record_their_work(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    """Counters are shared with every test that ran before on this stack: what is checked is
    how much each grew with this test's own traffic (two uploads, one of them by a wrong PIN,
    one document routed, downloaded and finished)."""
    before = await _scraped(stack)
    await make_traffic(stack, tenant, accounting)

    def grown(after: dict[str, Samples], where: str, metric: str, /, **labels: str) -> float:
        return value(after[where], metric, **labels) - value(before[where], metric, **labels)

    # Events are counted by their consumers a moment after they are published: wait for the
    # last of them (the dashboard's), then everything before it is counted too.
    after = await eventually(
        lambda: _scraped(stack),
        until=lambda a: (
            grown(a, "dashboard", "tsdx_dashboard_events_total", type="upload.decided") >= 1
            and grown(a, "dashboard", "tsdx_dashboard_events_total", type="document.routed") >= 1
        ),
        what="the dashboard counting both decisions",
    )
    expected = {
        ("routing", "tsdx_uploads_total", (("outcome", "accepted"),)): 1,
        (
            "routing",
            "tsdx_uploads_total",
            (("outcome", "refused"), ("code", "device_not_found_by_pin")),
        ): 1,
        (
            "routing",
            "tsdx_documents_routed_total",
            (("channel", "internet"), ("target_kind", "device"), ("process", "purchase-receipt")),
        ): 1,
        ("routing", "tsdx_results_total", (("outcome", "final"),)): 1,
        (
            "routing",
            "tsdx_messages_handled_total",
            (("service", "routing"), ("type", "upload.requested")),
        ): 2,
        ("gateway", "tsdx_delivery_latency_seconds_count", (("channel", "internet"),)): 1,
        (
            "gateway",
            "tsdx_messages_handled_total",
            (("service", "gateway"), ("type", "document.routed")),
        ): 1,
        # Routing decides from its own copy of the directory: the upload to a known device asks
        # the registry nothing; the one by a wrong PIN asks it once, before it is refused.
        (
            "registry",
            "tsdx_rpc_calls_total",
            (("method", "device.resolve_pin"), ("outcome", "ok")),
        ): 1,
        # The refusal by itself; the acceptance with the copy it routed (one message).
        ("dashboard", "tsdx_dashboard_events_total", (("type", "upload.decided"),)): 1,
        ("dashboard", "tsdx_dashboard_events_total", (("type", "document.routed"),)): 1,
    }
    found = {key: grown(after, key[0], key[1], **dict(key[2])) for key in expected}
    assert found == expected
    # Requests: at least the five POSTs of the traffic (pair, two uploads, ack, result).
    assert (
        grown(after, "gateway", "tsdx_http_requests_total", service="gateway", method="POST") >= 5
    )
    assert value(after["dashboard"], "tsdx_consumers", service="dashboard") == 1

    # Every service with a work queue shows its consumer running.
    for name in ("registry", "routing", "gateway", "lan_writer"):
        if name in after:
            assert value(after[name], "tsdx_consumers", service=name) >= 1, name
