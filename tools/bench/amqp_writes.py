"""CPU and socket writes per message through the services' broker connection.

``python -m tools.bench.amqp_writes [messages] [--publishers N] [--plain]``

Publishes confirmed persistent messages through :class:`Broker` (``N`` publishing tasks at
once, as a service's relay and handlers do) and consumes them with a :class:`Consumer` in the
same process, in a RabbitMQ virtual host of its own, on uvloop as the services run. Prints the
process's CPU per message. ``--plain`` opens the socket with aiormq's own factory (one write
per frame) instead of the coalescing one, so both can be measured back to back; run under
``strace -f -c -e trace=write,writev,sendto,sendmsg`` to count the system calls.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop
from aiormq.connection import TCPTransportFactory
from yarl import URL

from shared.contracts import Envelope
from shared.contracts.results import DocumentLoaded
from shared.messaging import broker as broker_module
from shared.messaging.broker import Broker
from shared.messaging.coalesced_writes import CoalescingTransportFactory
from shared.messaging.consumer import Consumer
from shared.messaging.topology import ROUTING_WORK
from shared.settings import Settings
from tools.bench.vhost import VirtualHost

AMQP = "amqp://guest:guest@localhost:5672/"
MANAGEMENT = "http://guest:guest@localhost:15672/api"


class PlainWrites(CoalescingTransportFactory):
    """aiormq's own socket: every frame its own write (what tsdx did before coalescing)."""

    async def create(self, url: URL, **kwargs: Any) -> tuple[asyncio.StreamReader, Any]:
        opened = await TCPTransportFactory().create(url, **kwargs)
        self.opened += 1
        return opened


async def run(messages: int, publishers: int, data_dir: Path, amqp_url: str) -> None:
    settings = Settings(amqp_url=amqp_url, data_dir=data_dir, quorum_group_size=0)
    broker = Broker(settings, "bench")
    await broker.connect()
    received = 0
    all_in = asyncio.Event()

    async def count(_: Envelope, __: DocumentLoaded) -> None:
        nonlocal received
        received += 1
        if received == messages:
            all_in.set()

    consumer = Consumer(broker, ROUTING_WORK, {DocumentLoaded: count}, [1000], "bench")
    await consumer.start()

    async def publish(lane: int) -> None:
        for i in range(lane, messages, publishers):
            await broker.publish(DocumentLoaded(document_id=f"d{i}"), "t")

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(publish(lane) for lane in range(publishers)))
    await asyncio.wait_for(all_in.wait(), 120)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await consumer.stop()
    await broker.close()
    print(
        f"{messages} messages, {publishers} publishers: {1000 * cpu / messages:.3f} ms CPU "
        f"a message (published and consumed), {messages / wall:.0f} msg/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("messages", type=int, nargs="?", default=10_000)
    parser.add_argument("--publishers", type=int, default=32)
    parser.add_argument("--plain", action="store_true", help="one write per frame (aiormq's)")
    args = parser.parse_args()
    if args.plain:
        broker_module.CoalescingTransportFactory = PlainWrites  # type: ignore[attr-defined]
    vhost = VirtualHost(AMQP, MANAGEMENT, prefix="tsdx-writes")
    vhost.create()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            uvloop.run(run(args.messages, args.publishers, Path(tmp), vhost.amqp_url))
    finally:
        vhost.delete()


if __name__ == "__main__":
    main()
