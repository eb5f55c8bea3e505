"""Each base's list of known devices (the accounting side's "pick from the list"): the devices
its accepted uploads reached, kept by ``upload.decided``; a replaced device hands its place
in the list to its successor."""

from __future__ import annotations

from typing import Any

from services.registry import devices  # module access: devices.py hands over to this one
from services.registry import repository as repo
from shared.contracts import Envelope
from shared.contracts.uploads import UploadDecided
from shared.outbox import UnitOfWork
from shared.storage import Session, Store


class KnownDevices:
    def __init__(self, store: Store, uow: UnitOfWork) -> None:
        self._store = store
        self._uow = uow

    async def known(self, tenant: str) -> list[dict[str, Any]]:
        """The base's "pick from the list": active devices its uploads reached before, the
        latest first."""
        known = await self._store.find(repo.KNOWN_DEVICES.name, {"tenant": tenant})
        result = []
        for row in sorted(known, key=lambda r: r["last_used_at"], reverse=True):
            doc = await self._store.get(repo.DEVICES.name, row["device_id"])
            if doc is not None and doc["tenant"] == tenant and doc["status"] == devices.ACTIVE:
                result.append({**devices.public_device(doc), "last_used_at": row["last_used_at"]})
        return result

    async def remember(self, envelope: Envelope, decided: UploadDecided) -> None:
        """Rule 2: a device reached successfully appears in the base's list next time."""
        tenant = envelope.tenant or ""
        async with self._uow(applying=envelope) as tx:
            if decided.outcome != "accepted":
                return
            for delivery in decided.deliveries:
                if delivery.target.kind != "device" or not delivery.target.value:
                    continue
                await tx.db.put(
                    repo.KNOWN_DEVICES.name,
                    {
                        "id": f"{tenant}:{delivery.target.value}",
                        "tenant": tenant,
                        "device_id": delivery.target.value,
                        "last_used_at": envelope.time.isoformat(),
                    },
                )


async def hand_over(db: Session, tenant: str, old_id: str, new_id: str) -> None:
    """The base reached the old device; the new one holds its PIN now, so it is listed."""
    rows = await db.find(repo.KNOWN_DEVICES.name, {"device_id": old_id})
    for row in rows:
        if row["tenant"] != tenant:
            continue
        await db.delete(repo.KNOWN_DEVICES.name, row["id"])
        current = await db.get(repo.KNOWN_DEVICES.name, f"{tenant}:{new_id}")
        last_used = max(row["last_used_at"], (current or {}).get("last_used_at", ""))
        await db.put(
            repo.KNOWN_DEVICES.name,
            {
                "id": f"{tenant}:{new_id}",
                "tenant": tenant,
                "device_id": new_id,
                "last_used_at": last_used,
            },
        )
