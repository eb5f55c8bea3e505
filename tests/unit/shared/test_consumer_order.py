"""A consumer's ordering keys: messages sharing one run in the order they came, even when one
of them is cancelled while it waits (pure asyncio: the ordering alone, no broker)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from shared.messaging.consumer import Consumer
from shared.messaging.topology import WorkQueue


def _consumer() -> Consumer:
    queue = WorkQueue("test.work", ("test.#",))
    return Consumer(cast(Any, None), queue, {}, [0], "test")


async def _turns(count: int = 20) -> None:
    """Let every ready task run as far as it can (a turn of the loop each, no time waited)."""
    for _ in range(count):
        await asyncio.sleep(0)


async def _hold(
    consumer: Consumer, keys: tuple[str, ...], started: asyncio.Event, release: asyncio.Event
) -> None:
    async with consumer._in_order(keys):
        started.set()
        await release.wait()


async def test_a_message_cancelled_while_waiting_lets_no_later_one_pass_an_earlier_one() -> None:
    consumer = _consumer()
    started = {name: asyncio.Event() for name in "ABCD"}
    release = {name: asyncio.Event() for name in "ABCD"}

    def run(name: str, keys: tuple[str, ...] = ("copy-1",)) -> asyncio.Task[None]:
        return asyncio.create_task(_hold(consumer, keys, started[name], release[name]))

    a = run("A")
    await asyncio.wait_for(started["A"].wait(), 5)
    b = run("B")
    c = run("C", ("copy-1", "copy-2"))  # one of several keys, as a batch's message has
    await _turns()
    assert not started["B"].is_set() and not started["C"].is_set()

    b.cancel()  # B goes while it waits for A
    await asyncio.gather(b, return_exceptions=True)
    d = run("D")  # and a message coming after B's end waits for A too (through C)
    await _turns()
    assert not started["C"].is_set(), "C passed A, which still runs"
    assert not started["D"].is_set()

    release["A"].set()
    await asyncio.wait_for(started["C"].wait(), 5)
    assert not started["D"].is_set()
    release["C"].set()
    await asyncio.wait_for(started["D"].wait(), 5)
    release["D"].set()
    await asyncio.wait_for(asyncio.gather(a, c, d), 5)
    assert consumer._ordered == {}  # nothing left behind once all are done


async def test_a_message_cancelled_while_waiting_with_nothing_left_ahead_frees_its_key() -> None:
    consumer = _consumer()
    started = {name: asyncio.Event() for name in "AB"}
    release = {name: asyncio.Event() for name in "AB"}
    a = asyncio.create_task(_hold(consumer, ("k",), started["A"], release["A"]))
    await asyncio.wait_for(started["A"].wait(), 5)
    b = asyncio.create_task(_hold(consumer, ("k",), started["B"], release["B"]))
    await _turns()
    b.cancel()
    await asyncio.gather(b, return_exceptions=True)
    assert "k" in consumer._ordered  # A still runs: its place is held
    release["A"].set()
    await asyncio.wait_for(a, 5)
    await _turns()
    assert consumer._ordered == {}
