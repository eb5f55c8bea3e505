"""Stopping the background tasks a part of a service runs (periodic checks, flushes)."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import Any


async def cancel_and_wait(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancel every task given (``None`` for one never started) and wait until each has
    ended, so that a stop returns only once nothing of the part runs any more. A task's own
    cancellation is expected; any other failure it ended with is raised."""
    running = [task for task in tasks if task is not None]
    for task in running:
        task.cancel()
    for task in running:
        with suppress(asyncio.CancelledError):
            await task
