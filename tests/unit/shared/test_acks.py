"""Grouped acknowledgements (shared/messaging/acks.py): which frames a channel's finished
deliveries allow (pure), and how they are sent on stand-in channels (no broker)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from aio_pika.abc import AbstractIncomingMessage
from aiormq.exceptions import ChannelInvalidStateError, ConnectionClosed

from shared.messaging.acks import (
    AckBatchFailed,
    AckWindow,
    Settlement,
    settle,
    settle_finished,
)
from tests.support.waiting import eventually


def test_deliveries_finished_in_order_are_acknowledged_by_one_frame() -> None:
    window = AckWindow()
    for tag in (1, 2, 3):
        window.finish(tag)
    assert window.take() == [Settlement(3, multiple=True)]
    assert window.take() == []


def test_a_delivery_still_open_stops_the_run_until_it_finishes() -> None:
    window = AckWindow()
    window.finish(3)
    window.finish(2)
    assert window.take() == []  # 1 is still being handled
    window.finish(1)
    assert window.take() == [Settlement(3, multiple=True)]
    window.finish(5)
    assert window.take() == []  # 4 is open: 5 is not covered
    window.finish(4)
    assert window.take() == [Settlement(5, multiple=True)]


def test_the_highest_tag_of_the_contiguous_run_is_the_one_acknowledged() -> None:
    window = AckWindow()
    for tag in (1, 2, 4, 5):
        window.finish(tag)
    assert window.take() == [Settlement(2, multiple=True)]
    window.finish(3)
    assert window.take() == [Settlement(5, multiple=True)]


def test_a_single_finished_delivery_is_acknowledged_alone() -> None:
    window = AckWindow()
    window.finish(1)
    assert window.take() == [Settlement(1, multiple=False)]


def test_a_nack_in_the_middle_goes_out_alone_and_before_the_ack_that_passes_it() -> None:
    window = AckWindow()
    window.finish(1)
    window.finish(2, requeue=True)
    window.finish(3)
    assert window.take() == [Settlement(2, requeue=True), Settlement(3, multiple=True)]


def test_a_nack_behind_an_open_delivery_goes_out_at_once_and_is_skipped_later() -> None:
    window = AckWindow()
    window.finish(2, requeue=False)
    window.finish(3)
    assert window.take() == [Settlement(2, requeue=False)]
    window.finish(1)
    assert window.take() == [Settlement(3, multiple=True)]


def test_finished_ones_held_behind_a_slow_one_are_acknowledged_one_by_one_past_the_limit() -> None:
    window = AckWindow(held_behind_a_gap=2)
    window.finish(2)
    window.finish(3)
    assert window.take() == []  # two held: the limit, not past it
    window.finish(4)
    assert window.take() == [Settlement(2), Settlement(3), Settlement(4)]
    window.finish(1)
    window.finish(6)
    # 2-4 are settled: the run from 1 passes them, and 5 (open) stops it before 6.
    assert window.take() == [Settlement(1)]
    window.finish(5)
    assert window.take() == [Settlement(6, multiple=True)]


def test_at_stop_every_finished_one_is_acknowledged_whatever_is_still_open() -> None:
    window = AckWindow()
    for tag in (1, 2, 4, 6):
        window.finish(tag)
    assert window.take(everything=True) == [
        Settlement(2, multiple=True),
        Settlement(4),
        Settlement(6),
    ]
    assert window.waiting == 0


def test_a_delivery_that_never_ends_stops_the_grouping_and_nothing_piles_up() -> None:
    window = AckWindow(held_behind_a_gap=1, stuck_after=4)
    for tag in (2, 3):
        window.finish(tag)
    assert window.take() == [Settlement(2), Settlement(3)]
    assert window.grouping
    for tag in (4, 5):
        window.finish(tag)
    assert window.take() == [Settlement(4), Settlement(5)]
    assert not window.grouping  # 1 stayed open behind four settled ones
    for tag in (7, 6, 1):
        window.finish(tag)
    assert window.take() == [Settlement(1), Settlement(6), Settlement(7)]
    window.finish(8, requeue=True)
    window.finish(9)
    assert window.take() == [Settlement(8, requeue=True), Settlement(9)]


@pytest.mark.parametrize("tag", [0, 1, 2])
def test_a_delivery_settled_already_is_refused_and_changes_nothing(tag: int) -> None:
    window = AckWindow()
    window.finish(1)
    window.finish(2, requeue=True)
    assert window.take() == [Settlement(2, requeue=True), Settlement(1)]
    window.finish(3)
    with pytest.raises(ValueError, match=f"delivery {tag} was settled already"):
        window.finish(tag)
    assert window.take() == [Settlement(3)]


class StandInChannel:
    """What settle uses of an aiormq channel; ``error`` makes the next frame fail (every frame
    when ``closes``: the error closed the channel)."""

    def __init__(
        self,
        error: BaseException | None = None,
        *,
        closes: bool = True,
        close_error: Exception | None = None,
    ) -> None:
        self.error = error
        self.closes = closes
        self.close_error = close_error  # closing it fails with this, leaving it open
        self.is_closed = False
        self.sent: list[tuple[str, int, Any]] = []
        self.closed_for: BaseException | None = None

    def _fail(self) -> None:
        error = self.error
        if error is None:
            return
        if self.closes:
            self.is_closed = True
        else:
            self.error = None
        raise error

    async def basic_ack(self, delivery_tag: int, multiple: bool = False) -> None:
        self.sent.append(("ack", delivery_tag, multiple))
        self._fail()

    async def basic_nack(self, delivery_tag: int, requeue: bool = True) -> None:
        self.sent.append(("nack", delivery_tag, requeue))
        self._fail()

    async def close(self, exc: BaseException | None = None) -> None:
        if self.close_error is not None:
            raise self.close_error
        self.is_closed = True
        self.closed_for = exc


class StandInMessage:
    message_id = "m-1"

    def __init__(self, channel: StandInChannel | Exception, delivery_tag: int | None) -> None:
        self._channel = channel
        self.delivery_tag = delivery_tag

    @property
    def channel(self) -> StandInChannel:
        if isinstance(self._channel, Exception):
            raise self._channel
        return self._channel


async def _settle(channel: StandInChannel | Exception, tag: int, **kwargs: Any) -> None:
    await settle(cast(AbstractIncomingMessage, StandInMessage(channel, tag)), **kwargs)


async def test_messages_ending_in_one_turn_are_acknowledged_together_per_channel() -> None:
    old, new = StandInChannel(), StandInChannel()
    for tag in (1, 2, 3):
        await _settle(old, tag)
    # A reopened channel numbers its deliveries from 1 again: its own window.
    await _settle(new, 1)
    await _settle(new, 2, requeue=True)
    assert old.sent == [] and new.sent == []  # sent on the loop's next turn
    await settle_finished()
    assert old.sent == [("ack", 3, True)]
    assert new.sent == [("nack", 2, True), ("ack", 1, False)]


@pytest.mark.parametrize(
    "error", [ChannelInvalidStateError("No active transport in channel"), ConnectionClosed(320, "")]
)
async def test_an_ack_on_a_lost_channel_is_given_up_quietly(error: Exception) -> None:
    lost = StandInChannel(error)
    await _settle(lost, 1)
    await _settle(lost, 2)
    await asyncio.sleep(0)  # the sender's turn
    await settle_finished()
    await _settle(lost, 3)
    await settle_finished()
    # One attempt; nothing more is sent on the lost channel (its messages come again).
    assert lost.sent == [("ack", 2, True)]
    # A message whose channel is closed already: nothing to send it on, and no error.
    await _settle(ChannelInvalidStateError("closed"), 1)


async def test_a_drain_cancelled_by_the_channel_closing_is_given_up_quietly() -> None:
    closed_here = StandInChannel(asyncio.CancelledError())
    await _settle(closed_here, 1)
    await settle_finished()  # no CancelledError: the stop goes on
    await _settle(closed_here, 2)
    await settle_finished()
    assert closed_here.sent == [("ack", 1, False)]


@pytest.mark.parametrize(
    "error", [ValueError("a bug"), RuntimeError("a bug"), ChannelInvalidStateError("a bug")]
)
async def test_an_error_on_an_open_channel_is_raised_and_the_channel_is_closed(
    error: Exception,
) -> None:
    broken = StandInChannel(error, closes=False)
    await _settle(broken, 2, requeue=True)
    await _settle(broken, 3, requeue=True)
    with pytest.raises(type(error), match="a bug"):
        await settle_finished()
    # The nack of 3 was taken but never sent: left open, the channel would keep delivery 3
    # unacknowledged (a prefetch slot held) until it ended. Closed, the broker delivers 2
    # and 3 again on the reopened channel; nothing more is sent on this one.
    assert broken.is_closed
    assert isinstance(broken.closed_for, AckBatchFailed)
    assert "a bug" in str(broken.closed_for)
    await _settle(broken, 1)
    await _settle(broken, 4)
    await settle_finished()
    assert broken.sent == [("nack", 2, True)]


async def test_a_channel_that_cannot_be_closed_after_a_failed_batch_acks_one_by_one() -> None:
    broken = StandInChannel(ValueError("a bug"), closes=False, close_error=RuntimeError("no"))
    await _settle(broken, 2, requeue=True)
    await _settle(broken, 3, requeue=True)
    with pytest.raises(ValueError, match="a bug"):
        await settle_finished()
    # Still open: no multiple ack may cover the nack of 3 that may not have gone out, and the
    # channel keeps acknowledging (it is not taken for lost).
    assert not broken.is_closed
    await _settle(broken, 1)
    await _settle(broken, 4)
    await settle_finished()
    assert broken.sent == [("nack", 2, True), ("ack", 1, False), ("ack", 4, False)]


async def test_a_message_taken_without_acknowledgement_is_refused_clearly() -> None:
    channel = StandInChannel()
    with pytest.raises(ValueError, match="taken without acknowledgement"):
        await settle(cast(AbstractIncomingMessage, StandInMessage(channel, None)))
    await _settle(channel, 1)
    await settle_finished()
    assert channel.sent == [("ack", 1, False)]


class SlowNackChannel(StandInChannel):
    """A channel whose first nack frame is out only once ``out`` is set; ``draining`` is set
    when that nack starts."""

    def __init__(self) -> None:
        super().__init__()
        self.draining = asyncio.Event()
        self.out = asyncio.Event()

    async def basic_nack(self, delivery_tag: int, requeue: bool = True) -> None:
        if not self.draining.is_set():
            self.draining.set()
            await self.out.wait()
        self.sent.append(("nack", delivery_tag, requeue))


async def test_an_ack_that_passes_a_nack_waits_until_the_nack_is_out() -> None:
    channel = SlowNackChannel()
    await _settle(channel, 2, requeue=True)
    await channel.draining.wait()  # the sender took the nack and is sending it
    await _settle(channel, 1)
    await _settle(channel, 3)
    stopping = asyncio.ensure_future(settle_finished())
    done, _ = await asyncio.wait([stopping], timeout=0.05)
    assert not done and channel.sent == []  # ack(3, multiple) would cover 2 if it went first
    channel.out.set()
    await stopping
    assert channel.sent == [("nack", 2, True), ("ack", 3, True)]


async def test_a_stop_cancelled_while_a_nack_drains_still_sends_the_rest_of_its_batch() -> None:
    # 1 is being handled; 2 and 3 are to be requeued; the stop sending their nacks is
    # cancelled during the nack of 2. The nack of 3 must still go out before any ack that
    # passes it: otherwise ack(4, multiple) would acknowledge 2 and 3 instead of requeuing them.
    channel = SlowNackChannel()

    async def stop() -> None:
        await _settle(channel, 2, requeue=True)
        await _settle(channel, 3, requeue=True)
        await settle_finished()

    stopping = asyncio.ensure_future(stop())
    await channel.draining.wait()
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopping
    await _settle(channel, 1)
    await _settle(channel, 4)
    channel.out.set()
    await settle_finished()
    assert channel.sent == [("nack", 2, True), ("nack", 3, True), ("ack", 4, True)]


async def test_a_batch_failing_in_the_background_closes_the_channel() -> None:
    broken = StandInChannel(RuntimeError("a bug"), closes=False)
    await _settle(broken, 2, requeue=True)
    await _settle(broken, 3, requeue=True)

    async def closed() -> bool:
        return broken.is_closed

    # The sender's nack of 2 failed (logged), 3 unsent: the channel is closed for the broker
    # to deliver them again.
    await eventually(closed, until=bool, timeout=5, interval=0.001)
    await _settle(broken, 1)
    await settle_finished()
    assert broken.sent == [("nack", 2, True)]


async def eventually_sent(channel: StandInChannel, count: int) -> None:
    async def probe() -> int:
        return len(channel.sent)

    await eventually(probe, until=lambda sent: sent >= count, timeout=5, interval=0.001)
