"""A consumer's handler for the bench's messaging probes: it does nothing with a message but
count it, and says when a given number have come."""

from __future__ import annotations

import asyncio
from typing import Any

from shared.contracts import Envelope


class CountUntil:
    """Counts the messages handed to it until ``target``; :meth:`wait` returns once they have
    all come, or raises :class:`TimeoutError` at its deadline."""

    def __init__(self, target: int) -> None:
        if target < 1:
            raise ValueError(f"a count to wait for must be 1 or more, not {target}")
        self.target = target
        self.count = 0
        self._reached = asyncio.Event()

    async def __call__(self, envelope: Envelope, payload: Any) -> None:
        self.count += 1
        if self.count >= self.target:
            self._reached.set()

    async def wait(self, timeout: float) -> None:
        await asyncio.wait_for(self._reached.wait(), timeout)
