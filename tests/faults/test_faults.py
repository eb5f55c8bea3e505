"""Fault injection under a steady load, every service in its own process on real RabbitMQ.

Each test runs the load, injects one fault in the middle, stops the uploads, and then checks
the exact counts: every accepted upload in exactly one inbox, every result returned exactly once.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from tests.faults.checks import assert_exactly_once
from tests.faults.load import Load
from tests.faults.witness import Witness
from tests.support.cluster import local_cluster, stack_env
from tests.support.stack import running_stack
from tests.support.waiting import eventually
from tools.cli.local_cluster import LocalCluster
from tools.cli.stack import Stack

pytestmark = pytest.mark.slow


@asynccontextmanager
async def under_load(stack: Stack) -> AsyncIterator[tuple[Stack, Load, Witness]]:
    witness = Witness(stack.env["TSDX_AMQP_URL"])
    await witness.start()
    load = Load(stack.url("gateway"))
    await load.prepare()
    load.start()
    try:
        yield stack, load, witness
    finally:
        await load.close()
        await witness.stop()


@pytest.fixture
async def loaded(fresh_stack: Stack) -> AsyncIterator[tuple[Stack, Load, Witness]]:
    async with under_load(fresh_stack) as running:
        yield running


@pytest.fixture
async def loaded_on_own_broker(
    tmp_path: Path,
) -> AsyncIterator[tuple[LocalCluster, Stack, Load, Witness]]:
    """A stack under load on a RabbitMQ node of the test's own, which it may stop: never the
    machine's broker, which other stacks use."""
    with (
        local_cluster(tmp_path / "rabbit", size=1) as broker,
        running_stack(tmp_path, extra_env=stack_env(broker, "/")) as stack,
    ):
        async with under_load(stack) as (_, load, witness):
            yield broker, stack, load, witness


async def _progress(load: Load, more: int) -> None:
    target = len(load.ledger.accepted) + more
    await eventually(
        lambda: asyncio.sleep(0, len(load.ledger.accepted)),
        until=lambda n: n >= target,
        timeout=120,
        interval=0.1,
        what=f"{more} more accepted uploads",
    )


async def _restart(stack: Stack, service: str) -> None:
    stack.start(service)
    await asyncio.to_thread(stack.wait_ready, 60, (service,))


async def test_kill_9_each_service_in_turn(loaded: tuple[Stack, Load, Witness]) -> None:
    stack, load, witness = loaded
    for service in stack.services:
        await _progress(load, 15)
        stack.kill(service, signal.SIGKILL)
        await _restart(stack, service)
    await _progress(load, 15)
    await load.stop_uploads()
    await assert_exactly_once("kill -9 of each service in turn", load, witness, stack)


async def test_rabbitmq_stopped_and_started(
    loaded_on_own_broker: tuple[LocalCluster, Stack, Load, Witness],
) -> None:
    broker, stack, load, witness = loaded_on_own_broker
    node = broker.nodes[0]
    await _progress(load, 20)
    failed_calls = load.ledger.http_retries["http"]
    await asyncio.to_thread(broker.ctl, node, "stop", str(node.pid_file))
    try:
        # Clients keep calling while the broker is away; they get errors, never a false "accepted".
        await eventually(
            lambda: asyncio.sleep(0, load.ledger.http_retries["http"]),
            until=lambda n: n > failed_calls,
            timeout=60,
            what="clients refused (and retrying) while the broker is stopped",
        )
    finally:
        await asyncio.to_thread(broker.start, node)
    await _progress(load, 20)
    await load.stop_uploads()
    await assert_exactly_once("RabbitMQ stopped and started", load, witness, stack)


async def test_storage_briefly_unavailable(loaded: tuple[Stack, Load, Witness]) -> None:
    stack, load, witness = loaded
    routing_db = stack.env["TSDX_DATA_DIR"] + "/tsdx_routing.sqlite3"
    await _progress(load, 20)
    locked = threading.Event()
    release = threading.Event()

    def hold_lock() -> None:
        # Longer than the store's busy timeout, so routing's writes really fail for a while.
        db = sqlite3.connect(routing_db, timeout=30, isolation_level=None)
        db.execute("BEGIN EXCLUSIVE")
        locked.set()
        release.wait(timeout=60)
        db.execute("ROLLBACK")
        db.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    await asyncio.to_thread(locked.wait, 30)
    await eventually(
        lambda: asyncio.sleep(0, load.ledger.http_retries["pending"]),
        until=lambda n: n > 0,
        timeout=60,
        what="uploads waiting on routing",
    )
    await asyncio.to_thread(release.wait, 12)  # hold past the 10 s busy timeout
    release.set()
    await asyncio.to_thread(holder.join)
    await _progress(load, 20)
    await load.stop_uploads()
    await assert_exactly_once("SQLite store of routing locked for 12 s", load, witness, stack)


async def test_messages_delivered_twice_on_purpose(loaded: tuple[Stack, Load, Witness]) -> None:
    stack, load, witness = loaded
    await _progress(load, 30)
    # Uploads, routed copies, decisions, results and completions: each once more, same envelope.
    sent_again = await witness.deliver_again(len(witness.captured))
    assert sent_again > 100
    await _progress(load, 10)
    await load.stop_uploads()
    figures = await assert_exactly_once(
        f"{sent_again} messages delivered twice on purpose", load, witness, stack
    )
    assert figures["wire_repeats"] >= sent_again
