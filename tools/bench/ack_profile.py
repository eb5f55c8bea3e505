"""What consuming a message costs, the service's side and the broker's: a work queue filled
with small persistent messages, then read by a :class:`Consumer` with the services' prefetch
and a handler that does nothing, so what is measured is the messaging itself (delivery,
decoding, dispatch, acknowledgement).

``python -m tools.bench.ack_profile [messages] [--rounds N] [--own-broker]``

Each round uses a RabbitMQ virtual host of its own (a quorum queue, as the services declare
it). It prints, per message, the CPU this process spent from the consumer's start until it
stopped with everything acknowledged, and the CPU the broker's Erlang VM (``beam.smp``) spent
meanwhile. On the machine's broker that figure holds other users' traffic too; with
``--own-broker`` the rounds run on a RabbitMQ node of their own (started from the installed
``rabbitmq-server``, removed at the end), whose CPU is theirs alone. At the end of a round the
queue is checked empty from a new connection (a message left unacknowledged would be back).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika

from shared.contracts import encode, wrap
from shared.contracts.results import DocumentLoaded
from shared.messaging.broker import Broker
from shared.messaging.consumer import Consumer
from shared.messaging.topology import ROUTING_WORK
from shared.settings import Settings
from tools.bench.counting import CountUntil
from tools.bench.cpu import broker_pid, read_cpu_seconds
from tools.bench.vhost import VirtualHost
from tools.cli.local_cluster import USER, LocalCluster

PUBLISHED_AT_ONCE = 500


@dataclass(frozen=True)
class Rabbit:
    amqp_url: str
    management_url: str
    pid: int | None  # its beam.smp, when it runs on this machine


def machine_broker() -> Rabbit:
    return Rabbit(
        "amqp://guest:guest@localhost:5672/", "http://guest:guest@localhost:15672/api", broker_pid()
    )


@contextmanager
def own_broker() -> Iterator[Rabbit]:
    """A RabbitMQ node of this run's own, killed and removed at the end."""
    with tempfile.TemporaryDirectory(prefix="tsdx-ack-profile-") as base:
        cluster = LocalCluster.create(Path(base), 1)
        try:
            cluster.up()
            node = cluster.nodes[0]
            api = node.management_url.replace("//", f"//{USER[0]}:{USER[1]}@", 1)
            yield Rabbit(node.amqp_url(), api, node.pid())
        finally:
            cluster.down()


async def _fill(broker: Broker, messages: int) -> None:
    for start in range(0, messages, PUBLISHED_AT_ONCE):
        bodies = [
            encode(wrap(DocumentLoaded(document_id=f"d{n}"), "t"))
            for n in range(start, min(start + PUBLISHED_AT_ONCE, messages))
        ]
        await asyncio.gather(*(broker.publish_to_queue(ROUTING_WORK.name, b, {}) for b in bodies))


async def _left_in_queue(amqp_url: str) -> int:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(ROUTING_WORK.name, passive=True)
        return queue.declaration_result.message_count or 0
    finally:
        await connection.close()


async def one_round(messages: int, rabbit: Rabbit) -> dict[str, Any]:
    vhost = VirtualHost(rabbit.amqp_url, rabbit.management_url, prefix="tsdx-acks")
    vhost.create()
    try:
        settings = Settings(amqp_url=vhost.amqp_url)
        broker = Broker(settings, "ack-profile")
        await broker.connect()
        await _fill(broker, messages)
        handled = CountUntil(messages)
        consumer = Consumer(
            broker, ROUTING_WORK, {DocumentLoaded: handled}, settings.retry_delays_ms, "bench"
        )
        beam = rabbit.pid
        beam_before = read_cpu_seconds(beam) if beam else None
        cpu_before, wall_before = time.process_time(), time.perf_counter()
        await consumer.start()
        await handled.wait(300)
        await consumer.stop()
        cpu = time.process_time() - cpu_before
        wall = time.perf_counter() - wall_before
        beam_after = read_cpu_seconds(beam) if beam else None
        await broker.close()
        left = await _left_in_queue(vhost.amqp_url)
    finally:
        vhost.delete()
    return {
        "messages": messages,
        "seconds": round(wall, 2),
        "consumer_us_per_message": round(cpu / messages * 1e6, 1),
        "broker_us_per_message": (
            round((beam_after - beam_before) / messages * 1e6, 1)
            if beam_before is not None and beam_after is not None
            else None
        ),
        "left_in_queue": left,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("messages", type=int, nargs="?", default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--own-broker", action="store_true")
    args = parser.parse_args()
    if args.own_broker:
        with own_broker() as rabbit:
            for _ in range(args.rounds):
                print(asyncio.run(one_round(args.messages, rabbit)), flush=True)
        return
    for _ in range(args.rounds):
        print(asyncio.run(one_round(args.messages, machine_broker())), flush=True)


if __name__ == "__main__":
    main()
