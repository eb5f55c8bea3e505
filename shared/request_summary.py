"""Requests that found nothing new are counted, not logged one by one.

A terminal polls its inbox every few seconds all day long; a line for each poll that found
nothing would drown the lines that matter. An endpoint counts its requests by outcome here
(:data:`SUMMARIES`) and marks the ones that found nothing :func:`quiet`: the canonical request
line is left out for those. Every interval each process writes one ``<name>.summary`` line
with the counts by outcome. A quiet request that fails (status 400 and up) is logged as always.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import MutableMapping
from typing import Any

from shared.logging import get_logger
from shared.tasks import cancel_and_wait

log = get_logger("tsdx.http")

_QUIET = "tsdx.quiet"


def quiet(scope: MutableMapping[str, Any]) -> None:
    """Leave this request out of the log (it is counted in a summary instead)."""
    scope[_QUIET] = True


def is_quiet(scope: MutableMapping[str, Any]) -> bool:
    return bool(scope.get(_QUIET))


class Summaries:
    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()
        self._since = time.monotonic()
        self._task: asyncio.Task[None] | None = None

    def count(self, name: str, outcome: str) -> None:
        self._counts[(name, outcome)] += 1

    def flush(self) -> None:
        """One line per name counted since the last flush; nothing when nothing was counted."""
        now = time.monotonic()
        by_name: dict[str, dict[str, int]] = {}
        for (name, outcome), n in sorted(self._counts.items()):
            by_name.setdefault(name, {})[outcome] = n
        for name, counts in by_name.items():
            log.info(
                f"{name}.summary",
                seconds=round(now - self._since, 1),
                total=sum(counts.values()),
                **counts,
            )
        self._counts.clear()
        self._since = now

    def start(self, interval: float) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._every(interval), name="request-summaries")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
        self.flush()

    async def _every(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            self.flush()


# One per process, as the metrics are.
SUMMARIES = Summaries()
