"""Grouped acknowledgements (shared/messaging/acks.py): which frames a channel's finished
deliveries allow (pure), and how they are sent on stand-in channels (no broker)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from aio_pika.abc import AbstractIncomingMessage
from aiormq.exceptions import ChannelInvalidStateError, ConnectionClosed

from shared.messaging.acks import AckWindow, Settlement, settle, settle_finished


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
    window = AckWindow(held_behind_a_gap=3)
    window.finish(2)
    window.finish(3)
    assert window.take() == []
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
    window = AckWindow(held_behind_a_gap=2, stuck_after=4)
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
    """What settle uses of an aiormq channel; ``error`` makes every frame fail."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.is_closed = False
        self.sent: list[tuple[str, int, Any]] = []

    async def basic_ack(self, delivery_tag: int, multiple: bool = False) -> None:
        self.sent.append(("ack", delivery_tag, multiple))
        if self.error is not None:
            raise self.error

    async def basic_nack(self, delivery_tag: int, requeue: bool = True) -> None:
        self.sent.append(("nack", delivery_tag, requeue))
        if self.error is not None:
            raise self.error


class StandInMessage:
    message_id = "m-1"

    def __init__(self, channel: StandInChannel | Exception, delivery_tag: int) -> None:
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


async def test_any_other_error_is_not_hidden() -> None:
    broken = StandInChannel(ValueError("a bug"))
    await _settle(broken, 1)
    with pytest.raises(ValueError, match="a bug"):
        await settle_finished()


class SlowNackChannel(StandInChannel):
    """A channel whose nack frame is out only once ``out`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.out = asyncio.Event()

    async def basic_nack(self, delivery_tag: int, requeue: bool = True) -> None:
        await self.out.wait()
        self.sent.append(("nack", delivery_tag, requeue))


async def test_an_ack_that_passes_a_nack_waits_until_the_nack_is_out() -> None:
    channel = SlowNackChannel()
    await _settle(channel, 2, requeue=True)
    for _ in range(3):
        await asyncio.sleep(0)  # the sender takes the nack and sends it
    await _settle(channel, 1)
    await _settle(channel, 3)
    stopping = asyncio.ensure_future(settle_finished())
    for _ in range(3):
        await asyncio.sleep(0)
    assert channel.sent == []  # ack(3, multiple) would cover delivery 2 if it went first
    channel.out.set()
    await stopping
    assert channel.sent == [("nack", 2, True), ("ack", 3, True)]
