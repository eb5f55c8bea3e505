"""Writes the sightings due (``presence.py``) every ``FLUSH_EVERY``: all of them in one
transaction, and one ``device.seen`` per base carrying those of its devices to be announced (in
several when there are more than a message takes), instead of a transaction and a message per
device."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from services.gateway import repository as repo
from services.gateway.presence import FLUSH_EVERY, Due, Presence
from shared.contracts.directory import SIGHTINGS_PER_MESSAGE, DeviceSeen, Sighting
from shared.logging import get_logger
from shared.outbox import Tx, UnitOfWork
from shared.tasks import cancel_and_wait

log = get_logger("tsdx.gateway.sightings")


class SightingWriter:
    def __init__(
        self, uow: UnitOfWork, presence: Presence, every: float = FLUSH_EVERY.total_seconds()
    ) -> None:
        self._uow = uow
        self._presence = presence
        self._every = every
        self._task: asyncio.Task[None] | None = None

    async def flush(self) -> int:
        """Write the sightings due now; how many. One that fails is due again."""
        due = self._presence.take_due()
        if not due:
            return 0
        try:
            await self._uow.run(lambda tx: _write(tx, due))
        except BaseException:
            self._presence.put_back(due)
            raise
        return len(due)

    def start(self) -> None:
        self._task = asyncio.create_task(self._every_interval(), name="sightings")

    async def stop(self) -> None:
        """Stop, writing what is due (a clean stop loses no sighting)."""
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
        try:
            await self.flush()
        except Exception:
            log.exception("sightings.not_written")

    async def _every_interval(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                await self.flush()
            except Exception:  # the store busy or away: due again at the next interval
                log.exception("sightings.not_written")


async def _write(tx: Tx, due: list[Due]) -> None:
    by_tenant: dict[str, list[Sighting]] = defaultdict(list)
    for sighting in due:
        await repo.mark_seen(tx.db, sighting.device_id, sighting.at.isoformat())
        if sighting.announce:
            by_tenant[sighting.tenant].append(
                Sighting(device_id=sighting.device_id, at=sighting.at)
            )
    for tenant, sightings in by_tenant.items():
        for start in range(0, len(sightings), SIGHTINGS_PER_MESSAGE):
            chunk = sightings[start : start + SIGHTINGS_PER_MESSAGE]
            await tx.emit(DeviceSeen(sightings=chunk), tenant)
