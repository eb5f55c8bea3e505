"""Each base's list of known devices (the accounting side's "pick from the list").

A base knows every device one of its accepted uploads delivered a copy to, however the upload
named it (by PIN, by device id, or the base's only available device picked for it) and on either
channel, with the time of its latest such upload the list heard of. The decision keeps the list,
as it comes: with the routed copies of an internet upload asked through the gateway when it is
news to the list (``document.routed.internet.device_news``: routing tells the list of a device's
use at most about once a minute, services/routing/device_news.py, so the time may be that much
behind), by itself otherwise (``upload.decided``); a refused upload adds nothing. A replaced
device hands its place in the list to its successor. The list shows only the base's devices that
are active now, the latest used first.

Notes may come often (every upload answered by ``upload.decided``, and the news), so while they
do (the last transaction less than :data:`NOTES_WAIT_SECONDS`, 30 ms, ago) the notes of the
messages that arrive within that wait are written in one transaction (:class:`_Notes`), each
message acknowledged after it; a note after a quiet spell is written at the loop's next turn,
with whatever came in the same turn. If that transaction fails, each note is written by itself,
and only a message whose own note cannot be written fails (to be retried, then parked, by its
consumer). Noting is idempotent (the later use stays), so no record of the messages is kept
either: one delivered again notes what is noted already.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Any

from pydantic import ConfigDict

from services.registry import repository as repo
from services.registry.device_changes import ACTIVE, public_device
from services.registry.repository import KnownDevice
from shared.contracts import Envelope, Payload
from shared.contracts.uploads import DocumentRouted, DocumentRoutedV1, UploadDecided
from shared.outbox import UnitOfWork
from shared.storage import Session, StorageError, Store

# The most notes one transaction takes: as many messages as a service takes from the broker at
# once (its prefetch, by default).
NOTES_AT_MOST = 64
# How long a note waits for others before its transaction is written, while notes come often
# (the last transaction was written less than this long ago). A note is no one's answer (the
# list is read later, by the accounting side), so its message's acknowledgement may wait: at a
# hundred uploads a second a transaction and an acknowledgement then serve a few messages each
# instead of one. A note after a quiet spell is written at the loop's next turn, as no other is
# likely to come: its wait would cost a wake-up of its own and save nothing.
NOTES_WAIT_SECONDS = 0.03


class RoutedDecision(Payload):
    """What the device list reads of ``document.routed``: the decision it may carry, nothing
    else. The registry's consumer reads the message by this view (not registered as a message
    of its own), so the documents and copies are not validated for a list that never uses them."""

    model_config = ConfigDict(extra="ignore")

    TYPE = DocumentRouted.TYPE
    VERSION = DocumentRouted.VERSION

    decided: UploadDecided | None = None


@dataclass(frozen=True)
class _Note:
    """One message's note: the devices its upload reached, and when; settled once written."""

    tenant: str
    device_ids: list[str]
    used_at: str
    written: asyncio.Future[None]


class _Notes:
    """Uses of devices noted by the messages in hand, written in one transaction
    :data:`NOTES_WAIT_SECONDS` after the first of them was noted while notes come often (at the
    loop's next turn after a quiet spell), or once :data:`NOTES_AT_MOST` have. Each returns
    once the transaction holding its note committed, or raises its own error: a transaction of
    several that fails is tried again note by note, so one note that cannot be written fails
    only its own message, not the others written with it."""

    def __init__(self, uow: UnitOfWork, at_most: int, wait: float) -> None:
        self._uow = uow
        self._at_most = at_most
        self._wait = wait
        self._batch: list[_Note] = []
        self._due: asyncio.Handle | None = None
        self._last_written = -math.inf  # the loop's time of the last transaction begun
        self._writing: set[asyncio.Task[None]] = set()

    async def add(self, tenant: str, device_ids: list[str], used_at: str) -> None:
        loop = asyncio.get_running_loop()
        note = _Note(tenant, device_ids, used_at, loop.create_future())
        self._batch.append(note)
        if self._due is None:
            if loop.time() - self._last_written < self._wait:
                self._due = loop.call_later(self._wait, self._write)
            else:
                self._due = loop.call_soon(self._write)
        if len(self._batch) >= self._at_most:
            self._write()
        # Shielded: a handler cancelled while it waits must not cancel the others' write.
        await asyncio.shield(note.written)

    def _write(self) -> None:
        if self._due is not None:
            self._due.cancel()
        batch, self._batch, self._due = self._batch, [], None
        self._last_written = asyncio.get_running_loop().time()
        task = asyncio.create_task(self._commit(batch))
        self._writing.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self._writing.discard)

    async def _commit(self, batch: list[_Note]) -> None:
        try:
            error = await self._written_together(batch)
            if error is None or len(batch) == 1 or isinstance(error, StorageError):
                # A store away or refusing (StorageError) would fail each note alone too, after
                # its own wait: every message is retried by its consumer as it is.
                for note in batch:
                    _settle(note, error)
                return
            # Each note alone: a note that cannot be written (a damaged row, say) then fails
            # its own message only.
            for note in batch:
                _settle(note, await self._written_together([note]))
        except asyncio.CancelledError:
            for note in batch:
                note.written.cancel()  # does nothing to a note already settled
            raise

    async def _written_together(self, batch: list[_Note]) -> Exception | None:
        """Writes the notes in one transaction: None once it committed, else its error."""
        try:
            await self._uow.run(lambda tx: _write_notes(tx.db, batch))
        except Exception as exc:
            return exc
        return None


