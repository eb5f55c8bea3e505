"""Tenants: one per accounting base, with an API key and a device connection code.

Both secrets are shown once (when created or rotated) and stored as hashes only. Every change
is committed together with its ``tenant.changed`` event, which the gateway's and the LAN
writer's copies follow. A base's barcode settings for its terminals (weight-code layout, GS
substitute) are part of the tenant: the registry owns them, the terminal APIs serve copies.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from typing import Any

from services.registry import repository as repo
from services.registry.repository import Tenant
from shared.clock import now_iso
from shared.contracts.directory import (
    TENANT_ID_PATTERN,
    BarcodeSettings,
    TenantChanged,
    barcode_settings_of,
)
from shared.errors import Refusal
from shared.outbox import Tx, UnitOfWork
from shared.security import hash_token, new_connection_code, new_token
from shared.storage import DuplicateKeyError, Session, Store, TransactionConflict

_SLUG = re.compile(r"[^a-z0-9]+")
TENANT_ID = re.compile(TENANT_ID_PATTERN)


async def require_tenant(db: Session, tenant: str) -> Tenant:
    found = await repo.tenant(db, tenant)
    if found is None:
        raise Refusal("tenant_not_found", 404, tenant=tenant)
    return found


def tenant_record(tenant: Tenant) -> dict[str, Any]:
    """What other services keep of a tenant (the gateway authenticates API keys by it). Alike
    in shape to other views of a record (gateway/webhooks.py's log_entry): each names what its
    own reader sees."""
    return {
        "tenant": tenant.id,
        "name": tenant.name,
        "api_key_hash": tenant.api_key_hash,
        "status": tenant.status,
        "revision": tenant.revision,
        "barcodes": barcode_settings_of(tenant.row()).model_dump(),
    }


def tenant_id_for(name: str) -> str:
    """The id a base gets from its name when none is asked for: its name as a slug."""
    return _SLUG.sub("-", name.lower()).strip("-")[:63] or uuid.uuid4().hex[:8]


async def _emit(tx: Tx, tenant: Tenant) -> None:
    await tx.emit(TenantChanged.model_validate(tenant_record(tenant)), tenant.id)


class Tenants:
    def __init__(self, store: Store, uow: UnitOfWork) -> None:
        self._store = store
        self._uow = uow

    async def create(self, name: str, tenant_id: str | None = None) -> dict[str, Any]:
        name = name.strip()
        if not name:
            raise Refusal("validation_error", 422, details="name: must not be empty")
        tid = tenant_id or tenant_id_for(name)
        if not TENANT_ID.fullmatch(tid):
            raise Refusal("validation_error", 422, details="tenant: a-z, 0-9 and '-' only")
        api_key = new_token("tsdx")
        code = new_connection_code()
        tenant = Tenant(
            id=tid,
            name=name,
            api_key_hash=hash_token(api_key),
            connection_code_hash=hash_token(code),
            status="active",
            revision=1,
            created_at=now_iso(),
        )

        async def work(tx: Tx) -> None:
            await repo.insert_tenant(tx.db, tenant)
            await _emit(tx, tenant)

        try:
            await self._uow.run(work)
        except DuplicateKeyError:
            raise Refusal("tenant_exists", 409, tenant=tid) from None
        # The only time the secrets are seen in clear.
        return {"tenant": tid, "name": name, "api_key": api_key, "connection_code": code}

    async def list_all(self) -> list[dict[str, Any]]:
        result = []
        for tenant in await repo.tenants(self._store):
            devices = await repo.count_pin_holders(self._store, tenant.id)
            result.append(
                {
                    "tenant": tenant.id,
                    "name": tenant.name,
                    "status": tenant.status,
                    "devices": devices,
                    "created_at": tenant.created_at,
                }
            )
        return result

    async def authenticate(self, api_key_hash: str) -> dict[str, Any]:
        tenant = await repo.tenant_by_api_key_hash(self._store, api_key_hash)
        if tenant is None or tenant.status != "active":
            raise Refusal("unauthorized", 401)
        return tenant_record(tenant)

    async def rotate_api_key(self, tenant: str) -> dict[str, Any]:
        """A new API key; the old one stops working as soon as the gateway has the new record."""
        api_key = new_token("tsdx")
        changed = await self._change(tenant, api_key_hash=hash_token(api_key))
        return {**tenant_record(changed), "api_key": api_key}

    async def rotate_connection_code(self, tenant: str) -> dict[str, Any]:
        """A new connection code for pairing; devices already paired are not affected."""
        code = new_connection_code()
        changed = await self._change(tenant, connection_code_hash=hash_token(code))
        return {**tenant_record(changed), "connection_code": code}

    async def set_barcodes(self, tenant: str, settings: BarcodeSettings) -> dict[str, Any]:
        """New barcode settings for the base's terminals (they read them at their next ``me``)."""
        return tenant_record(await self._change(tenant, barcodes=settings.model_dump()))

    async def _change(self, tenant: str, **changes: Any) -> Tenant:
        async def work(tx: Tx) -> Tenant:
            before = await require_tenant(tx.db, tenant)
            after = dataclasses.replace(before, **changes, revision=before.revision + 1)
            if not await repo.revise_tenant(tx.db, before, after):
                # Another writer got there first: the whole unit runs again on fresh reads.
                raise TransactionConflict(f"tenant {tenant} changed meanwhile")
            await _emit(tx, after)
            return after

        return await self._uow.run(work)
