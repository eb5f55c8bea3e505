"""When a consumer's deliveries start: in the order they came, and no more in one turn of the
event loop than fit in a short budget.

Deliveries come in bursts (up to the prefetch at once), and a handler runs on the loop's
thread until its first real wait (the store is SQLite, in process). Started all in one turn, a
burst's handlers would hold off everything that became ready meanwhile (the outbox relay's
confirms and sends, answers to HTTP calls) until the last of them waits, and the services
would work by turns instead of at once. Started one a turn, cheap handlers (a duplicate, a
note) would finish one a turn, and their acknowledgements, grouped by turn
(shared/messaging/acks.py), would go one a frame. So a delivery starts at once while none
waits and less than :data:`BUDGET_SECONDS` has passed since the first start after the last
marker (a callback the first start schedules, which runs in the loop's next turn); otherwise
it waits in line, and each marker lets the first in line go, to start in the turn after it:
while a line lasts, deliveries start one a turn, with whatever else was ready in between.
The budget is each reader's own (a service's work queue and RPC server each have one).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

# How long one turn's starts may hold the loop before the next delivery waits for a turn of
# its own: a few cheap handlers, or one that writes.
BUDGET_SECONDS = 0.001


class Admission:
    def __init__(self, budget: float = BUDGET_SECONDS) -> None:
        self._budget = budget
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._turn_began: float | None = None  # the first start of this turn (perf_counter)
        self._turn_end: asyncio.Handle | None = None

    async def admitted(self) -> None:
        """Return when the delivery may start."""
        if self._waiting or not self._fits():
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            self._end_turn_soon()
            try:
                await waiter
            finally:
                # Let go or cancelled, it leaves the line only now: until it starts, no
                # delivery that came later may start before it.
                self._waiting.remove(waiter)
                if self._waiting:
                    self._end_turn_soon()  # so the next is let go, were this one cancelled
        self._started()

    def _fits(self) -> bool:
        return self._turn_began is None or time.perf_counter() - self._turn_began < self._budget

    def _started(self) -> None:
        if self._turn_began is None:
            self._turn_began = time.perf_counter()
            self._end_turn_soon()

    def _end_turn_soon(self) -> None:
        if self._turn_end is None:
            self._turn_end = asyncio.get_running_loop().call_soon(self._turn_over)

    def _turn_over(self) -> None:
        """The marker: the first in line is let go, to start in the next turn (unless it was
        let go already, or cancelled, and has yet to leave the line), and the next marker is
        set for that turn, after it, while others wait."""
        self._turn_end = None
        self._turn_began = None
        if self._waiting and not self._waiting[0].done():
            self._waiting[0].set_result(None)
            if len(self._waiting) > 1:
                self._end_turn_soon()
