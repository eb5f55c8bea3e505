"""A paired device's life: looked up, blocked, unblocked, retired, renamed, switched between
online and offline, replaced by its successor.

Blocking, unblocking and retiring are idempotent; a retired device cannot be changed. Each
change is saved as the next revision with its ``device.changed`` event (``device_changes.py``).
"""

from __future__ import annotations

from typing import Any

from services.registry import known_devices
from services.registry import repository as repo
from services.registry.device_changes import (
    ACTIVE,
    BLOCKED,
    RETIRED,
    device_record,
    listing_order,
    not_retired,
    own_device,
    public_device,
    save,
)
from services.registry.pairing import PinIssuer
from services.registry.repository import Device
from services.registry.tenants import require_tenant
from shared.clock import now_iso
from shared.contracts.directory import DeviceReplaced
from shared.contracts.documents import DeviceMode
from shared.errors import Refusal
from shared.logging import get_logger
from shared.outbox import Tx, UnitOfWork
from shared.storage import DuplicateKeyError, Store

log = get_logger("tsdx.registry")


def changed_settings(device: Device, name: str | None, mode: DeviceMode | None) -> dict[str, Any]:
    """The settings given that differ from the device's (None: leave as is)."""
    wanted = {"name": name, "mode": mode}
    current = {"name": device.name, "mode": device.mode}
    return {k: v for k, v in wanted.items() if v is not None and v != current[k]}


class DeviceLife:
    def __init__(self, store: Store, uow: UnitOfWork, pin_issuer: PinIssuer) -> None:
        self._store = store
        self._uow = uow
        self._pins = pin_issuer

    # Look-ups --------------------------------------------------------------------------------

    async def get(self, tenant: str, device_id: str) -> dict[str, Any] | None:
        device = await repo.device_by_id(self._store, device_id)
        if device is None or device.tenant != tenant:
            return None
        return public_device(device)

    async def list_all(self, tenant: str, status: str | None = None) -> list[dict[str, Any]]:
        await require_tenant(self._store, tenant)
        found = await repo.devices_of(self._store, tenant, status)
        return [public_device(d) for d in sorted(found, key=listing_order)]

    async def available(self, tenant: str) -> list[dict[str, Any]]:
        return [public_device(d) for d in await repo.active_devices(self._store, tenant)]

    # Changes ---------------------------------------------------------------------------------

    async def block(self, tenant: str, device_id: str) -> dict[str, Any]:
        async def work(tx: Tx) -> Device:
            device = await own_device(tx.db, tenant, device_id)
            not_retired(device)
            if device.status == ACTIVE:
                device = await save(tx, device, status=BLOCKED)
            return device

        device = await self._uow.run(work)
        log.info("device.blocked", tenant=tenant, device=device_id)
        return device_record(device)

    async def unblock(self, tenant: str, device_id: str) -> dict[str, Any]:
        try:
            return await self._unblock(tenant, device_id, new_pin=False)
        except DuplicateKeyError:
            # Its PIN went to another device meanwhile: it comes back with a new one.
            return await self._unblock(tenant, device_id, new_pin=True)

    async def _unblock(self, tenant: str, device_id: str, *, new_pin: bool) -> dict[str, Any]:
        async def work(tx: Tx) -> Device:
            device = await own_device(tx.db, tenant, device_id)
            not_retired(device)
            if device.status == BLOCKED:
                pin = await self._pins.free_pin(tx.db, tenant) if new_pin else device.pin
                device = await save(tx, device, status=ACTIVE, pin=pin)
            return device

        return device_record(await self._uow.run(work))

    async def retire(self, tenant: str, device_id: str) -> dict[str, Any]:
        async def work(tx: Tx) -> Device:
            device = await own_device(tx.db, tenant, device_id)
            if device.status != RETIRED:
                await self._pins.cool_off(tx.db, device)
                device = await save(tx, device, status=RETIRED, retired_at=now_iso())
            return device

        device = await self._uow.run(work)
        log.info("device.retired", tenant=tenant, device=device_id)
        return device_record(device)

    async def update(
        self, tenant: str, device_id: str, name: str | None, mode: DeviceMode | None
    ) -> dict[str, Any]:
        """Rename the device and/or switch it between online and offline."""

        async def work(tx: Tx) -> Device:
            device = await own_device(tx.db, tenant, device_id)
            not_retired(device)
            changes = changed_settings(device, name, mode)
            if changes:
                device = await save(tx, device, **changes)
            return device

        return device_record(await self._uow.run(work))

    async def replace(self, tenant: str, old_id: str, new_id: str) -> dict[str, Any]:
        """A broken terminal's successor (already paired) takes over its PIN and waiting work."""
        if old_id == new_id:
            raise Refusal("replace_same_device", 422)

        async def work(tx: Tx) -> tuple[Device, Device]:
            old = await own_device(tx.db, tenant, old_id)
            new = await own_device(tx.db, tenant, new_id)
            not_retired(old)
            if new.status != ACTIVE:
                raise Refusal("device_not_active", 409, pin=new.pin)
            # The old device leaves the PIN index first, so that the new one can take its PIN;
            # the PIN the new one had cools off like any PIN given up.
            old = await save(tx, old, status=RETIRED, retired_at=now_iso(), replaced_by=new_id)
            await self._pins.cool_off(tx.db, new)
            new = await save(tx, new, pin=old.pin, replaces=old_id)
            await known_devices.hand_over(tx.db, tenant, old_id, new_id)
            # The gateway moves the copies not yet downloaded to the new device.
            await tx.emit(DeviceReplaced(old_device=old_id, new_device=new_id), tenant)
            return old, new

        old, new = await self._uow.run(work)
        log.info("device.replaced", tenant=tenant, old_device=old_id, new_device=new_id)
        return {"old": device_record(old), "new": device_record(new)}
