"""The relay's window of batches in flight (pure logic on the event loop, no broker): batches
settle from the head in the order they were launched, a publish cancelled under a batch is a
failure the relay can retry (not a cancellation of the relay), and the window is bounded."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from shared.messaging.broker import BrokerUnavailable
from shared.outbox import Outgoing
from shared.outbox_in_flight import InFlight


def _event(id: str) -> Outgoing:
    return Outgoing(
        id=id, seq=0, routing_key="k", relay=None, body=b"{}", type="t",
        correlation_id="c", tenant=None, trace=None,
    )  # fmt: skip


class _Publishes:
    """Publishes that end when the test says: confirmed, refused or cancelled."""

    def __init__(self) -> None:
        self.pending: dict[str, asyncio.Future[None]] = {}

    async def publish(self, event: Outgoing) -> None:
        self.pending[event.id] = asyncio.get_running_loop().create_future()
        await self.pending[event.id]

    async def started(self, count: int) -> None:
        """Until ``count`` publishes have begun (each in a task of its own)."""
        for _ in range(100):
            if len(self.pending) == count:
                return
            await asyncio.sleep(0)
        raise AssertionError(f"{count} publishes not begun: {sorted(self.pending)}")


async def test_batches_settle_from_the_head_in_launch_order() -> None:
    woken = asyncio.Event()
    window, publishes = InFlight(4, on_end=woken.set), _Publishes()
    window.launch([_event("a1"), _event("a2")], publishes.publish)
    window.launch([_event("b")], publishes.publish)
    await publishes.started(3)
    publishes.pending["b"].set_result(None)
    await asyncio.wait_for(woken.wait(), timeout=5)  # the second batch ended ...
    assert window.ended_at_head() == []  # ... behind a head still going
    publishes.pending["a1"].set_result(None)
    publishes.pending["a2"].set_result(None)
    await asyncio.wait_for(window.all_ended(), timeout=5)
    ended = window.ended_at_head()
    assert [[e.id for e in batch.events] for batch in ended] == [["a1", "a2"], ["b"]]
    assert all(batch.failure() is None for batch in ended)
    window.drop_head(2)
    assert len(window) == 0


async def test_a_refused_or_cancelled_publish_is_a_failure_to_retry() -> None:
    window, publishes = InFlight(4, on_end=lambda: None), _Publishes()
    window.launch([_event("refused"), _event("fine")], publishes.publish)
    window.launch([_event("cancelled")], publishes.publish)
    await publishes.started(3)
    publishes.pending["refused"].set_exception(BrokerUnavailable("nacked"))
    publishes.pending["fine"].set_result(None)
    publishes.pending["cancelled"].cancel()
    await asyncio.wait_for(window.all_ended(), timeout=5)
    assert window.has_failed()
    refused, cancelled = window.ended_at_head()
    assert isinstance(refused.failure(), BrokerUnavailable)
    assert isinstance(cancelled.failure(), BrokerUnavailable)  # not a CancelledError


async def test_the_window_is_bounded_and_a_cancel_ends_every_batch() -> None:
    window, publishes = InFlight(2, on_end=lambda: None), _Publishes()
    window.launch([_event("a")], publishes.publish)
    assert window.has_room()
    window.launch([_event("b")], publishes.publish)
    assert not window.has_room()
    await publishes.started(2)
    window.cancel()
    assert len(window) == 0
    for future in publishes.pending.values():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(future, timeout=5)
        assert future.cancelled()


def test_a_window_lets_at_least_one_batch_in_flight() -> None:
    with pytest.raises(ValueError, match="at least one batch"):
        InFlight(0, on_end=lambda: None)
