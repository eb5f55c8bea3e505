"""Acknowledging consumed messages in groups: one ``basic.ack(multiple=True)`` for a run of
finished deliveries instead of a frame (and, on a quorum queue, a settle command in the broker)
per message.

Every way a message ends (applied, a duplicate ignored, moved to a retry or parking queue,
requeued because the broker could not take its copy, an RPC request answered) is
:func:`settle`, called once the handler's transaction committed or the copy was confirmed. A
message whose handling is cancelled with its channel (a lost connection) is not settled: the
broker delivers it again. :func:`settle` records the outcome with the message's channel; the
channel's :class:`ChannelAcks` sends, on the next turn of the event loop, what the outcomes
recorded so far allow:

- a ``multiple`` ack acknowledges every unacknowledged delivery of the channel up to its tag, so
  it only ever covers a run of finished deliveries starting at the lowest one still open (a
  channel's delivery tags are consecutive from 1); a message still being handled stops the run;
- a negative outcome (a requeue) goes out as a frame of its own, before any ack that could
  pass it, so no ack ever covers it;
- when a message takes long, the finished ones behind it would hold the prefetch's slots: at
  most :data:`HELD_BEHIND_A_GAP` of them wait; more are acknowledged each by a frame of its own
  (``multiple`` off), so their slots free at once while the slow one goes on;
- a batch of frames, once decided, is sent to its end even if the task sending it is cancelled;
  a batch that stops partway for any other reason than a lost channel turns the channel's
  grouping off for good, so no later ``multiple`` ack can cover a nack that never went out,
  and closes the channel: its unsent frames' deliveries would otherwise stay unacknowledged,
  each holding a prefetch slot, until the channel ends; closed, the robust channel reopens and
  the broker delivers them again (handled as duplicates).

Delivery tags belong to a channel: a channel reopened after a reconnection is a new channel
with a window of its own, and its old one's messages are delivered again by the broker. Every
delivery on a channel read through :func:`settle` must end in it: a reader taking messages
without acknowledgement (RPC replies, the dashboard's feed) has a channel of its own; were one
to share it, its deliveries would stop the runs, and the acknowledgements would go out one by
one (never wrongly).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterable
from dataclasses import dataclass

from aio_pika.abc import AbstractIncomingMessage
from aio_pika.exceptions import AMQPError
from aiormq.abc import AbstractChannel

from shared.logging import get_logger

log = get_logger("tsdx.messaging")

# Finished deliveries that may wait behind one still being handled before they are
# acknowledged one by one: at most this many of the prefetch's slots are held by them.
HELD_BEHIND_A_GAP = 16

# Deliveries settled one by one behind the same open delivery after which that one is taken
# never to end (not a delivery of a reader that settles, or one whose reader failed): the
# channel's later deliveries are then acknowledged each by a frame of its own (no ``multiple``
# ack, which would cover the open one), and the window stops remembering which were settled
# apart (its memory would grow with every message).
STUCK_AFTER = 10_000

# What settling may raise when the channel or its connection is gone (the broker then delivers
# its unacknowledged messages again: handlers are idempotent). Taken for a lost channel only
# if the channel is indeed gone or closed after it; a closing channel also cancels the frame
# being drained.
LOST = (AMQPError, ConnectionError, RuntimeError)


class AckBatchFailed(AMQPError):
    """Why a channel was closed after an acknowledgement batch failed on it partway."""


@dataclass(frozen=True)
class Settlement:
    """One frame to send: an ack (``requeue`` None) or a nack of ``tag``."""

    tag: int
    multiple: bool = False
    requeue: bool | None = None


class AckWindow:
    """Which of one channel's deliveries can be settled, and by which frames (no I/O)."""

    def __init__(
        self, held_behind_a_gap: int = HELD_BEHIND_A_GAP, stuck_after: int = STUCK_AFTER
    ) -> None:
        self._lowest_open = 1  # every tag below is settled (or sent to be)
        self._acked: set[int] = set()  # finished, to acknowledge
        self._refused: dict[int, bool] = {}  # finished, to nack (tag -> requeue)
        self._settled_apart: set[int] = set()  # above the lowest open, sent on their own
        self._held = held_behind_a_gap
        self._stuck_after = stuck_after
        self._one_by_one = False  # the lowest open delivery was given up on

    @property
    def waiting(self) -> int:
        """Finished deliveries whose frame is not decided yet."""
        return len(self._acked) + len(self._refused)

    @property
    def grouping(self) -> bool:
        return not self._one_by_one

    def finish(self, tag: int, requeue: bool | None = None) -> None:
        """Delivery ``tag`` ended: to acknowledge (``requeue`` None) or to nack."""
        if (
            tag < self._lowest_open
            or tag in self._acked
            or tag in self._refused
            or tag in self._settled_apart
        ):
            raise ValueError(f"delivery {tag} was settled already")
        if requeue is None:
            self._acked.add(tag)
        else:
            self._refused[tag] = requeue

    def take(self, *, everything: bool = False) -> list[Settlement]:
        """The frames the finished deliveries allow now, in the order to send them; those
        deliveries count as settled from here on. ``everything``: the finished ones behind a
        delivery still open are acknowledged one by one whatever their number (at stop)."""
        refused = sorted(self._refused.items())
        frames = [Settlement(tag, requeue=requeue) for tag, requeue in refused]
        self._settle_apart(self._refused)
        self._refused.clear()
        if self._one_by_one:
            frames.extend(Settlement(tag) for tag in sorted(self._acked))
            self._acked.clear()
            return frames
        highest = None
        covered = 0
        tag = self._lowest_open
        while True:
            if tag in self._acked:
                self._acked.remove(tag)
                highest, covered = tag, covered + 1
            elif tag in self._settled_apart:
                self._settled_apart.remove(tag)
            else:
                break
            tag += 1
        self._lowest_open = tag
        if highest is not None:
            frames.append(Settlement(highest, multiple=covered > 1))
        if self._acked and (everything or len(self._acked) > self._held):
            frames.extend(Settlement(tag) for tag in sorted(self._acked))
            self._settle_apart(self._acked)
            self._acked.clear()
        return frames

    def _settle_apart(self, tags: Iterable[int]) -> None:
        if self._one_by_one:
            return
        self._settled_apart.update(tags)
        if len(self._settled_apart) >= self._stuck_after:
            self.one_by_one_from_now()

    @property
    def lowest_open(self) -> int:
        return self._lowest_open

    def one_by_one_from_now(self) -> None:
        """No multiple ack from here on (a frame taken may not have gone out, or the lowest
        open delivery never ends): the window needs no memory of what was settled apart."""
        self._one_by_one = True
        self._settled_apart.clear()


