"""Pairing a terminal with a base, and the PINs the registry issues and takes back.

A terminal pairs with the base's connection code and gets a device, a PIN and a credential;
the same terminal pairing again keeps its device and PIN and gets a new credential. Which PIN
lengths and values to try is the policy of ``pins.py``; which of them are free (not held by an
active or blocked device, not cooling off after retirement) is decided here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from services.registry import pins
from services.registry import repository as repo
from services.registry.device_changes import (
    ACTIVE,
    BLOCKED,
    announce,
    device_record,
    public_device,
    save,
)
from services.registry.repository import Device, RetiredPin
from shared.clock import now_iso
from shared.contracts.documents import DeviceMode
from shared.errors import Refusal
from shared.logging import get_logger
from shared.metrics import PIN_MISSES
from shared.outbox import Tx, UnitOfWork
from shared.security import connection_code_as_issued, hash_token, new_token
from shared.settings import Settings
from shared.storage import DuplicateKeyError, Session, Store

log = get_logger("tsdx.registry")

# Pairing looks for a free PIN again when a concurrent pairing took the one it chose.
_PAIR_ATTEMPTS = 20

# Proposes PINs to try for a tenant holding ``held`` PINs: (held, base length) -> PINs.
ProposePins = Callable[[int, int], Iterable[str]]


def still_cooling(cooling: Sequence[RetiredPin], moment: datetime) -> bool:
    """Is a PIN given up by these devices still out of use at ``moment``?"""
    return any(datetime.fromisoformat(row.until) > moment for row in cooling)


class PinIssuer:
    """Finds a free PIN for a tenant, and makes a given-up PIN cool off."""

    def __init__(self, settings: Settings, propose: ProposePins = pins.candidates) -> None:
        self._settings = settings
        self._propose = propose

    async def free_pin(self, db: Session, tenant: str) -> str:
        held = await repo.count_pin_holders(db, tenant)
        moment = datetime.now(UTC)
        for pin in self._propose(held, self._settings.pin_length):
            if not await self._taken(db, tenant, pin, moment):
                return pin
        raise Refusal("pin_space_exhausted", 503, tenant=tenant)

    async def _taken(self, db: Session, tenant: str, pin: str, moment: datetime) -> bool:
        if await repo.active_device_by_pin(db, tenant, pin) is not None:
            return True
        if await repo.blocked_device_by_pin(db, tenant, pin) is not None:
            return True
        return still_cooling(await repo.cooling_pins(db, tenant, pin), moment)

    async def cool_off(self, db: Session, device: Device) -> None:
        """The device's PIN is not handed out again before the cooling-off period is over."""
        until = datetime.now(UTC) + timedelta(days=self._settings.pin_cooldown_days)
        await repo.put_retired_pin(
            db,
            RetiredPin(
                id=repo.retired_pin_key(device.tenant, device.pin, device.id),
                tenant=device.tenant,
                pin=device.pin,
                device_id=device.id,
                until=until.isoformat(),
            ),
        )


class Pairing:
    """Pairing, and finding a device by its credential or its PIN."""

    def __init__(self, store: Store, uow: UnitOfWork, pin_issuer: PinIssuer) -> None:
        self._store = store
        self._uow = uow
        self._pins = pin_issuer

    async def pair(
        self, connection_code: str, hardware_id: str, model: str, name: str, mode: DeviceMode
    ) -> dict[str, Any]:
        as_issued = connection_code_as_issued(connection_code)
        tenant = await repo.tenant_by_connection_code_hash(self._store, hash_token(as_issued))
        if tenant is None or tenant.status != ACTIVE:
            raise Refusal("bad_connection_code", 403)
        credential = new_token("tsd")
        for _ in range(_PAIR_ATTEMPTS):
            try:
                device = await self._pair_once(
                    tenant.id, hardware_id, model, name, mode, credential
                )
            except DuplicateKeyError:
                continue  # a PIN or the hardware id was taken meanwhile: look again
            return {
                "device": public_device(device),
                "credential": credential,
                "revision": device.revision,
            }
        raise Refusal("pin_space_exhausted", 503, tenant=tenant.id)

    async def _pair_once(
        self,
        tenant: str,
        hardware_id: str,
        model: str,
        name: str,
        mode: DeviceMode,
        credential: str,
    ) -> Device:
        async def work(tx: Tx) -> Device:
            known = await repo.device_by_hardware_id(tx.db, tenant, hardware_id)
            if known is not None and known.status == BLOCKED:
                raise Refusal("device_blocked", 403, pin=known.pin)
            if known is not None and known.status == ACTIVE:
                # Same terminal again: same device and PIN; the new credential replaces the old.
                return await save(
                    tx,
                    known,
                    credential_hash=hash_token(credential),
                    model=model or known.model,
                    name=name or known.name,
                )
            # A new terminal, or a retired one joining again: it starts afresh with a new PIN.
            device = Device(
                id=known.id if known else uuid.uuid4().hex,
                tenant=tenant,
                hardware_id=hardware_id,
                model=model,
                name=name or model,
                mode=mode,
                pin=await self._pins.free_pin(tx.db, tenant),
                status=ACTIVE,
                credential_hash=hash_token(credential),
                revision=(known.revision + 1) if known else 1,
                created_at=now_iso(),
                last_seen=None,
            )
            await repo.put_device(tx.db, device)
            await announce(tx, device)
            return device

        return await self._uow.run(work)

    async def authenticate(self, credential_hash: str) -> dict[str, Any]:
        device = await repo.device_by_credential_hash(self._store, credential_hash)
        if device is None or device.status != ACTIVE:
            raise Refusal("unauthorized", 401)
        return device_record(device)

    async def resolve_pin(self, tenant: str, pin: str) -> dict[str, Any] | None:
        device = None
        if pins.valid_pin(pin):
            device = await repo.active_device_by_pin(self._store, tenant, pin)
        if device is None:
            # Counted and logged here, where every miss is decided; never the PIN itself.
            PIN_MISSES.inc()
            log.info("pin.miss", tenant=tenant, pin_length=len(pin))
            return None
        return public_device(device)
