"""Registry operations: tenants, pairing, PIN resolution, the bases' device lists.

Every write goes through a unit of work, so the change and its ``device.changed`` /
``tenant.changed`` event are committed together.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from services.registry import pins
from services.registry import repository as repo
from shared.contracts import Envelope
from shared.contracts.directory import DeviceChanged, DeviceView, TenantChanged
from shared.contracts.uploads import UploadDecided
from shared.errors import Refusal
from shared.outbox import Tx, UnitOfWork
from shared.security import hash_token, new_connection_code, new_token
from shared.settings import Settings
from shared.storage import Doc, DuplicateKeyError, Store

_SLUG = re.compile(r"[^a-z0-9]+")


def _now() -> str:
    return datetime.now(UTC).isoformat()


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


async def _emit_device(tx: Tx, doc: Doc) -> None:
    await tx.emit(
        DeviceChanged(
            device=device_view(doc),
            credential_hash=doc["credential_hash"],
            revision=doc["revision"],
        ),
        doc["tenant"],
    )


async def _emit_tenant(tx: Tx, doc: Doc) -> None:
    await tx.emit(
        TenantChanged(
            tenant=doc["id"],
            name=doc["name"],
            api_key_hash=doc["api_key_hash"],
            status=doc["status"],
            revision=doc["revision"],
        ),
        doc["id"],
    )


class Directory:
    def __init__(self, store: Store, uow: UnitOfWork, settings: Settings) -> None:
        self._store = store
        self._uow = uow
        self._settings = settings

    # Tenants ---------------------------------------------------------------------------------

    async def create_tenant(self, name: str, tenant_id: str | None = None) -> dict[str, Any]:
        name = name.strip()
        if not name:
            raise Refusal("validation_error", 422, details="name: must not be empty")
        tid = tenant_id or _SLUG.sub("-", name.lower()).strip("-") or uuid.uuid4().hex[:8]
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", tid):
            raise Refusal("validation_error", 422, details="tenant id: a-z, 0-9 and '-' only")
        api_key = new_token("tsdx")
        code = new_connection_code()
        doc = {
            "id": tid,
            "name": name,
            "api_key_hash": hash_token(api_key),
            "connection_code_hash": hash_token(code),
            "status": "active",
            "revision": 1,
            "created_at": _now(),
        }
        try:
            async with self._uow() as tx:
                await tx.db.insert(repo.TENANTS.name, doc)
                await _emit_tenant(tx, doc)
        except DuplicateKeyError:
            raise Refusal("tenant_exists", 409, tenant=tid) from None
        # The only time the secrets are seen in clear.
        return {"tenant": tid, "name": name, "api_key": api_key, "connection_code": code}

    async def list_tenants(self) -> list[dict[str, Any]]:
        docs = await self._store.find(repo.TENANTS.name, order_by="id")
        return [{"tenant": d["id"], "name": d["name"], "status": d["status"]} for d in docs]

    async def authenticate_tenant(self, api_key_hash: str) -> dict[str, Any]:
        doc = await repo.tenant_by_api_key_hash(self._store, api_key_hash)
        if doc is None or doc["status"] != "active":
            raise Refusal("unauthorized", 401)
        return {
            "tenant": doc["id"],
            "name": doc["name"],
            "api_key_hash": doc["api_key_hash"],
            "status": doc["status"],
            "revision": doc["revision"],
        }

    # Pairing ---------------------------------------------------------------------------------

    async def pair(
        self, connection_code: str, hardware_id: str, model: str, name: str, mode: str
    ) -> dict[str, Any]:
        tenant = await repo.tenant_by_connection_code_hash(self._store, hash_token(connection_code))
        if tenant is None or tenant["status"] != "active":
            raise Refusal("bad_connection_code", 403)
        credential = new_token("tsd")
        for _ in range(50):
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
        async with self._uow() as tx:
            doc = await repo.device_by_hardware_id(tx.db, tenant, hardware_id)
            if doc is not None and doc["status"] == "blocked":
                raise Refusal("device_blocked", 403, pin=doc["pin"])
            if doc is not None and doc["status"] == "active":
                # Same terminal again: same device and PIN; the new credential replaces the old.
                changes = {
                    "credential_hash": hash_token(credential),
                    "model": model or doc["model"],
                    "name": name or doc["name"],
                    "revision": doc["revision"] + 1,
                }
                await tx.db.update(repo.DEVICES.name, doc["id"], changes)
                doc.update(changes)
            else:
                pin = await self._free_pin(tx, tenant)
                doc = {
                    "id": doc["id"] if doc else uuid.uuid4().hex,
                    "tenant": tenant,
                    "hardware_id": hardware_id,
                    "model": model,
                    "name": name or model,
                    "mode": mode,
                    "pin": pin,
                    "status": "active",
                    "credential_hash": hash_token(credential),
                    "revision": (doc["revision"] + 1) if doc else 1,
                    "created_at": _now(),
                    "last_seen": None,
                }
                await tx.db.put(repo.DEVICES.name, doc)
            await _emit_device(tx, doc)
            return doc

    async def _free_pin(self, tx: Tx, tenant: str) -> str:
        active = await repo.count_active_devices(tx.db, tenant)
        length = pins.pin_length(active, self._settings.pin_length)
        now = datetime.now(UTC)
        for _ in range(100):
            pin = pins.random_pin(length)
            if await repo.active_device_by_pin(tx.db, tenant, pin) is not None:
                continue
            cooling = await tx.db.find(repo.RETIRED_PINS.name, {"tenant": tenant, "pin": pin})
            if any(datetime.fromisoformat(r["until"]) > now for r in cooling):
                continue
            return pin
        raise DuplicateKeyError("no free PIN found")

    # Look-ups --------------------------------------------------------------------------------

    async def resolve_pin(self, tenant: str, pin: str) -> dict[str, Any] | None:
        if not pins.valid_pin(pin):
            return None
        doc = await repo.active_device_by_pin(self._store, tenant, pin)
        return public_device(doc) if doc else None

    async def get_device(self, tenant: str, device_id: str) -> dict[str, Any] | None:
        doc = await self._store.get(repo.DEVICES.name, device_id)
        if doc is None or doc["tenant"] != tenant:
            return None
        return public_device(doc)

    async def available_devices(self, tenant: str) -> list[dict[str, Any]]:
        return [public_device(d) for d in await repo.active_devices(self._store, tenant)]

    async def authenticate_device(self, credential_hash: str) -> dict[str, Any]:
        doc = await repo.device_by_credential_hash(self._store, credential_hash)
        if doc is None or doc["status"] != "active":
            raise Refusal("unauthorized", 401)
        return {
            "device": public_device(doc),
            "revision": doc["revision"],
            "credential_hash": doc["credential_hash"],
        }

    async def known_devices(self, tenant: str) -> list[dict[str, Any]]:
        """The base's "pick from the list": devices it reached by PIN before, still active."""
        known = await self._store.find(repo.KNOWN_DEVICES.name, {"tenant": tenant})
        result = []
        for row in sorted(known, key=lambda r: r["last_used_at"], reverse=True):
            doc = await self._store.get(repo.DEVICES.name, row["device_id"])
            if doc is not None and doc["status"] == "active":
                result.append({**public_device(doc), "last_used_at": row["last_used_at"]})
        return result

    async def remember_devices(self, envelope: Envelope, decided: UploadDecided) -> None:
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