class ChannelAcks:
    """The acknowledgements of one channel: outcomes recorded as messages end, their frames
    decided and sent one batch at a time, so frames go out in the order they were decided (a
    batch's ack may pass a delivery nacked or acknowledged alone by an earlier batch only once
    that one's frame is out)."""

    def __init__(self, channel: AbstractChannel) -> None:
        # Weak: the channels' table forgets a closed channel once aiormq and aio-pika let go.
        self._channel = weakref.ref(channel)
        self._number = getattr(channel, "number", None)  # for the logs
        self._window = AckWindow()
        self._sender: asyncio.Task[None] | None = None
        self._one_batch_at_a_time = asyncio.Lock()
        self._lost = False
        self._unfinished: asyncio.Future[None] | None = None  # a batch still going out

    def finish(self, tag: int, requeue: bool | None) -> None:
        if self._lost:
            return  # the channel is gone: its messages come again on a new one
        self._window.finish(tag, requeue)
        if self._sender is None:
            # A task's first step runs on the loop's next turn: every message that ends in
            # this turn goes out with the same frame.
            self._sender = asyncio.get_running_loop().create_task(self._send())

    async def settle_finished(self) -> None:
        """Send now every finished one's frame (stop: nothing finished is left unacknowledged)."""
        await self._send_batch(everything=True)

    async def _send(self) -> None:
        try:
            # While a batch drains, more messages end: they go out together next.
            while await self._send_batch(everything=False):
                pass
        except Exception:
            pass  # logged where the batch failed; the next message to end starts a sender again
        finally:
            self._sender = None

    async def _send_batch(self, *, everything: bool) -> bool:
        """Decide and send the frames the window allows now; False when there were none."""
        async with self._one_batch_at_a_time:
            if self._unfinished is not None:
                # A batch whose sender was cancelled goes on: the next one waits for its end.
                await asyncio.wait([self._unfinished])
                self._unfinished = None
            if self._lost:
                return False
            grouping = self._window.grouping
            frames = self._window.take(everything=everything)
            if grouping and not self._window.grouping:
                log.warning(
                    "message.acks_one_by_one",
                    reason="stuck",
                    channel=self._number,
                    lowest_open=self._window.lowest_open,
                )
            if not frames:
                return False
            # Shielded: the frames taken count as settled, so they all go out (or the channel
            # stops grouping) even if the task that took them is cancelled.
            batch = asyncio.ensure_future(self._send_frames(frames))
            batch.add_done_callback(_seen)
            self._unfinished = batch
            await asyncio.shield(batch)
            self._unfinished = None
            return True

    async def _send_frames(self, frames: list[Settlement]) -> None:
        channel = self._channel()
        for sent, frame in enumerate(frames):
            try:
                if channel is None:
                    raise RuntimeError("the channel is gone")
                if frame.requeue is None:
                    await channel.basic_ack(frame.tag, multiple=frame.multiple)
                else:
                    await channel.basic_nack(frame.tag, requeue=frame.requeue)
            except BaseException as exc:
                unsent = len(frames) - sent - 1
                gone = channel is None or channel.is_closed
                if gone and isinstance(exc, (*LOST, asyncio.CancelledError)):
                    self._lost = True
                    log.warning(
                        "message.settle_lost",
                        delivery_tag=frame.tag,
                        multiple=frame.multiple,
                        unsent=unsent,
                        error=repr(exc),
                    )
                    return
                # The channel stays open with this frame and the rest of the batch perhaps not
                # sent: a later multiple ack could cover one of them (a nack): none from now on.
                self._window.one_by_one_from_now()
                log.error(
                    "message.acks_one_by_one",
                    reason="batch_failed",
                    channel=self._number,
                    delivery_tag=frame.tag,
                    multiple=frame.multiple,
                    requeue=frame.requeue,
                    unsent=unsent,
                    error=repr(exc),
                )
                if channel is not None:
                    await self._close_after_a_failed_batch(channel, exc)
                raise

    async def _close_after_a_failed_batch(
        self, channel: AbstractChannel, failure: BaseException
    ) -> None:
        """The taken frames count as settled: the deliveries of those not sent would stay
        unacknowledged, each holding a prefetch slot, as long as the channel lives. Closed, it
        gives them back to the broker, which delivers them again (the robust channel reopens;
        handlers take them as duplicates). Not a cancellation: the robust channel reopens only
        after a close for a reason."""
        try:
            await channel.close(AckBatchFailed(f"an acknowledgement batch failed: {failure!r}"))
        except Exception as exc:
            # Still open: it goes on acknowledging one by one (its grouping is off).
            log.error("message.acks_close_failed", channel=self._number, error=repr(exc))
        if channel.is_closed:
            self._lost = True


