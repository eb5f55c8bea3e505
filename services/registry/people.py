"""Users and groups of a tenant, for the LAN channel and the business processes.

A user logs in on a LAN terminal with a login and password (kept as a slow, salted hash) or by
scanning a badge barcode (kept as a hash, found by it). Groups gather users. The group
"everyone" is implicit: every user of the tenant; it is never stored, cannot be created,
renamed or joined, and is not listed among a user's groups.
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

from services.registry import repository as repo
from services.registry.tenants import require_tenant
from shared.clock import now_iso
from shared.errors import Refusal
from shared.logging import get_logger
from shared.outbox import UnitOfWork
from shared.security import hash_password, hash_token, verify_password
from shared.storage import Doc, DuplicateKeyError, Session, Store

log = get_logger("tsdx.registry")

EVERYONE = "everyone"
# How routing names "every user of the tenant" when it asks for members.
ALL_USERS = "*"


def is_reserved_group(name: str) -> bool:
    return name == ALL_USERS or name.casefold() == EVERYONE


@cache
def _decoy_hash() -> str:
    # Checked against when the login is unknown, so that a miss costs as long as a hit.
    return hash_password("decoy")


async def _user(db: Session, tenant: str, login: str) -> Doc:
    doc = await db.get(repo.USERS.name, repo.user_key(tenant, login))
    if doc is None:
        raise Refusal("user_not_found", 404, login=login)
    return doc


async def _group(db: Session, tenant: str, name: str) -> Doc:
    if is_reserved_group(name):
        raise Refusal("group_reserved", 422, group=name)
    doc = await db.get(repo.GROUPS.name, repo.group_key(tenant, name))
    if doc is None:
        raise Refusal("group_not_found", 404, group=name)
    return doc


async def _claim_barcode(db: Session, tenant: str, login: str, barcode: str) -> None:
    key = repo.barcode_key(tenant, hash_token(barcode))
    holder = await db.get(repo.USER_BARCODES.name, key)
    if holder is not None and holder["login"] != login:
        raise Refusal("barcode_taken", 409)
    await db.put(repo.USER_BARCODES.name, {"id": key, "tenant": tenant, "login": login})


async def _drop_barcodes(db: Session, tenant: str, login: str) -> None:
    for row in await repo.barcodes_of(db, tenant, login):
        await db.delete(repo.USER_BARCODES.name, row["id"])


async def _group_names(db: Session, tenant: str, login: str) -> list[str]:
    return sorted(row["group"] for row in await repo.memberships_of(db, tenant, login))


class People:
    def __init__(self, store: Store, uow: UnitOfWork) -> None:
        self._store = store
        self._uow = uow

    # Users -----------------------------------------------------------------------------------

    async def _public_user(self, db: Session, doc: Doc) -> dict[str, Any]:
        barcodes = await repo.barcodes_of(db, doc["tenant"], doc["login"])
        return {
            "login": doc["login"],
            "name": doc["name"],
            "groups": await _group_names(db, doc["tenant"], doc["login"]),
            "has_password": bool(doc.get("password_hash")),
            "has_barcode": bool(barcodes),
            "created_at": doc.get("created_at"),
        }

    async def create_user(
        self,
        tenant: str,
        login: str,
        name: str | None,
        password: str | None,
        barcode: str | None,
    ) -> dict[str, Any]:
        password_hash = await asyncio.to_thread(hash_password, password) if password else None
        doc: Doc = {
            "id": repo.user_key(tenant, login),
            "tenant": tenant,
            "login": login,
            "name": name or login,
            "password_hash": password_hash,
            "created_at": now_iso(),
        }
        try:
            async with self._uow() as tx:
                await require_tenant(tx.db, tenant)
                if await tx.db.get(repo.USERS.name, doc["id"]) is not None:
                    raise Refusal("user_exists", 409, login=login)
                await tx.db.insert(repo.USERS.name, doc)
                if barcode:
                    await _claim_barcode(tx.db, tenant, login, barcode)
        except DuplicateKeyError:
            raise Refusal("user_exists", 409, login=login) from None
        log.info("user.created", tenant=tenant, login=login)
        return await self._public_user(self._store, doc)

    async def list_users(self, tenant: str) -> list[dict[str, Any]]:
        await require_tenant(self._store, tenant)
        return [
            await self._public_user(self._store, doc)
            for doc in await repo.users_of(self._store, tenant)
        ]

    async def get_user(self, tenant: str, login: str) -> dict[str, Any]:
        return await self._public_user(self._store, await _user(self._store, tenant, login))

    async def update_user(self, tenant: str, login: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change the name, the password or the barcode (``None`` removes the barcode)."""
        fields: Doc = {}
        if changes.get("name"):
            fields["name"] = changes["name"]
        if changes.get("password"):
            fields["password_hash"] = await asyncio.to_thread(hash_password, changes["password"])
        async with self._uow() as tx:
            doc = await _user(tx.db, tenant, login)
            if fields:
                await tx.db.update(repo.USERS.name, doc["id"], fields)
                doc.update(fields)
            if "barcode" in changes:
                await _drop_barcodes(tx.db, tenant, login)
                if changes["barcode"]:
                    await _claim_barcode(tx.db, tenant, login, changes["barcode"])
        return await self._public_user(self._store, doc)

    async def delete_user(self, tenant: str, login: str) -> dict[str, Any]:
        async with self._uow() as tx:
            doc = await _user(tx.db, tenant, login)
            for row in await repo.memberships_of(tx.db, tenant, login):
                await tx.db.delete(repo.MEMBERSHIPS.name, row["id"])
            await _drop_barcodes(tx.db, tenant, login)
            await tx.db.delete(repo.USERS.name, doc["id"])
        log.info("user.deleted", tenant=tenant, login=login)
        return {"login": login, "deleted": True}

    async def authenticate(self, tenant: str, login: str, password: str) -> dict[str, Any]:
        doc = await self._store.get(repo.USERS.name, repo.user_key(tenant, login))
        stored = (doc or {}).get("password_hash")
        matches = await asyncio.to_thread(verify_password, password, stored or _decoy_hash())
        if doc is None or not stored or not matches:
            log.info("user.login_refused", tenant=tenant, login=login, by="password")
            raise Refusal("unauthorized", 401)
        return await self._login(doc)

    async def authenticate_barcode(self, tenant: str, barcode: str) -> dict[str, Any]:
        key = repo.barcode_key(tenant, hash_token(barcode))
        row = await self._store.get(repo.USER_BARCODES.name, key)
        doc = None
        if row is not None:
            doc = await self._store.get(repo.USERS.name, repo.user_key(tenant, row["login"]))
        if doc is None:
            log.info("user.login_refused", tenant=tenant, by="barcode")
            raise Refusal("unauthorized", 401)
        return await self._login(doc)

    async def _login(self, doc: Doc) -> dict[str, Any]:
        return {
            "login": doc["login"],
            "name": doc["name"],
            "groups": await _group_names(self._store, doc["tenant"], doc["login"]),
        }

    async def groups_of(self, tenant: str, login: str) -> list[str]:
        """The groups a user is in (an unknown user is in none)."""
        return await _group_names(self._store, tenant, login)

    # Groups ----------------------------------------------------------------------------------

    async def create_group(self, tenant: str, name: str) -> dict[str, Any]:
        if is_reserved_group(name):
            raise Refusal("group_reserved", 422, group=name)
        doc = {
            "id": repo.group_key(tenant, name),
            "tenant": tenant,
            "name": name,
            "created_at": now_iso(),
        }
        try:
            async with self._uow() as tx:
                await require_tenant(tx.db, tenant)
                await tx.db.insert(repo.GROUPS.name, doc)
        except DuplicateKeyError:
            raise Refusal("group_exists", 409, group=name) from None
        return {"group": name, "members": []}

    async def list_groups(self, tenant: str) -> list[dict[str, Any]]:
        await require_tenant(self._store, tenant)
        return [
            {"group": doc["name"], "members": await self.members(tenant, doc["name"])}
            for doc in await repo.groups_of(self._store, tenant)
        ]

    async def rename_group(self, tenant: str, name: str, new_name: str) -> dict[str, Any]:
        if is_reserved_group(new_name):
            raise Refusal("group_reserved", 422, group=new_name)
        async with self._uow() as tx:
            doc = await _group(tx.db, tenant, name)
            if new_name == name:
                return {"group": name, "members": await self._logins(tx.db, tenant, name)}
            if await tx.db.get(repo.GROUPS.name, repo.group_key(tenant, new_name)) is not None:
                raise Refusal("group_exists", 409, group=new_name)
            await tx.db.delete(repo.GROUPS.name, doc["id"])
            await tx.db.insert(
                repo.GROUPS.name, {**doc, "id": repo.group_key(tenant, new_name), "name": new_name}
            )
            for row in await repo.members_of(tx.db, tenant, name):
                await tx.db.delete(repo.MEMBERSHIPS.name, row["id"])
                await self._join(tx.db, tenant, new_name, row["login"])
            members = await self._logins(tx.db, tenant, new_name)
        return {"group": new_name, "members": members}

    async def delete_group(self, tenant: str, name: str) -> dict[str, Any]:
        async with self._uow() as tx:
            doc = await _group(tx.db, tenant, name)
            for row in await repo.members_of(tx.db, tenant, name):
                await tx.db.delete(repo.MEMBERSHIPS.name, row["id"])
            await tx.db.delete(repo.GROUPS.name, doc["id"])
        return {"group": name, "deleted": True}

    async def add_member(self, tenant: str, group: str, login: str) -> dict[str, Any]:
        async with self._uow() as tx:
            await _group(tx.db, tenant, group)
            await _user(tx.db, tenant, login)
            await self._join(tx.db, tenant, group, login)
            members = await self._logins(tx.db, tenant, group)
        return {"group": group, "members": members}

    async def remove_member(self, tenant: str, group: str, login: str) -> dict[str, Any]:
        async with self._uow() as tx:
            await _group(tx.db, tenant, group)
            await _user(tx.db, tenant, login)
            await tx.db.delete(repo.MEMBERSHIPS.name, repo.membership_key(tenant, group, login))
            members = await self._logins(tx.db, tenant, group)
        return {"group": group, "members": members}

    async def members(self, tenant: str, group: str) -> list[str]:
        """Logins in a group, sorted; "*" or "everyone" is every user; an unknown group is []."""
        return await self._logins(self._store, tenant, group)

    async def _logins(self, db: Session, tenant: str, group: str) -> list[str]:
        if is_reserved_group(group):
            return sorted(doc["login"] for doc in await repo.users_of(db, tenant))
        return sorted(row["login"] for row in await repo.members_of(db, tenant, group))

    async def _join(self, db: Session, tenant: str, group: str, login: str) -> None:
        await db.put(
            repo.MEMBERSHIPS.name,
            {
                "id": repo.membership_key(tenant, group, login),
                "tenant": tenant,
                "group": group,
                "login": login,
            },
        )
