"""The outbox relay's batches in flight: published from its memory, their confirms awaited.

A quorum queue confirms a publish after a disk write (milliseconds under load), and meanwhile
more transactions commit. The relay publishes them at once rather than after the earlier
batches' confirms, up to a few batches in flight (:mod:`shared.outbox_relay`), and settles the
batches in the order they were published: the confirmed ones at the head are deleted from the
outbox in one commit. A batch that failed is sent again with every batch after it, in their
order, once all of them ended: the same as a failure within one batch, where the whole batch is
sent again (consumers take a repeated id as a duplicate).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

from shared.messaging.broker import BrokerUnavailable
from shared.outbox import Outgoing


class Batch:
    """Events published together, and their publishes' outcomes once all of them ended."""

    __slots__ = ("_sends", "events")

    def __init__(
        self, events: Sequence[Outgoing], sends: asyncio.Future[list[BaseException | None]]
    ) -> None:
        self.events = events
        self._sends = sends

    @property
    def ended(self) -> bool:
        return self._sends.done()

    def failure(self) -> Exception | None:
        """Why the batch is not confirmed, once it ended: None if every publish was."""
        if self._sends.cancelled():
            return BrokerUnavailable("publish cancelled")
        error = self._sends.exception()  # a gather cancelled ends with its CancelledError
        if error is not None:
            return error if isinstance(error, Exception) else BrokerUnavailable(repr(error))
        for outcome in self._sends.result():
            if isinstance(outcome, Exception):
                return outcome
            if isinstance(outcome, BaseException):  # a publish cancelled under it
                return BrokerUnavailable(f"publish ended: {outcome!r}")
        return None

    async def wait(self) -> None:
        # asyncio.wait leaves the publishes be when the waiter is cancelled.
        await asyncio.wait({self._sends})

    def cancel(self) -> None:
        self._sends.cancel()


class InFlight:
    """Batches published and not yet settled, oldest first; at most ``limit`` of them."""

    def __init__(self, limit: int, on_end: Callable[[], None]) -> None:
        if limit < 1:
            raise ValueError(f"at least one batch must be let in flight, not {limit}")
        self._limit = limit
        self._on_end = on_end  # wakes the relay: a batch at the head may be settled
        self._batches: deque[Batch] = deque()

    def __len__(self) -> int:
        return len(self._batches)

    def has_room(self) -> bool:
        return len(self._batches) < self._limit

    def has_failed(self) -> bool:
        """A batch in flight ended unconfirmed: what comes after it waits to be sent again."""
        return any(batch.ended and batch.failure() is not None for batch in self._batches)

    def launch(
        self, events: Sequence[Outgoing], publish: Callable[[Outgoing], Awaitable[None]]
    ) -> None:
        """Starts the batch's publishes now, in order: the tasks start in the order they are
        made, and a channel writes its publishes in the order they start, so the broker gets
        them in commit order, after those of the batches launched before."""
        sends = asyncio.gather(*(publish(event) for event in events), return_exceptions=True)
        sends.add_done_callback(lambda _: self._on_end())
        self._batches.append(Batch(events, sends))

    def ended_at_head(self) -> list[Batch]:
        """The batches at the head that ended, oldest first, up to the first still going."""
        ended = []
        for batch in self._batches:
            if not batch.ended:
                break
            ended.append(batch)
        return ended

    def drop_head(self, count: int) -> None:
        for _ in range(count):
            self._batches.popleft()

    async def head_ended(self) -> None:
        if self._batches:
            await self._batches[0].wait()

    async def all_ended(self) -> None:
        for batch in list(self._batches):
            await batch.wait()

    def clear(self) -> None:
        self._batches.clear()

    def cancel(self) -> None:
        """Gives up on every batch (the relay ends): their rows stay in the outbox."""
        for batch in self._batches:
            batch.cancel()
        self._batches.clear()