def _settle(note: _Note, error: Exception | None) -> None:
    if error is None:
        note.written.set_result(None)
    else:
        note.written.set_exception(error)
        note.written.exception()  # retrieved: its waiting handler may have been cancelled


async def _write_notes(db: Session, batch: list[_Note]) -> None:
    """The notes in one transaction, each device once with its latest use among them."""
    latest: dict[tuple[str, str], str] = {}
    for note in batch:
        for device_id in note.device_ids:
            key = (note.tenant, device_id)
            latest[key] = max(latest.get(key, note.used_at), note.used_at)
    for (tenant, device_id), used_at in latest.items():
        await _note(db, tenant, device_id, used_at)


class KnownDevices:
    def __init__(
        self,
        store: Store,
        uow: UnitOfWork,
        *,
        notes_at_most: int = NOTES_AT_MOST,
        notes_wait_seconds: float = NOTES_WAIT_SECONDS,
    ) -> None:
        self._store = store
        self._notes = _Notes(uow, notes_at_most, notes_wait_seconds)

    async def known(self, tenant: str) -> list[dict[str, Any]]:
        """The base's "pick from the list": its active devices its uploads reached before, the
        latest first."""
        result = []
        listed = await repo.known_devices_of(self._store, tenant)
        # ISO 8601 moments in UTC sort as text.
        for entry in sorted(listed, key=lambda e: e.last_used_at, reverse=True):
            device = await repo.device_by_id(self._store, entry.device_id)
            if device is not None and device.tenant == tenant and device.status == ACTIVE:
                result.append({**public_device(device), "last_used_at": entry.last_used_at})
        return result

    async def remember(self, envelope: Envelope, decided: UploadDecided) -> None:
        """Rule 2 of docs/routing.md: a device reached appears in the base's list next time."""
        if not envelope.tenant:
            return  # an upload is always a base's; nothing to file it under
        reached = decided.devices_reached()
        if reached:
            await self._notes.add(envelope.tenant, reached, decided.requested_at.isoformat())

    async def remember_routed(self, envelope: Envelope, routed: RoutedDecision) -> None:
        """Copies that carry their upload's decision: remembered as the decision itself."""
        if routed.decided is not None:
            await self.remember(envelope, routed.decided)

    async def routed_v1(self, envelope: Envelope, routed: DocumentRoutedV1) -> None:
        """A copy routed before an upgrade: its decision came as ``upload.decided``."""


async def _note(db: Session, tenant: str, device_id: str, used_at: str) -> None:
    """The base used the device at ``used_at``: listed, unless it was listed for a later use."""
    current = await repo.known_device(db, tenant, device_id)
    if current is not None:
        # An event may arrive after a newer one (or be announced again): the later use stays.
        used_at = max(current.last_used_at, used_at)
    await repo.put_known_device(
        db,
        KnownDevice(
            id=repo.known_device_key(tenant, device_id),
            tenant=tenant,
            device_id=device_id,
            last_used_at=used_at,
        ),
    )


async def hand_over(db: Session, tenant: str, old_id: str, new_id: str) -> None:
    """The base reached the old device; the new one holds its PIN now, so it is listed."""
    for entry in await repo.bases_knowing(db, old_id):
        if entry.tenant != tenant:
            continue
        await repo.drop_known_device(db, entry)
        await _note(db, tenant, new_id, entry.last_used_at)
