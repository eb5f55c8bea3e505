"""A consumer's ordering keys: messages sharing one run in the order they came, even when one
of them is cancelled while it waits, or is still being decoded in a worker thread when a later
one is read (pure asyncio: the ordering alone, no broker)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

import pytest

from shared.contracts import MalformedMessage
from shared.contracts.results import ResultSubmitted
from shared.messaging import consumer as consumer_module
from shared.messaging.consumer import DECODE_IN_THREAD_BYTES, Consumer
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


class _Deliveries:
    """A consumer whose decoding the test holds back, message by message (pure asyncio: the
    consumer's own ordering, with no broker and no JSON): each message is a result of one copy,
    large (decoded in a worker thread) or small (decoded at once)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.applied: list[str] = []
        self.parked: list[str] = []
        self.consumer = _consumer()
        self.consumer._handlers[ResultSubmitted] = self._apply
        self._gates: dict[str, asyncio.Event] = {}
        self._refused: set[str] = set()
        self._bodies: dict[int, str] = {}

        async def settled(message: Any) -> None:
            return None

        async def park(message: Any, reason: str) -> None:
            self.parked.append(message.message_id)

        async def decode(body: bytes) -> tuple[Any, ResultSubmitted]:
            name = self._bodies[id(body)]
            if name in self._gates:
                await self._gates[name].wait()
            if name in self._refused:
                raise MalformedMessage(f"{name} cannot be read")
            envelope = SimpleNamespace(
                id=name, type="result.submitted", tenant="t", correlation_id="c"
            )
            payload = ResultSubmitted(result_id=name, delivery_id="d", channel="lan", final=False)
            return envelope, payload

        monkeypatch.setattr(consumer_module, "settle", settled)
        monkeypatch.setattr(self.consumer, "_park", park)
        monkeypatch.setattr(self.consumer, "_decode", decode)

    async def _apply(self, envelope: Any, payload: ResultSubmitted) -> None:
        self.applied.append(payload.result_id)

    def deliver(self, name: str, *, large: bool, unreadable: bool = False) -> asyncio.Task[None]:
        size = DECODE_IN_THREAD_BYTES + 1 if large else 10
        body = name.encode().ljust(size, b" ")
        self._bodies[id(body)] = name
        if large:
            self._gates[name] = asyncio.Event()  # decoded when the test says
        if unreadable:
            self._refused.add(name)
        message = SimpleNamespace(body=body, headers={}, routing_key="", message_id=name)
        return asyncio.create_task(self.consumer._handle(cast(Any, message)))

    def decoded(self, name: str) -> None:
        self._gates[name].set()


async def test_a_small_message_waits_for_a_large_one_before_it_being_decoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deliveries = _Deliveries(monkeypatch)
    deliveries.deliver("large", large=True)
    await _turns()
    small = deliveries.deliver("small", large=False)
    await _turns()
    assert deliveries.applied == []  # the small one is read, and waits
    deliveries.decoded("large")
    later = deliveries.deliver("later", large=False)  # comes as the large one takes its place
    await asyncio.wait_for(asyncio.gather(small, later), 5)
    assert deliveries.applied == ["large", "small", "later"]


@pytest.mark.parametrize("how", ["unreadable", "cancelled"])
async def test_a_large_message_that_never_takes_its_place_lets_none_pass_the_one_before_it(
    monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    deliveries = _Deliveries(monkeypatch)
    first = deliveries.deliver("first", large=True)
    await _turns()
    second = deliveries.deliver("second", large=True, unreadable=how == "unreadable")
    await _turns()
    small = deliveries.deliver("small", large=False)
    await _turns()
    if how == "unreadable":
        deliveries.decoded("second")  # read before the first, and parked
    else:
        second.cancel()
    await asyncio.gather(second, return_exceptions=True)
    await _turns()
    assert deliveries.applied == []  # the small one still waits for the first
    deliveries.decoded("first")
    await asyncio.wait_for(asyncio.gather(first, small), 5)
    assert deliveries.applied == ["first", "small"]
    assert deliveries.parked == (["second"] if how == "unreadable" else [])
