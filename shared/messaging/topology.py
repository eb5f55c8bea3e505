"""Every exchange, queue and binding of tsdx, declared in this one place.

Each service declares the whole topology at start-up, so a message published before its
consumer ever ran still has a queue to wait in (publishes are ``mandatory``).

For each work queue ``Q``:

- ``Q`` (quorum): bound to the events exchange by the routing keys its service consumes;
  a message that crashes its consumer ``delivery_limit`` times is dead-lettered to parking;
- ``Q.retry.<ms>`` (one per retry delay): a failed message waits there, then its TTL
  dead-letters it straight back to ``Q`` through the default exchange;
- ``Q.parked``: poison messages with the reason in the ``x-park-reason`` header, kept for an
  operator to inspect and replay.

On a cluster (quorum queues with more than one replica) the retry and parking queues are quorum
queues too: a classic queue lives on one node, and while that node is down it can be neither
used nor declared again, so a service reconnecting to another node could not restore its
topology. Quorum queues take message TTLs and dead-letter from RabbitMQ 3.10 on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

EVENTS_EXCHANGE = "tsdx.events"
PARKING_EXCHANGE = "tsdx.parking"


@dataclass(frozen=True)
class WorkQueue:
    name: str
    bindings: tuple[str, ...]

    @property
    def service(self) -> str:
        """The service that consumes this queue."""
        return self.name.split(".", 1)[0]

    @property
    def parked(self) -> str:
        return f"{self.name}.parked"

    def retry(self, delay_ms: int) -> str:
        return f"{self.name}.retry.{delay_ms}"


# Copies (``document.routed.internet``) carrying an upload's decision that reaches a device the
# registry's known-devices list has not heard of lately are published under their key and this
# last word (services/routing/device_news.py): the registry binds only such keys, and every other
# consumer of the copies binds the key with or without it, so the list hears of a device's use
# about once a minute instead of at every upload. (``upload.decided`` keeps its one key:
# adapters of accounting systems bind it, docs/amqp-contract.md.)
DEVICE_NEWS = "device_news"


def device_news_of(key: str) -> str:
    """The key of a message that is news to the known-devices list."""
    return f"{key}.{DEVICE_NEWS}"


def with_or_without_news(key: str) -> str:
    """A binding that takes ``key`` and its device news alike (``#``: no word or more)."""
    return f"{key}.#"


# The only keys published as device news (routing checks its key is one of them): only an
# internet upload's copies carry their decision. A unit test checks that every queue bound to
# the plain key takes the news too.
DEVICE_NEWS_KEYS = frozenset({device_news_of("document.routed.internet")})


REGISTRY_RPC = WorkQueue("registry.rpc", ())
# The decisions, by themselves or with an internet upload's copies when news to the
# known-devices list (known_devices.py).
REGISTRY_EVENTS = WorkQueue("registry.events", ("upload.decided", *sorted(DEVICE_NEWS_KEYS)))
ROUTING_RPC = WorkQueue("routing.rpc", ())
ROUTING_WORK = WorkQueue(
    "routing.work",
    (
        "upload.requested",
        "delivery.progressed",
        # several copies' progress at once (a terminal's batched acknowledgement)
        "deliveries.progressed",
        "result.submitted",
        "document.loaded",
        # routing's own copy of the directory (services/routing/directory_replica.py)
        "device.changed",
        "people.changed",
    ),
)
# Asked by those who show a document's journey for the steps only the gateway keeps.
GATEWAY_RPC = WorkQueue("gateway.rpc", ())
GATEWAY_WORK = WorkQueue(
    "gateway.work",
    (
        with_or_without_news("document.routed.internet"),
        "document.withdrawn.internet",
        "document.returned",
        "result.refused.internet",
        "upload.decided",
        "document.completed",
        "device.changed",
        "device.replaced",
        "tenant.changed",
        "catalog.changed",
    ),
)
LAN_WRITER_WORK = WorkQueue(
    "lan_writer.work",
    (
        "document.routed.lan",
        "document.withdrawn.lan",
        "result.refused.lan",
        "tenant.changed",
        "catalog.changed",
    ),
)

WORK_QUEUES: tuple[WorkQueue, ...] = (
    REGISTRY_RPC,
    REGISTRY_EVENTS,
    ROUTING_RPC,
    ROUTING_WORK,
    GATEWAY_RPC,
    GATEWAY_WORK,
    LAN_WRITER_WORK,
)


# Bindings of an earlier release that the ones above replace: each is removed once the
# current ones are declared (unbinding one that is not there does nothing). The registry's own
# would otherwise go on taking every decision.
RETIRED_BINDINGS: tuple[tuple[WorkQueue, str], ...] = (
    (REGISTRY_EVENTS, "document.routed.internet"),
    (GATEWAY_WORK, "document.routed.internet"),
)


def work_queue(name: str) -> WorkQueue:
    for queue in WORK_QUEUES:
        if queue.name == name:
            return queue
    raise KeyError(f"no work queue named {name!r}")


async def declare_events_exchange(channel: AbstractChannel) -> AbstractExchange:
    """The exchange every event is published to."""
    return await channel.declare_exchange(
        EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
    )


def quorum_arguments(replicas: int | None) -> dict[str, Any]:
    """The arguments that make a queue a quorum queue of ``replicas`` members (None: as many
    as the broker gives by default: on 3.10, every node of the cluster at declaration)."""
    args: dict[str, Any] = {"x-queue-type": "quorum"}
    if replicas is not None:
        args["x-quorum-initial-group-size"] = replicas
    return args


# A retry copy must come back to its work queue even if a node dies as it expires: quorum
# queues then dead-letter at least once (RabbitMQ 3.10+, needs the reject-publish overflow).
AT_LEAST_ONCE_DEAD_LETTERING: dict[str, Any] = {
    "x-dead-letter-strategy": "at-least-once",
    "x-overflow": "reject-publish",
}


async def declare_topology(
    channel: AbstractChannel,
    *,
    quorum: bool,
    retry_delays_ms: list[int],
    delivery_limit: int,
    replicas: int | None = None,
) -> AbstractExchange:
    events = await declare_events_exchange(channel)
    parking = await channel.declare_exchange(
        PARKING_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True
    )
    # Retry and parking queues replicated too, when there is more than one node to live on.
    replicated: dict[str, Any] = (
        quorum_arguments(replicas) if quorum and replicas is not None and replicas > 1 else {}
    )
    declared: dict[str, AbstractQueue] = {}
    for queue in WORK_QUEUES:
        args: dict[str, Any] = {
            "x-dead-letter-exchange": PARKING_EXCHANGE,
            "x-dead-letter-routing-key": queue.name,
        }
        if quorum:
            args.update(quorum_arguments(replicas))
            args["x-delivery-limit"] = delivery_limit
        main = declared[queue.name] = await channel.declare_queue(
            queue.name, durable=True, arguments=args
        )
        for key in queue.bindings:
            await main.bind(events, routing_key=key)
        for delay in retry_delays_ms:
            await channel.declare_queue(
                queue.retry(delay),
                durable=True,
                arguments={
                    **replicated,
                    **(AT_LEAST_ONCE_DEAD_LETTERING if replicated else {}),
                    "x-message-ttl": delay,
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": queue.name,
                },
            )
        parked = await channel.declare_queue(queue.parked, durable=True, arguments=replicated)
        await parked.bind(parking, routing_key=queue.name)
    for queue, key in RETIRED_BINDINGS:
        await declared[queue.name].unbind(events, routing_key=key)
    sink = await channel.declare_queue(
        LIVE_VIEW_SINK,
        durable=True,
        arguments={**(quorum_arguments(replicas) if quorum else {}), "x-max-length": 0},
    )
    for key in LIVE_VIEW_ONLY_KEYS:
        await sink.bind(events, routing_key=key)
    return events


# The dashboard's live feed. Each dashboard process declares its own private queue (named
# per process, non-durable, exclusive, auto-delete, bounded), so the feed holds nothing durable:
# a dashboard that is down simply misses events, and no work queue ever waits for it.
DASHBOARD_FEED_PREFIX = "dashboard.feed"
DASHBOARD_FEED_BINDINGS: tuple[str, ...] = (
    "upload.decided",
    "document.routed.#",
    "document.completed",
    "result.refused.*",
    "device.changed",
    "device.seen",
    # A terminal's download is a contact too: the gateway does not announce it twice.
    "delivery.progressed",
    "deliveries.progressed",
)
# A dashboard that falls behind drops its oldest events rather than growing without end.
DASHBOARD_FEED_MAX_LENGTH = 10_000
# Events only the live feed takes (no work queue is bound to them). With no dashboard up they
# would have no queue: the broker would return them (every publish is ``mandatory``), and the
# relay would hold back every event after them until a dashboard is back. The sink takes them
# whatever runs and keeps nothing: a queue of length 0, each one confirmed and dropped. (The
# hyphen keeps it out of the work queues' policy in deploy/, whose reject-publish overflow
# would refuse every message after the first.)
LIVE_VIEW_ONLY_KEYS: tuple[str, ...] = ("device.seen",)
LIVE_VIEW_SINK = "live-view.sink"


async def declare_dashboard_feed(channel: AbstractChannel, instance: str) -> AbstractQueue:
    """Declare and bind one dashboard process's feed queue (the events exchange must exist)."""
    events = await channel.get_exchange(EVENTS_EXCHANGE)
    queue = await channel.declare_queue(
        f"{DASHBOARD_FEED_PREFIX}.{instance}",
        durable=False,
        exclusive=True,
        auto_delete=True,
        arguments={"x-max-length": DASHBOARD_FEED_MAX_LENGTH, "x-overflow": "drop-head"},
    )
    for key in DASHBOARD_FEED_BINDINGS:
        await queue.bind(events, routing_key=key)
    return queue
