"""The gateway's copies of the registry's tenants and devices, and how devices are shown.

The registry owns the directory; the gateway keeps copies so that authenticating a request
needs no round trip. A change that decides who may call the gateway (a paired, blocked,
retired or replaced device, a rotated API key) is written here before the caller is answered,
so the very next request already sees it rather than waiting for the registry's event; and
it is announced to every gateway instance, which forget the credentials they hold in memory.
"""

from __future__ import annotations

from typing import Any

from services.gateway import repository as repo
from services.gateway.credentials import AccessNews
from shared.contracts.directory import barcode_settings_of
from shared.storage import Doc, Store


def device_copy(view: dict[str, Any], credential_hash: str, revision: int) -> Doc:
    return {**view, "credential_hash": credential_hash, "revision": revision}


async def keep_tenant(
    store: Store, record: dict[str, Any], access: AccessNews | None = None
) -> Doc:
    """Keep the registry's new tenant record (unless a newer one is kept); the copy. With
    ``access``, every instance forgets the base it holds in memory (a rotated key, new
    barcode settings)."""
    copy = repo.tenant_copy(record)
    await repo.put_newer(store, repo.TENANTS.name, copy)
    if access is not None:
        await access.tenant_changed(copy["id"])
    return copy


async def keep_device(store: Store, record: dict[str, Any], access: AccessNews) -> dict[str, Any]:
    """Keep the registry's new device record (device, credential hash, revision) and tell every
    instance; the device as operators are shown it."""
    copy = device_copy(record["device"], record["credential_hash"], record["revision"])
    await repo.keep_device_now(store, copy)
    await access.device_changed(copy["id"])
    return await shown(store, record["device"])


async def keep_replacement(store: Store, tenant: str, old_device: str, new_device: str) -> None:
    """Kept before the old device's copy changes, so its terminal is told it was replaced."""
    await store.run_transaction(
        lambda db: repo.keep_replacement(db, tenant, old_device, new_device)
    )


async def last_seen(store: Store, device: dict[str, Any]) -> str | None:
    """When the device last called: this gateway's own sighting first, then the registry's."""
    copy = await repo.device(store, device["id"])
    seen: str | None = (copy or {}).get("last_seen") or device.get("last_seen")
    return seen


async def shown(store: Store, device: dict[str, Any]) -> dict[str, Any]:
    """A device as the operators' API shows it."""
    return {
        "device_id": device["id"],
        "tenant": device["tenant"],
        "pin": device["pin"],
        "name": device["name"],
        "model": device["model"],
        "hardware_id": device["hardware_id"],
        "mode": device["mode"],
        "status": device["status"],
        "last_seen": await last_seen(store, device),
    }


async def picker_entry(store: Store, device: dict[str, Any]) -> dict[str, Any]:
    """A device as the accounting side's picker lists it."""
    return {
        "device_id": device["id"],
        "pin": device["pin"],
        "name": device["name"],
        "model": device["model"],
        "mode": device["mode"],
        "last_seen": await last_seen(store, device),
        # As 1C shows it: «5546  EDA50, (@HONEYWELL-EDA50-V-16204B17A7)»
        "title": f"{device['pin']}  {device['name']}, ({device['hardware_id']})",
    }


def barcodes_view(tenant: Doc | None) -> dict[str, Any]:
    """How a base's terminals read weight and marking codes, from the base's copy; the
    defaults until the base sets its own."""
    return barcode_settings_of(tenant).model_dump()
