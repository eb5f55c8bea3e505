"""A device's states, how other services see it, and how each change of it is saved.

A device is ``active`` (it may log in and receive documents), ``blocked`` (refused until
unblocked; it keeps its PIN) or ``retired`` (for good; its PIN cools off before anyone gets it
again). Every change is the next revision, committed together with its ``device.changed``
event; the change's record (view, credential hash, revision) is what the gateway applies.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from services.registry import repository as repo
from services.registry.repository import Device
from shared.contracts.directory import DeviceChanged, DeviceView
from shared.errors import Refusal
from shared.outbox import Tx
from shared.storage import Session, TransactionConflict

ACTIVE, BLOCKED, RETIRED = "active", "blocked", "retired"
_STATUS_ORDER = {ACTIVE: 0, BLOCKED: 1, RETIRED: 2}


def device_view(device: Device) -> DeviceView:
    # Validated, so that the stored ISO text of ``last_seen`` is read as a moment.
    return DeviceView.model_validate(
        {
            "id": device.id,
            "tenant": device.tenant,
            "pin": device.pin,
            "name": device.name,
            "model": device.model,
            "hardware_id": device.hardware_id,
            "mode": device.mode,
            "status": device.status,
            "last_seen": device.last_seen,
        }
    )


def public_device(device: Device) -> dict[str, Any]:
    return device_view(device).model_dump(mode="json")


def device_record(device: Device) -> dict[str, Any]:
    """A device as the gateway keeps it: the view, its credential hash and revision."""
    return {
        "device": public_device(device),
        "credential_hash": device.credential_hash,
        "revision": device.revision,
    }


def device_changed(device: Device) -> DeviceChanged:
    """The device's ``device.changed`` event (also a page entry of the directory snapshot)."""
    return DeviceChanged(
        device=device_view(device),
        credential_hash=device.credential_hash,
        revision=device.revision,
        replaced_by=device.replaced_by,
    )


def listing_order(device: Device) -> tuple[int, int, str]:
    """Active first, then blocked, then retired; within each, by PIN as a number reads."""
    return _STATUS_ORDER.get(device.status, 9), len(device.pin), device.pin


async def announce(tx: Tx, device: Device) -> None:
    await tx.emit(device_changed(device), device.tenant)


async def save(tx: Tx, device: Device, **changes: Any) -> Device:
    """Apply ``changes`` as the next revision and announce it."""
    revised = dataclasses.replace(device, **changes, revision=device.revision + 1)
    if not await repo.revise_device(tx.db, device, revised):
        # Another writer got there first: the whole unit of work runs again on fresh reads.
        raise TransactionConflict(f"device {device.id} changed meanwhile")
    await announce(tx, revised)
    return revised


async def own_device(db: Session, tenant: str, device_id: str) -> Device:
    """The tenant's device; another tenant's is as unknown as a missing one."""
    device = await repo.device_by_id(db, device_id)
    if device is None or device.tenant != tenant:
        raise Refusal("device_not_found", 404, device=device_id)
    return device


def not_retired(device: Device) -> None:
    if device.status == RETIRED:
        raise Refusal("device_retired", 409, pin=device.pin)
