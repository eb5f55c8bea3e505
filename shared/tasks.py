"""Stopping the background tasks a part of a service runs (periodic checks, flushes)."""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancel every task given (``None`` for one never started) and wait until each has
    ended, so that a stop returns only once nothing of the part runs any more. A task's own
    cancellation is expected; the first other failure a task ended with is raised once all
    have ended. A cancellation of the caller itself goes on to the caller."""
    running = [task for task in tasks if task is not None]
    for task in running:
        task.cancel()
    ended = await asyncio.gather(*running, return_exceptions=True)
    for outcome in ended:
        if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
            raise outcome
