"""The gateway's copies of the registry's tenants and devices, and how devices are shown.

The registry owns the directory; the gateway keeps copies so that authenticating a request
needs no round trip. A change that decides who may call the gateway (a paired, blocked,
retired or replaced device, a rotated API key) is written here before the caller is answered,
so the very next request already sees it rather than waiting for the registry's event; and
it is announced to every gateway instance, which forget the credentials they hold in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from services.gateway import repository as repo
from services.gateway.parts import gateway_parts
from services.gateway.records import DeviceCopy, TenantCopy
from shared.contracts import registry_rpc as registry
from shared.contracts.directory import DeviceView, barcode_settings_of
from shared.security import hash_token
from shared.service import Runtime
from shared.storage import Doc


def device_copy(view: DeviceView, credential_hash: str, revision: int) -> Doc:
    return {**_plain(view), "credential_hash": credential_hash, "revision": revision}


def tenant_record(record: registry.TenantRecord) -> Doc:
    """The registry's tenant record as the gateway keeps its copy (``repo.tenant_copy``)."""
    return record.model_dump(mode="json")


async def keep_tenant(rt: Runtime, record: registry.TenantRecord) -> TenantCopy:
    """Keep the registry's new tenant record (unless a newer one is kept); the copy. Every
    instance forgets the base it holds in memory (a rotated key, new barcode settings)."""
    copy = repo.tenant_copy(tenant_record(record))
    await repo.keep_tenant(rt.store, copy)
    await gateway_parts(rt).access.tenant_changed(copy["id"])
    return TenantCopy.of(copy)


async def keep_device(rt: Runtime, record: registry.DeviceRecord) -> dict[str, Any]:
    """Keep the registry's new device record (device, credential hash, revision) and tell every
    instance; the device as operators are shown it."""
    copy = device_copy(record.device, record.credential_hash, record.revision)
    await repo.keep_device_now(rt.store, copy)
    await gateway_parts(rt).access.device_changed(copy["id"])
    return await shown(rt, record.device)


async def keep_paired(rt: Runtime, paired: registry.Paired) -> DeviceCopy:
    """Keep the device the registry just paired (its answer: device, credential, revision) and
    tell every instance: the credential works at once and the earlier one no more."""
    copy = device_copy(paired.device, hash_token(paired.credential), paired.revision)
    await repo.keep_device_now(rt.store, copy)
    await gateway_parts(rt).access.device_changed(copy["id"])
    return DeviceCopy.of(copy)


async def keep_replacement(rt: Runtime, tenant: str, old_device: str, new_device: str) -> None:
    """Kept before the old device's copy changes, so its terminal is told it was replaced."""
    await repo.keep_replacement_now(rt.store, tenant, old_device, new_device)


async def tenant_of(rt: Runtime, device: DeviceCopy) -> TenantCopy | None:
    """The copy of the base a device belongs to."""
    return await repo.tenant(rt.store, device.tenant)


async def last_seen(rt: Runtime, device: dict[str, Any]) -> str | None:
    """When the device last called: this gateway's own sighting first (the one in memory,
    which may not be written yet, when it is newer than the stored one), then the
    registry's."""
    stored = last_seen_of(device, await repo.device(rt.store, device["id"]))
    here = gateway_parts(rt).presence.last_seen(device["id"])
    if here is not None and (stored is None or _moment(stored) < here):
        return here.isoformat()
    return stored


def _moment(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _plain(device: DeviceView) -> dict[str, Any]:
    """The registry's device as JSON: its ``last_seen`` as the registry writes it."""
    return device.model_dump(mode="json")


def last_seen_of(device: dict[str, Any], copy: DeviceCopy | None) -> str | None:
    """The gateway's sighting (in its copy) wins over the registry's record of the device."""
    seen: str | None = (copy.last_seen if copy else None) or device.get("last_seen")
    return seen


async def shown(rt: Runtime, view: DeviceView) -> dict[str, Any]:
    """A device as the operators' API shows it."""
    device = _plain(view)
    return {
        "device_id": device["id"],
        "tenant": device["tenant"],
        "pin": device["pin"],
        "name": device["name"],
        "model": device["model"],
        "hardware_id": device["hardware_id"],
        "mode": device["mode"],
        "status": device["status"],
        "last_seen": await last_seen(rt, device),
    }


async def shown_all(rt: Runtime, devices: Sequence[DeviceView]) -> list[dict[str, Any]]:
    return [await shown(rt, device) for device in devices]


async def picker(rt: Runtime, devices: Sequence[DeviceView]) -> list[dict[str, Any]]:
    """The base's devices (as the registry knows them) as the accounting side's picker lists
    them."""
    return [await picker_entry(rt, device) for device in devices]


async def picker_entry(rt: Runtime, view: DeviceView) -> dict[str, Any]:
    """A device as the accounting side's picker lists it: what the operators are shown of it
    but its base, hardware id and status, with the title 1C shows."""
    seen = await shown(rt, view)
    device = _plain(view)
    return {
        **{name: seen[name] for name in _PICKED},
        # As 1C shows it: «5546  EDA50, (@HONEYWELL-EDA50-V-16204B17A7)»
        "title": f"{device['pin']}  {device['name']}, ({device['hardware_id']})",
    }


_PICKED = ("device_id", "pin", "name", "model", "mode", "last_seen")


def barcodes_view(tenant: TenantCopy | None) -> dict[str, Any]:
    """How a base's terminals read weight and marking codes, from the base's copy; the
    defaults until the base sets its own."""
    return barcode_settings_of(
        None if tenant is None else {"barcodes": tenant.barcodes}
    ).model_dump()
