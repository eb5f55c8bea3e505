"""CPU and socket writes per message through the services' broker connection.

``python -m tools.bench.amqp_writes [messages] [--publishers N] [--plain]``

Publishes confirmed persistent messages through :class:`Broker` (``N`` publishing tasks at
once, as a service's relay and handlers do) and consumes them with a :class:`Consumer` in the
same process, in a RabbitMQ virtual host of its own, on uvloop as the services run. Prints the
process's CPU per message, user and system (the socket's system calls are system time).
``--plain`` opens the socket with aiormq's own factory (one write per frame) instead of the
coalescing one, so both can be measured back to back; run under
``strace -f -c -e trace=write,writev,sendto,sendmsg`` to count the system calls.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import uvloop
from aiormq.connection import TCPTransportFactory
from yarl import URL

from shared.contracts.results import DocumentLoaded
from shared.messaging import broker as broker_module
from shared.messaging.broker import Broker
from shared.messaging.coalesced_writes import CoalescingTransportFactory
from shared.messaging.consumer import Consumer
from shared.messaging.topology import ROUTING_WORK
from shared.settings import Settings
from tools.bench.counting import CountUntil
from tools.bench.vhost import STATS_INTERVAL_SECONDS, VirtualHost

AMQP = "amqp://guest:guest@localhost:5672/"
MANAGEMENT = "http://guest:guest@localhost:15672/api"
MANAGEMENT_API, MANAGEMENT_AUTH = "http://localhost:15672/api", ("guest", "guest")


class PlainWrites(CoalescingTransportFactory):
    """aiormq's own socket: every frame its own write (what tsdx did before coalescing)."""

    async def create(self, url: URL, **kwargs: Any) -> tuple[asyncio.StreamReader, Any]:
        opened = await TCPTransportFactory().create(url, **kwargs)
        self.opened += 1
        return opened


async def _connection_stats(vhost: str) -> dict[str, int]:
    """The broker's counts for the bench's connection (the reads it made of the socket, its
    reader's Erlang reductions), once unchanged for longer than their refresh interval."""
    fields = ("recv_cnt", "send_cnt", "reductions")
    last: dict[str, int] = {}
    since = time.monotonic()
    async with httpx.AsyncClient(auth=MANAGEMENT_AUTH, timeout=5) as api:
        while time.monotonic() - since < STATS_INTERVAL_SECONDS + 1:
            listed = await api.get(f"{MANAGEMENT_API}/vhosts/{quote(vhost, safe='')}/connections")
            now = {f: int(c.get(f, 0)) for c in listed.json() for f in fields}
            # The reductions move at each refresh (the statistics cost some): the socket's
            # counts tell when the figures have caught up.
            if not now or now["recv_cnt"] != last.get("recv_cnt"):
                since = time.monotonic()
            last = now
            await asyncio.sleep(0.5)
    return last


async def run(messages: int, publishers: int, data_dir: Path, amqp_url: str, vhost: str) -> None:
    settings = Settings(amqp_url=amqp_url, data_dir=data_dir, quorum_group_size=0)
    broker = Broker(settings, "bench")
    await broker.connect()
    received = CountUntil(messages)
    consumer = Consumer(broker, ROUTING_WORK, {DocumentLoaded: received}, [1000], "bench")
    await consumer.start()

    async def publish(lane: int) -> None:
        for i in range(lane, messages, publishers):
            await broker.publish(DocumentLoaded(document_id=f"d{i}"), "t")

    before, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    await asyncio.gather(*(publish(lane) for lane in range(publishers)))
    await received.wait(120)
    after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - wall
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    stats = await _connection_stats(vhost)
    await consumer.stop()
    await broker.close()
    print(
        f"{messages} messages, {publishers} publishers: {1000 * (user + system) / messages:.3f} "
        f"ms CPU a message (published and consumed; user {1000 * user / messages:.3f}, system "
        f"{1000 * system / messages:.3f}), {messages / wall:.0f} msg/s; the broker read the "
        f"socket {stats.get('recv_cnt', 0) / messages:.2f} times a message, its reader "
        f"{stats.get('reductions', 0) / messages:.0f} reductions a message"
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
            uvloop.run(run(args.messages, args.publishers, Path(tmp), vhost.amqp_url, vhost.name))
    finally:
        vhost.delete()


if __name__ == "__main__":
    main()
