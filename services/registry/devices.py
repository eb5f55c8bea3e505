"""Devices: pairing and PINs, the life cycle, replacement, and each base's device list.

A device is ``active`` (it may log in and receive documents), ``blocked`` (refused until
unblocked; it keeps its PIN) or ``retired`` (for good; its PIN cools off before anyone gets it
again). Every change is committed together with its ``device.changed`` event; the change's
record (view, credential hash, revision) is returned so that the gateway can apply it at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from services.registry import known_devices, pins
from services.registry import repository as repo
from services.registry.tenants import require_tenant
from shared.clock import now_iso
from shared.contracts.directory import DeviceChanged, DeviceReplaced, DeviceView
from shared.errors import Refusal
from shared.logging import get_logger
from shared.metrics import PIN_MISSES
from shared.outbox import Tx, UnitOfWork
from shared.security import hash_token, new_token
from shared.settings import Settings
from shared.storage import Doc, DuplicateKeyError, Session, Store, TransactionConflict

log = get_logger("tsdx.registry")

ACTIVE, BLOCKED, RETIRED = "active", "blocked", "retired"
_STATUS_ORDER = {ACTIVE: 0, BLOCKED: 1, RETIRED: 2}
# Pairing looks for a free PIN again when a concurrent pairing took the one it chose.
_PAIR_ATTEMPTS = 20


def device_view(doc: Doc) -> DeviceView:
    return DeviceView(
        id=doc["id"],
        tenant=doc["tenant"],
        pin=doc["pin"],
        name=doc["name"],
        model=doc["model"],
        hardware_id=doc["hardware_id"],
        mode=doc["mode"],
        status=doc["status"],
        last_seen=doc.get("last_seen"),
    )


def public_device(doc: Doc) -> dict[str, Any]:
    return device_view(doc).model_dump(mode="json")


def device_record(doc: Doc) -> dict[str, Any]:
    """A device as the gateway keeps it: the view, its credential hash and revision."""
    return {
        "device": public_device(doc),
        "credential_hash": doc["credential_hash"],
        "revision": doc["revision"],
    }


async def _emit(tx: Tx, doc: Doc) -> None:
    await tx.emit(
        DeviceChanged(
            device=device_view(doc),
            credential_hash=doc["credential_hash"],
            revision=doc["revision"],
        ),
        doc["tenant"],
    )


async def _save(tx: Tx, doc: Doc, changes: Doc) -> Doc:
    """Apply ``changes`` as the next revision and announce it."""
    changes = {**changes, "revision": doc["revision"] + 1}
    if not await tx.db.update(
        repo.DEVICES.name, doc["id"], changes, expect={"revision": doc["revision"]}
    ):
        # Another writer got there first: the whole unit of work runs again on fresh reads.
        raise TransactionConflict(f"device {doc['id']} changed meanwhile")
    doc = {**doc, **changes}
    await _emit(tx, doc)
    return doc


async def _own(db: Session, tenant: str, device_id: str) -> Doc:
    doc = await db.get(repo.DEVICES.name, device_id)
    if doc is None or doc["tenant"] != tenant:
        raise Refusal("device_not_found", 404, device=device_id)
    return doc


def _not_retired(doc: Doc) -> None:
    if doc["status"] == RETIRED:
        raise Refusal("device_retired", 409, pin=doc["pin"])


# Proposes PINs to try for a tenant holding ``held`` PINs: (held, base length) -> PINs.
ProposePins = Callable[[int, int], Iterable[str]]


class Devices:
    def __init__(
        self,
        store: Store,
        uow: UnitOfWork,
        settings: Settings,
        propose: ProposePins = pins.candidates,
    ) -> None:
        self._store = store
        self._uow = uow
        self._settings = settings
        self._propose = propose

    # Pairing ---------------------------------------------------------------------------------

    async def pair(
        self, connection_code: str, hardware_id: str, model: str, name: str, mode: str
    ) -> dict[str, Any]:
        tenant = await repo.tenant_by_connection_code_hash(self._store, hash_token(connection_code))
        if tenant is None or tenant["status"] != ACTIVE:
            raise Refusal("bad_connection_code", 403)
        credential = new_token("tsd")
        for _ in range(_PAIR_ATTEMPTS):
            try:
                doc = await self._pair_once(
                    tenant["id"], hardware_id, model, name, mode, credential
                )
            except DuplicateKeyError:
                continue  # a PIN or the hardware id was taken meanwhile: look again
            return {
                "device": public_device(doc),
                "credential": credential,
                "revision": doc["revision"],
            }
        raise Refusal("pin_space_exhausted", 503, tenant=tenant["id"])

    async def _pair_once(
        self, tenant: str, hardware_id: str, model: str, name: str, mode: str, credential: str
    ) -> Doc:
        async def work(tx: Tx) -> Doc:
            doc = await repo.device_by_hardware_id(tx.db, tenant, hardware_id)
            if doc is not None and doc["status"] == BLOCKED:
                raise Refusal("device_blocked", 403, pin=doc["pin"])
            if doc is not None and doc["status"] == ACTIVE:
                # Same terminal again: same device and PIN; the new credential replaces the old.
                return await _save(
                    tx,
                    doc,
                    {
                        "credential_hash": hash_token(credential),
                        "model": model or doc["model"],
                        "name": name or doc["name"],
                    },
                )
            # A new terminal, or a retired one joining again: it starts afresh with a new PIN.
            doc = {
                "id": doc["id"] if doc else uuid.uuid4().hex,
                "tenant": tenant,
                "hardware_id": hardware_id,
                "model": model,
                "name": name or model,
                "mode": mode,
                "pin": await self._free_pin(tx.db, tenant),
                "status": ACTIVE,
                "credential_hash": hash_token(credential),
                "revision": (doc["revision"] + 1) if doc else 1,
                "created_at": now_iso(),
                "last_seen": None,
            }
            await tx.db.put(repo.DEVICES.name, doc)
            await _emit(tx, doc)
            return doc

        return await self._uow.run(work)

    async def _free_pin(self, db: Session, tenant: str) -> str:
        held = await repo.count_pin_holders(db, tenant)
        moment = datetime.now(UTC)
        for pin in self._propose(held, self._settings.pin_length):
            if not await self._pin_taken(db, tenant, pin, moment):
                return pin
        raise Refusal("pin_space_exhausted", 503, tenant=tenant)

    async def _pin_taken(self, db: Session, tenant: str, pin: str, moment: datetime) -> bool:
        if await repo.active_device_by_pin(db, tenant, pin) is not None:
            return True
        if await repo.blocked_device_by_pin(db, tenant, pin) is not None:
            return True
        cooling = await repo.cooling_pins(db, tenant, pin)
        return any(datetime.fromisoformat(row["until"]) > moment for row in cooling)

    async def _cool_off(self, tx: Tx, doc: Doc) -> None:
        """The device's PIN is not handed out again before the cooling-off period is over."""
        until = datetime.now(UTC) + timedelta(days=self._settings.pin_cooldown_days)
        await tx.db.put(
            repo.RETIRED_PINS.name,
            {
                "id": f"{doc['tenant']}:{doc['pin']}:{doc['id']}",
                "tenant": doc["tenant"],
                "pin": doc["pin"],
                "device_id": doc["id"],
                "until": until.isoformat(),
            },
        )

    # Look-ups --------------------------------------------------------------------------------

    async def resolve_pin(self, tenant: str, pin: str) -> dict[str, Any] | None:
        doc = None
        if pins.valid_pin(pin):
            doc = await repo.active_device_by_pin(self._store, tenant, pin)
        if doc is None:
            # Counted and logged here, where every miss is decided; never the PIN itself.
            PIN_MISSES.inc()
            log.info("pin.miss", tenant=tenant, pin_length=len(pin))
            return None
        return public_device(doc)

    async def get(self, tenant: str, device_id: str) -> dict[str, Any] | None:
        doc = await self._store.get(repo.DEVICES.name, device_id)
        if doc is None or doc["tenant"] != tenant:
            return None
        return public_device(doc)

    async def list_all(self, tenant: str, status: str | None = None) -> list[dict[str, Any]]:
        await require_tenant(self._store, tenant)
        docs = await repo.devices_of(self._store, tenant, status)
        docs.sort(key=lambda d: (_STATUS_ORDER.get(d["status"], 9), len(d["pin"]), d["pin"]))
        return [public_device(d) for d in docs]

    async def available(self, tenant: str) -> list[dict[str, Any]]:
        return [public_device(d) for d in await repo.active_devices(self._store, tenant)]

    async def authenticate(self, credential_hash: str) -> dict[str, Any]:
        doc = await repo.device_by_credential_hash(self._store, credential_hash)
        if doc is None or doc["status"] != ACTIVE:
            raise Refusal("unauthorized", 401)
        return device_record(doc)

    # Life cycle ------------------------------------------------------------------------------

    async def block(self, tenant: str, device_id: str) -> dict[str, Any]:
        async def work(tx: Tx) -> Doc:
            doc = await _own(tx.db, tenant, device_id)
            _not_retired(doc)
            if doc["status"] == ACTIVE:
                doc = await _save(tx, doc, {"status": BLOCKED})
            return doc

        doc = await self._uow.run(work)
        log.info("device.blocked", tenant=tenant, device=device_id)
        return device_record(doc)

    async def unblock(self, tenant: str, device_id: str) -> dict[str, Any]:
        try:
            return await self._unblock(tenant, device_id, new_pin=False)
        except DuplicateKeyError:
            # Its PIN went to another device meanwhile: it comes back with a new one.
            return await self._unblock(tenant, device_id, new_pin=True)

    async def _unblock(self, tenant: str, device_id: str, *, new_pin: bool) -> dict[str, Any]:
        async def work(tx: Tx) -> Doc:
            doc = await _own(tx.db, tenant, device_id)
            _not_retired(doc)
            if doc["status"] == BLOCKED:
                changes: Doc = {"status": ACTIVE}
                if new_pin:
                    changes["pin"] = await self._free_pin(tx.db, tenant)
                doc = await _save(tx, doc, changes)
            return doc

        return device_record(await self._uow.run(work))

    async def retire(self, tenant: str, device_id: str) -> dict[str, Any]:
        async def work(tx: Tx) -> Doc:
            doc = await _own(tx.db, tenant, device_id)
            if doc["status"] != RETIRED:
                await self._cool_off(tx, doc)
                doc = await _save(tx, doc, {"status": RETIRED, "retired_at": now_iso()})
            return doc

        doc = await self._uow.run(work)
        log.info("device.retired", tenant=tenant, device=device_id)
        return device_record(doc)

    async def update(
        self, tenant: str, device_id: str, name: str | None, mode: str | None
    ) -> dict[str, Any]:
        """Rename the device and/or switch it between online and offline."""

        async def work(tx: Tx) -> Doc:
            doc = await _own(tx.db, tenant, device_id)
            _not_retired(doc)
            wanted = {"name": name, "mode": mode}
            changes = {k: v for k, v in wanted.items() if v is not None and v != doc[k]}
            if changes:
                doc = await _save(tx, doc, changes)
            return doc

        return device_record(await self._uow.run(work))

    async def replace(self, tenant: str, old_id: str, new_id: str) -> dict[str, Any]:
        """A broken terminal's successor (already paired) takes over its PIN and waiting work."""
        if old_id == new_id:
            raise Refusal("replace_same_device", 422)

        async def work(tx: Tx) -> tuple[Doc, Doc]:
            old = await _own(tx.db, tenant, old_id)
            new = await _own(tx.db, tenant, new_id)
            _not_retired(old)
            if new["status"] != ACTIVE:
                raise Refusal("device_not_active", 409, pin=new["pin"])
            # The old device leaves the PIN index first, so that the new one can take its PIN;
            # the PIN the new one had cools off like any PIN given up.
            old = await _save(
                tx, old, {"status": RETIRED, "retired_at": now_iso(), "replaced_by": new_id}
            )
            await self._cool_off(tx, new)
            new = await _save(tx, new, {"pin": old["pin"], "replaces": old_id})
            await known_devices.hand_over(tx.db, tenant, old_id, new_id)
            # The gateway moves the copies not yet downloaded to the new device.
            await tx.emit(DeviceReplaced(old_device=old_id, new_device=new_id), tenant)
            return old, new

        old, new = await self._uow.run(work)
        log.info("device.replaced", tenant=tenant, old_device=old_id, new_device=new_id)
        return {"old": device_record(old), "new": device_record(new)}
