"""What the registry's device list and the dashboard's live feed cost per uploaded document.

``python -m tools.bench.feed_cost [--documents N] [--rate R] [--repeats K] [--only SERVICE]``

Each of the two services runs in this process as it runs in its own (its runtime, consumers
and handlers, no HTTP server), on a RabbitMQ virtual host of its own and SQLite in a temporary
directory. A second process publishes, ``--rate`` documents a second, the events a
single-document upload through the gateway sends the events exchange after its request:
routing's ``document.routed.internet`` (with the decision) and the gateway's report of the
terminal's download (``delivery.progressed``), made by routing's real handlers
(tools/bench/routing_cost.py), each document with its own ids. The copies go as device news
(``document.routed.internet.device_news``, as routing publishes a device's first upload), the
only copies the registry takes: its figure is the cost of one such note, which routing sends
about once a minute a device, not at every upload. The figure is this process's
CPU from the first publish until the service has taken every message, per document (best of
``--repeats``). The service's log goes to stdout as the service's does (JSON lines); the
figures go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import uvloop
from prometheus_client import REGISTRY

from services.dashboard.service import SPEC as DASHBOARD
from services.registry.service import SPEC as REGISTRY_SPEC
from shared.contracts import wrap
from shared.contracts.envelope import as_json
from shared.contracts.results import DeliveryProgressed
from shared.logging import configure_logging
from shared.messaging.broker import Broker
from shared.messaging.topology import DEVICE_NEWS_KEYS
from shared.outbox import OUTBOX, stored_envelope
from shared.service import ServiceSpec, start_runtime, stop_runtime
from shared.settings import Settings
from tools.bench.routing_cost import Routing, routing_store
from tools.bench.vhost import VirtualHost

Event = tuple[str, dict[str, Any]]  # routing key, envelope as JSON


async def upload_events(directory: Path) -> list[Event]:
    """The events one single-document upload and its download publish, as routing stores
    them in its outbox (the download's report as the gateway would publish it)."""
    async with routing_store(directory) as store:
        routing = Routing(store)
        await routing.downloaded(await routing.copies(await routing.upload(1)))
        rows = await store.find(OUTBOX.name, order_by="seq")
    return [(row["routing_key"], stored_envelope(row)) for row in rows]


def _reported_download(events: list[Event]) -> list[Event]:
    """routing_cost reports the download to routing itself; the gateway publishes it."""
    routed = [e for e in events if e[0] in DEVICE_NEWS_KEYS]
    assert len(routed) == 1, [key for key, _ in events]
    envelope = routed[0][1]
    copy = envelope["payload"]["copies"][0]
    progressed = DeliveryProgressed(
        delivery_id=copy["delivery_id"],
        channel="internet",
        state="downloaded",
        by=copy["target"]["value"],
        delivered_at=datetime.now(UTC),
    )
    wrapped = as_json(wrap(progressed, envelope["tenant"], envelope["correlation_id"]))
    return [routed[0], (progressed.routing_key(), wrapped)]


async def _publish(amqp_url: str, events: list[Event], documents: int, rate: float) -> None:
    broker = Broker(Settings(amqp_url=amqp_url), "feed-cost-publisher")
    await broker.connect()
    try:
        started = time.perf_counter()
        for n in range(documents):
            due = started + n / rate
            if (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            for key, envelope in events:
                message_id = uuid.uuid4().hex
                await broker.publish_stored(
                    orjson.dumps({**envelope, "id": message_id}),
                    key,
                    message_id=message_id,
                    correlation_id=envelope["correlation_id"],
                    message_type=envelope["type"],
                    tenant=envelope["tenant"],
                )
    finally:
        await broker.close()


def _publisher(amqp_url: str, events: list[Event], documents: int, rate: float) -> None:
    uvloop.run(_publish(amqp_url, events, documents, rate))


def _handled(service: str) -> float:
    """Messages the service has taken so far (its own metrics)."""
    if service == "registry":
        value = REGISTRY.get_sample_value(
            "tsdx_messages_handled_total",
            {"service": service, "type": "document.routed"},
        )
        return value or 0.0
    return sum(
        REGISTRY.get_sample_value("tsdx_dashboard_events_total", {"type": kind}) or 0.0
        for kind in ("document.routed", "delivery.progressed")
    )


async def measure(
    spec: ServiceSpec,
    amqp_url: str,
    data_dir: Path,
    events: list[Event],
    documents: int,
    rate: float,
) -> float:
    """CPU seconds this process spent while the service took ``documents`` documents' events."""
    settings = Settings(amqp_url=amqp_url, data_dir=data_dir, log_format="json")
    runtime = await start_runtime(spec, settings)
    try:
        target = _handled(spec.name) + documents * _expected(spec.name)
        publisher = multiprocessing.get_context("spawn").Process(
            target=_publisher, args=(amqp_url, events, documents, rate)
        )
        started = time.process_time()
        publisher.start()
        deadline = time.monotonic() + 60 + documents / rate
        while _handled(spec.name) < target:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{spec.name} took {_handled(spec.name)} of {target}")
            await asyncio.sleep(0.2)
        spent = time.process_time() - started
        publisher.join()
        return spent
    finally:
        await stop_runtime(spec, runtime)


def _expected(service: str) -> int:
    """Messages the service takes per document."""
    return 1 if service == "registry" else 2


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def main(documents: int, rate: float, repeats: int, only: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="feed-cost-") as scratch:
        events = _reported_download(await upload_events(Path(scratch) / "routing"))
        settings = Settings()
        for spec in (REGISTRY_SPEC, DASHBOARD):
            if only is not None and spec.name != only:
                continue
            configure_logging(spec.name, fmt="json")
            best = float("inf")
            for attempt in range(repeats):
                vhost = VirtualHost(settings.amqp_url, settings.rabbitmq_api_url, "tsdx-feedcost")
                vhost.create()
                try:
                    spent = await measure(
                        spec,
                        vhost.amqp_url,
                        Path(scratch) / f"{spec.name}-{attempt}",
                        events,
                        documents,
                        rate,
                    )
                finally:
                    vhost.delete()
                per_document = 1000 * spent / documents
                _say(f"{spec.name}: {per_document:.3f} ms CPU per document (run {attempt + 1})")
                best = min(best, per_document)
            _say(f"{spec.name}: best of {repeats} x {documents}: {best:.3f} ms CPU per document")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=400.0, help="documents a second")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=("registry", "dashboard"), default=None)
    args = parser.parse_args()
    uvloop.run(main(args.documents, args.rate, args.repeats, args.only))