def _seen(batch: asyncio.Future[None]) -> None:
    """A batch's failure is logged where it happens; one whose sender was cancelled is not
    awaited by anyone, so its exception is taken here to keep asyncio from reporting it."""
    if not batch.cancelled():
        batch.exception()


_BY_CHANNEL: weakref.WeakKeyDictionary[AbstractChannel, ChannelAcks] = weakref.WeakKeyDictionary()


async def settle(message: AbstractIncomingMessage, *, requeue: bool | None = None) -> None:
    """Acknowledge (``requeue`` None) or reject a message once it ended; sent with the other
    finished ones of its channel (see the module). On a channel lost with its connection that
    is no longer possible, and not needed: the broker delivers the message again."""
    try:
        channel = message.channel
    except LOST as exc:
        log.warning("message.settle_lost", message_id=message.message_id, error=repr(exc))
        return
    if message.delivery_tag is None:
        raise ValueError(
            f"message {message.message_id} was taken without acknowledgement: nothing to settle"
        )
    acks = _BY_CHANNEL.get(channel)
    if acks is None:
        acks = _BY_CHANNEL[channel] = ChannelAcks(channel)
    acks.finish(message.delivery_tag, requeue)


async def settle_finished() -> None:
    """Send the acknowledgements of every message finished so far, on every channel."""
    for acks in list(_BY_CHANNEL.values()):
        try:
            await acks.settle_finished()
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # this stop itself was cancelled
            # A channel closed on our side cancels the frame it was draining: the stop goes
            # on (its unacknowledged messages come again).
            log.warning("message.settle_cancelled", error="the channel's drain was cancelled")
