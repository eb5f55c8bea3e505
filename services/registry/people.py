"""Users and groups of a tenant, for the LAN channel and the business processes.

A user logs in on a LAN terminal with a login and password (kept as a slow, salted hash) or by
scanning a badge barcode (kept as a hash, found by it). Groups gather users. The group
"everyone" is implicit: every user of the tenant; it is never stored, cannot be created,
renamed or joined, and is not listed among a user's groups.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any

from services.registry import repository as repo
from services.registry.directory_feed import announce_people
from services.registry.repository import Group, Membership, User, UserBarcode
from services.registry.tenants import require_tenant
from shared.clock import now_iso
from shared.errors import Refusal
from shared.logging import get_logger
from shared.outbox import UnitOfWork
from shared.security import hash_password, hash_token, verify_password
from shared.storage import DuplicateKeyError, Session, Store

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


async def _user(db: Session, tenant: str, login: str) -> User:
    found = await repo.user(db, tenant, login)
    if found is None:
        raise Refusal("user_not_found", 404, login=login)
    return found


async def _group(db: Session, tenant: str, name: str) -> Group:
    if is_reserved_group(name):
        raise Refusal("group_reserved", 422, group=name)
    found = await repo.group(db, tenant, name)
    if found is None:
        raise Refusal("group_not_found", 404, group=name)
    return found


async def _claim_barcode(db: Session, tenant: str, login: str, barcode: str) -> None:
    barcode_hash = hash_token(barcode)
    holder = await repo.barcode_holder(db, tenant, barcode_hash)
    if holder is not None and holder.login != login:
        raise Refusal("barcode_taken", 409)
    key = repo.barcode_key(tenant, barcode_hash)
    await repo.put_barcode(db, UserBarcode(id=key, tenant=tenant, login=login))


async def _drop_barcodes(db: Session, tenant: str, login: str) -> None:
    for badge in await repo.barcodes_of(db, tenant, login):
        await repo.delete_barcode(db, badge)


async def _group_names(db: Session, tenant: str, login: str) -> list[str]:
    return sorted(row.group for row in await repo.memberships_of(db, tenant, login))


async def _join(db: Session, tenant: str, group: str, login: str) -> None:
    key = repo.membership_key(tenant, group, login)
    await repo.put_membership(db, Membership(id=key, tenant=tenant, group=group, login=login))


async def _logins(db: Session, tenant: str, group: str) -> list[str]:
    if is_reserved_group(group):
        return sorted(user.login for user in await repo.users_of(db, tenant))
    return sorted(row.login for row in await repo.members_of(db, tenant, group))


class People:
    def __init__(self, store: Store, uow: UnitOfWork) -> None:
        self._store = store
        self._uow = uow

    # Users -----------------------------------------------------------------------------------

    async def _public_user(self, db: Session, user: User) -> dict[str, Any]:
        badges = await repo.barcodes_of(db, user.tenant, user.login)
        return {
            "login": user.login,
            "name": user.name,
            "groups": await _group_names(db, user.tenant, user.login),
            "has_password": bool(user.password_hash),
            "has_barcode": bool(badges),
            "created_at": user.created_at,
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
        user = User(
            id=repo.user_key(tenant, login),
            tenant=tenant,
            login=login,
            name=name or login,
            password_hash=password_hash,
            created_at=now_iso(),
        )
        try:
            async with self._uow() as tx:
                await require_tenant(tx.db, tenant)
                if await repo.user(tx.db, tenant, login) is not None:
                    raise Refusal("user_exists", 409, login=login)
                await repo.insert_user(tx.db, user)
                if barcode:
                    await _claim_barcode(tx.db, tenant, login, barcode)
                await announce_people(tx, tenant)
        except DuplicateKeyError:
            raise Refusal("user_exists", 409, login=login) from None
        log.info("user.created", tenant=tenant, login=login)
        return await self._public_user(self._store, user)

    async def list_users(self, tenant: str) -> list[dict[str, Any]]:
        await require_tenant(self._store, tenant)
        return [
            await self._public_user(self._store, user)
            for user in await repo.users_of(self._store, tenant)
        ]

    async def get_user(self, tenant: str, login: str) -> dict[str, Any]:
        return await self._public_user(self._store, await _user(self._store, tenant, login))

    async def update_user(self, tenant: str, login: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change the name, the password or the barcode (``None`` removes the barcode)."""
        fields: dict[str, Any] = {}
        if changes.get("name"):
            fields["name"] = changes["name"]
        if changes.get("password"):
            fields["password_hash"] = await asyncio.to_thread(hash_password, changes["password"])
        async with self._uow() as tx:
            user = await _user(tx.db, tenant, login)
            if fields:
                changed = dataclasses.replace(user, **fields)
                await repo.revise_user(tx.db, user, changed)
                user = changed
            if "barcode" in changes:
                await _drop_barcodes(tx.db, tenant, login)
                if changes["barcode"]:
                    await _claim_barcode(tx.db, tenant, login, changes["barcode"])
        return await self._public_user(self._store, user)

    async def delete_user(self, tenant: str, login: str) -> dict[str, Any]:
        async with self._uow() as tx:
            user = await _user(tx.db, tenant, login)
            for row in await repo.memberships_of(tx.db, tenant, login):
                await repo.delete_membership(tx.db, tenant, row.group, login)
            await _drop_barcodes(tx.db, tenant, login)
            await repo.delete_user(tx.db, user)
            await announce_people(tx, tenant)
        log.info("user.deleted", tenant=tenant, login=login)
        return {"login": login, "deleted": True}

    async def authenticate(self, tenant: str, login: str, password: str) -> dict[str, Any]:
        user = await repo.user(self._store, tenant, login)
        stored = user.password_hash if user else None
        matches = await asyncio.to_thread(verify_password, password, stored or _decoy_hash())
        if user is None or not stored or not matches:
            log.info("user.login_refused", tenant=tenant, login=login, by="password")
            raise Refusal("unauthorized", 401)
        return await self._login(user)

    async def authenticate_barcode(self, tenant: str, barcode: str) -> dict[str, Any]:
        badge = await repo.barcode_holder(self._store, tenant, hash_token(barcode))
        user = None
        if badge is not None:
            user = await repo.user(self._store, tenant, badge.login)
        if user is None:
            log.info("user.login_refused", tenant=tenant, by="barcode")
            raise Refusal("unauthorized", 401)
        return await self._login(user)

    async def _login(self, user: User) -> dict[str, Any]:
        return {
            "login": user.login,
            "name": user.name,
            "groups": await _group_names(self._store, user.tenant, user.login),
        }

    async def groups_of(self, tenant: str, login: str) -> list[str]:
        """The groups a user is in (an unknown user is in none)."""
        return await _group_names(self._store, tenant, login)

    # Groups ----------------------------------------------------------------------------------

    async def create_group(self, tenant: str, name: str) -> dict[str, Any]:
        if is_reserved_group(name):
            raise Refusal("group_reserved", 422, group=name)
        group = Group(
            id=repo.group_key(tenant, name), tenant=tenant, name=name, created_at=now_iso()
        )
        try:
            async with self._uow() as tx:
                await require_tenant(tx.db, tenant)
                await repo.insert_group(tx.db, group)
                await announce_people(tx, tenant)
        except DuplicateKeyError:
            raise Refusal("group_exists", 409, group=name) from None
        return {"group": name, "members": []}

    async def list_groups(self, tenant: str) -> list[dict[str, Any]]:
        await require_tenant(self._store, tenant)
        return [
            {"group": group.name, "members": await self.members(tenant, group.name)}
            for group in await repo.groups_of(self._store, tenant)
        ]

    async def rename_group(self, tenant: str, name: str, new_name: str) -> dict[str, Any]:
        if is_reserved_group(new_name):
            raise Refusal("group_reserved", 422, group=new_name)
        async with self._uow() as tx:
            group = await _group(tx.db, tenant, name)
            if new_name == name:
                return {"group": name, "members": await _logins(tx.db, tenant, name)}
            if await repo.group(tx.db, tenant, new_name) is not None:
                raise Refusal("group_exists", 409, group=new_name)
            await repo.delete_group(tx.db, group)
            renamed = dataclasses.replace(group, id=repo.group_key(tenant, new_name), name=new_name)
            await repo.insert_group(tx.db, renamed)
            for row in await repo.members_of(tx.db, tenant, name):
                await repo.delete_membership(tx.db, tenant, name, row.login)
                await _join(tx.db, tenant, new_name, row.login)
            members = await _logins(tx.db, tenant, new_name)
            await announce_people(tx, tenant)
        return {"group": new_name, "members": members}

    async def delete_group(self, tenant: str, name: str) -> dict[str, Any]:
        async with self._uow() as tx:
            group = await _group(tx.db, tenant, name)
            for row in await repo.members_of(tx.db, tenant, name):
                await repo.delete_membership(tx.db, tenant, name, row.login)
            await repo.delete_group(tx.db, group)
            await announce_people(tx, tenant)
        return {"group": name, "deleted": True}

    async def add_member(self, tenant: str, group: str, login: str) -> dict[str, Any]:
        return await self._change_membership(tenant, group, login, _join)

    async def remove_member(self, tenant: str, group: str, login: str) -> dict[str, Any]:
        return await self._change_membership(tenant, group, login, repo.delete_membership)

    async def _change_membership(
        self,
        tenant: str,
        group: str,
        login: str,
        change: Callable[[Session, str, str, str], Awaitable[None]],
    ) -> dict[str, Any]:
        """A user joins or leaves a group, both known; the group's members after it."""
        async with self._uow() as tx:
            await _group(tx.db, tenant, group)
            await _user(tx.db, tenant, login)
            await change(tx.db, tenant, group, login)
            members = await _logins(tx.db, tenant, group)
            await announce_people(tx, tenant)
        return {"group": group, "members": members}

    async def members(self, tenant: str, group: str) -> list[str]:
        """Logins in a group, sorted; "*" or "everyone" is every user; an unknown group is []."""
        return await _logins(self._store, tenant, group)
