"""Each base's list of known devices (the accounting side's "pick from the list").

A base knows every device one of its accepted uploads delivered a copy to, however the upload
named it (by PIN, by device id, or the base's only available device picked for it) and on either
channel, with the time of its latest such upload. The decision keeps the list, as it comes:
with the routed copies of an internet upload asked through the gateway
(``document.routed.internet``), by itself otherwise (``upload.decided``); a refused upload adds
nothing. A replaced device hands its place in the list to its successor. The list
shows only the base's devices that are active now, the latest used first.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from services.registry import repository as repo
from services.registry.device_changes import ACTIVE, public_device
from services.registry.repository import KnownDevice
from shared.contracts import Envelope, Payload
from shared.contracts.uploads import DocumentRouted, DocumentRoutedV1, UploadDecided
from shared.outbox import UnitOfWork
from shared.storage import Session, Store


class RoutedDecision(Payload):
    """What the device list reads of ``document.routed``: the decision it may carry, nothing
    else. The registry's consumer reads the message by this view (not registered as a message
    of its own), so the documents and copies are not validated for a list that never uses them."""

    model_config = ConfigDict(extra="ignore")

    TYPE = DocumentRouted.TYPE
    VERSION = DocumentRouted.VERSION

    decided: UploadDecided | None = None


def devices_reached(decided: UploadDecided) -> list[str]:
    """The ids of the devices an upload's copies went to, each once, in delivery order."""
    if decided.outcome != "accepted":
        return []
    reached = (d.target.value for d in decided.deliveries if d.target.kind == "device")
    return list(dict.fromkeys(device_id for device_id in reached if device_id))


class KnownDevices:
    def __init__(self, store: Store, uow: UnitOfWork) -> None:
        self._store = store
        self._uow = uow

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
        async with self._uow(applying=envelope) as tx:
            if not envelope.tenant:
                return  # an upload is always a base's; nothing to file it under
            used_at = decided.requested_at.isoformat()
            for device_id in devices_reached(decided):
                await _note(tx.db, envelope.tenant, device_id, used_at)

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
