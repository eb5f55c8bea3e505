"""Forgetting, after a while, which messages were applied.

Each consumer's transaction records the id of the message it applies (``applied_messages``,
shared/outbox.py), so that a redelivery changes nothing. A redelivery comes within seconds or
minutes of the delivery it repeats: an acknowledgement lost with its connection, a relay
sending again a row it could not delete. A parked message was never applied (its transaction
rolled back), so replaying it days later repeats nothing. Kept for ever, the rows would grow
by one for every message consumed, for as long as the service runs: a row older than
``TSDX_APPLIED_MESSAGES_DAYS`` (30) is deleted.

No index on the time is kept up for this, as every message would pay for it: a pass reads the
rows a page at a time in the order of their ids (the primary key), deletes the old ones of
each page in one transaction, and pauses between pages so that the service's own work goes
first. A pass starts once a day, and when the service starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from shared.logging import get_logger
from shared.outbox import APPLIED
from shared.storage import StorageError, Store
from shared.tasks import cancel_and_wait

log = get_logger("tsdx.applied")

PAGE = 500
PAUSE_SECONDS = 0.2  # between pages: a pass over a million rows takes under 7 minutes
EVERY = timedelta(days=1)


def old_ids(rows: list[dict[str, object]], cutoff: str) -> list[str]:
    """The ids of the rows applied before ``cutoff`` (an ISO time in UTC, as ``at`` is
    written); a row without its time is old."""
    return [str(row["id"]) for row in rows if str(row.get("at") or "") < cutoff]


class AppliedPruner:
    def __init__(
        self,
        store: Store,
        keep: timedelta,
        *,
        page: int = PAGE,
        pause: float = PAUSE_SECONDS,
        every: timedelta = EVERY,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._keep = keep
        self._page = page
        self._pause = pause
        self._every = every
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="applied-pruner")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _run(self) -> None:
        while True:
            try:
                await self.prune()
            except StorageError as exc:  # the store away: the next pass tries again
                log.warning("applied.prune_failed", error=str(exc))
            except Exception:  # never let the pruner die: the next pass tries again
                log.exception("applied.prune_error")
            await asyncio.sleep(self._every.total_seconds())

    async def prune(self) -> int:
        """One pass over the rows; returns how many it deleted."""
        cutoff = (self._clock() - self._keep).isoformat()
        after = ""  # every id sorts above it
        deleted = 0
        while True:
            rows = await self._store.find(
                APPLIED.name, order_by="id", limit=self._page, above=("id", after)
            )
            old = old_ids(rows, cutoff)
            if old:
                async with self._store.transaction() as db:
                    for message_id in old:
                        await db.delete(APPLIED.name, message_id)
                deleted += len(old)
            if len(rows) < self._page:
                break
            after = str(rows[-1]["id"])
            await asyncio.sleep(self._pause)
        if deleted:
            log.info("applied.pruned", deleted=deleted, applied_before=cutoff)
        return deleted
