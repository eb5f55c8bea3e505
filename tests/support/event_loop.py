"""The event loop as tests of when work starts see it: work held on its thread, as a handler's
SQLite statements are (the loop runs nothing else meanwhile), and its turns counted."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


def busy_for(seconds: float) -> None:
    """Hold the calling thread for ``seconds`` of work (spinning, not sleeping)."""
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        pass


class Turns:
    """How many turns the event loop has taken since counting began."""

    def __init__(self) -> None:
        self.count = 0

    async def _tick(self) -> None:
        while True:
            self.count += 1
            await asyncio.sleep(0)


@asynccontextmanager
async def counting_turns() -> AsyncIterator[Turns]:
    """The loop's turns counted while the block runs (a task that counts one each turn)."""
    turns = Turns()
    ticking = asyncio.create_task(turns._tick())
    await asyncio.sleep(0)
    try:
        yield turns
    finally:
        ticking.cancel()
