"""The operators' API (admin token): tenants, their devices, users and groups.

Thin endpoints: each validates its input and asks the registry, which owns the directory.
Changes that decide who may call the gateway (a rotated API key, a blocked, retired or replaced
device) are written into the gateway's own copies and announced to every gateway instance
before answering, so the old credential is refused by the very next request, on any instance,
rather than when the registry's event arrives. Every change
is audited (``shared.audit``), without the secrets it issues or sets.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import ConfigDict, Field, StringConstraints, model_validator

from services.gateway import directory
from services.gateway.auth import AdminDep
from shared.audit import audited
from shared.contracts.absent import NullMeansAbsent
from shared.contracts.directory import TENANT_ID_PATTERN, GroupName, Login
from shared.contracts.documents import DeviceMode
from shared.errors import Refusal
from shared.http import ask
from shared.messaging.topology import REGISTRY_RPC
from shared.service import Runtime, RuntimeDep

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])

TenantId = Annotated[str, Path(pattern=TENANT_ID_PATTERN, examples=["sklad-na-lenina"])]
DeviceId = Annotated[str, Path(min_length=1, max_length=100)]
LoginPath = Annotated[Login, Path(examples=["ivanov"])]
GroupPath = Annotated[GroupName, Path(examples=["Кладовщики"])]
# Passwords are taken exactly as typed: surrounding spaces are part of them.
Password = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=200)]


class _Body(NullMeansAbsent):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class NewTenant(_Body):
    name: str = Field(min_length=1, max_length=200, examples=["Склад на Ленина"])
    tenant: str | None = Field(default=None, pattern=TENANT_ID_PATTERN)


class DeviceChanges(_Body):
    name: str | None = Field(default=None, min_length=1, max_length=200, examples=["EDA50 №2"])
    mode: DeviceMode | None = None

    @model_validator(mode="after")
    def _something(self) -> DeviceChanges:
        if self.name is None and self.mode is None:
            raise ValueError("give name or mode")
        return self


class Replacement(_Body):
    new_device: str = Field(min_length=1, max_length=100, description="the already paired device")


class NewUser(_Body):
    login: Login = Field(examples=["ivanov"])
    name: str | None = Field(default=None, min_length=1, max_length=200, examples=["Иванов И."])
    password: Password | None = None
    barcode: str | None = Field(default=None, min_length=1, max_length=200)


class UserChanges(_Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    password: Password | None = None
    barcode: str | None = Field(
        default=None, min_length=1, max_length=200, description="null removes the barcode"
    )


class NewGroup(_Body):
    group: GroupName = Field(examples=["Кладовщики"])


class GroupRename(_Body):
    name: GroupName


# Tenants -------------------------------------------------------------------------------------


@router.post(
    "/tenants", status_code=201, summary="Create an accounting base; its API key is shown once"
)
async def create_tenant(body: NewTenant, rt: RuntimeDep, _: AdminDep) -> Any:
    with audited("tenant.create", tenant=body.tenant, target=body.tenant, name=body.name) as entry:
        created = await ask(
            rt.rpc, REGISTRY_RPC, "tenant.create", body.model_dump(exclude_none=True)
        )
        entry.tenant = entry.target = created["tenant"]
    return created


@router.get("/tenants", summary="List accounting bases")
async def list_tenants(rt: RuntimeDep, _: AdminDep) -> Any:
    return {"tenants": await ask(rt.rpc, REGISTRY_RPC, "tenant.list", {})}


@router.post(
    "/tenants/{tenant}/api-key",
    summary="Issue a new API key (shown once); the old one is refused from now on",
)
async def rotate_api_key(tenant: TenantId, rt: RuntimeDep, _: AdminDep) -> dict[str, Any]:
    with audited("tenant.rotate_api_key", tenant=tenant, target=tenant):
        rotated = await ask(rt.rpc, REGISTRY_RPC, "tenant.rotate_key", {}, tenant)
        await directory.keep_tenant(rt, rotated)
    return {"tenant": rotated["tenant"], "api_key": rotated["api_key"]}


@router.post(
    "/tenants/{tenant}/connection-code",
    summary="Issue a new device connection code (shown once); paired devices stay paired",
)
async def rotate_connection_code(tenant: TenantId, rt: RuntimeDep, _: AdminDep) -> dict[str, Any]:
    with audited("tenant.rotate_connection_code", tenant=tenant, target=tenant):
        rotated = await ask(rt.rpc, REGISTRY_RPC, "tenant.rotate_code", {}, tenant)
    return {"tenant": rotated["tenant"], "connection_code": rotated["connection_code"]}


# Devices -------------------------------------------------------------------------------------


@router.get("/tenants/{tenant}/devices", summary="The base's devices, active first")
async def list_devices(
    tenant: TenantId,
    rt: RuntimeDep,
    _: AdminDep,
    status: Literal["active", "blocked", "retired"] | None = Query(default=None),
) -> dict[str, Any]:
    params = {"status": status} if status else {}
    devices = await ask(rt.rpc, REGISTRY_RPC, "device.list", params, tenant)
    return {"devices": await directory.shown_all(rt, devices)}


@router.get("/tenants/{tenant}/devices/{device_id}", summary="One device of the base")
async def get_device(
    tenant: TenantId, device_id: DeviceId, rt: RuntimeDep, _: AdminDep
) -> dict[str, Any]:
    device = await ask(rt.rpc, REGISTRY_RPC, "device.get", {"device_id": device_id}, tenant)
    if device is None:
        raise Refusal("device_not_found", 404, device=device_id)
    return await directory.shown(rt, device)


@router.patch("/tenants/{tenant}/devices/{device_id}", summary="Rename, or set online/offline")
async def update_device(
    tenant: TenantId, device_id: DeviceId, body: DeviceChanges, rt: RuntimeDep, _: AdminDep
) -> dict[str, Any]:
    changes = body.model_dump(exclude_none=True)
    params = {"device_id": device_id, **changes}
    with audited("device.update", tenant=tenant, target=device_id, **changes):
        return await directory.keep_device(
            rt, await ask(rt.rpc, REGISTRY_RPC, "device.update", params, tenant)
        )


async def _life_cycle(rt: Runtime, method: str, tenant: str, device_id: str) -> dict[str, Any]:
    with audited(method, tenant=tenant, target=device_id):
        record = await ask(rt.rpc, REGISTRY_RPC, method, {"device_id": device_id}, tenant)
        return await directory.keep_device(rt, record)


@router.post(
    "/tenants/{tenant}/devices/{device_id}/block",
    summary="Refuse the device from now on (it keeps its PIN)",
)
async def block_device(
    tenant: TenantId, device_id: DeviceId, rt: RuntimeDep, _: AdminDep
) -> dict[str, Any]:
    return await _life_cycle(rt, "device.block", tenant, device_id)


@router.post("/tenants/{tenant}/devices/{device_id}/unblock", summary="Let a blocked device in")
async def unblock_device(
    tenant: TenantId, device_id: DeviceId, rt: RuntimeDep, _: AdminDep
) -> dict[str, Any]:
    return await _life_cycle(rt, "device.unblock", tenant, device_id)


@router.post(
    "/tenants/{tenant}/devices/{device_id}/retire",
    summary="Take the device out of service for good; its PIN cools off",
)
async def retire_device(
    tenant: TenantId, device_id: DeviceId, rt: RuntimeDep, _: AdminDep
) -> dict[str, Any]:
    return await _life_cycle(rt, "device.retire", tenant, device_id)


@router.post(
    "/tenants/{tenant}/devices/{device_id}/replace",
    summary="Replace a broken terminal by a paired one: PIN and waiting documents move to it",
)
async def replace_device(
    tenant: TenantId, device_id: DeviceId, body: Replacement, rt: RuntimeDep, _: AdminDep
) -> dict[str, Any]:
    params = {"old_device": device_id, "new_device": body.new_device}
    with audited("device.replace", tenant=tenant, target=device_id, new_device=body.new_device):
        replaced = await ask(rt.rpc, REGISTRY_RPC, "device.replace", params, tenant)
        await directory.keep_replacement(rt, tenant, device_id, body.new_device)
        return {
            "old": await directory.keep_device(rt, replaced["old"]),
            "new": await directory.keep_device(rt, replaced["new"]),
        }


# Users and groups ----------------------------------------------------------------------------


@router.get("/tenants/{tenant}/users", summary="The base's users with their groups")
async def list_users(tenant: TenantId, rt: RuntimeDep, _: AdminDep) -> dict[str, Any]:
    return {"users": await ask(rt.rpc, REGISTRY_RPC, "user.list", {}, tenant)}


@router.post("/tenants/{tenant}/users", status_code=201, summary="Create a user")
async def create_user(tenant: TenantId, body: NewUser, rt: RuntimeDep, _: AdminDep) -> Any:
    params = body.model_dump(exclude_none=True)
    with audited("user.create", tenant=tenant, target=body.login, fields=_fields(params)):
        return await ask(rt.rpc, REGISTRY_RPC, "user.create", params, tenant)


@router.get("/tenants/{tenant}/users/{login}", summary="One user")
async def get_user(tenant: TenantId, login: LoginPath, rt: RuntimeDep, _: AdminDep) -> Any:
    return await ask(rt.rpc, REGISTRY_RPC, "user.get", {"login": login}, tenant)


@router.patch(
    "/tenants/{tenant}/users/{login}", summary="Rename, set the password, set or remove the barcode"
)
async def update_user(
    tenant: TenantId, login: LoginPath, body: UserChanges, rt: RuntimeDep, _: AdminDep
) -> Any:
    changes = body.model_dump(include=body.model_fields_set)
    with audited("user.update", tenant=tenant, target=login, fields=_fields(changes)):
        return await ask(rt.rpc, REGISTRY_RPC, "user.update", {"login": login, **changes}, tenant)


@router.delete("/tenants/{tenant}/users/{login}", summary="Delete a user and its memberships")
async def delete_user(tenant: TenantId, login: LoginPath, rt: RuntimeDep, _: AdminDep) -> Any:
    with audited("user.delete", tenant=tenant, target=login):
        return await ask(rt.rpc, REGISTRY_RPC, "user.delete", {"login": login}, tenant)


def _fields(params: dict[str, Any]) -> list[str]:
    """Which fields a user change sets: the names only, as a password or badge is a secret."""
    return sorted(k for k in params if k != "login")


@router.get("/tenants/{tenant}/groups", summary="The base's groups with their members")
async def list_groups(tenant: TenantId, rt: RuntimeDep, _: AdminDep) -> dict[str, Any]:
    return {"groups": await ask(rt.rpc, REGISTRY_RPC, "group.list", {}, tenant)}


@router.post("/tenants/{tenant}/groups", status_code=201, summary="Create a group")
async def create_group(tenant: TenantId, body: NewGroup, rt: RuntimeDep, _: AdminDep) -> Any:
    with audited("group.create", tenant=tenant, target=body.group):
        return await ask(rt.rpc, REGISTRY_RPC, "group.create", {"group": body.group}, tenant)


@router.patch("/tenants/{tenant}/groups/{group}", summary="Rename a group (members stay)")
async def rename_group(
    tenant: TenantId, group: GroupPath, body: GroupRename, rt: RuntimeDep, _: AdminDep
) -> Any:
    params = {"group": group, "new_name": body.name}
    with audited("group.rename", tenant=tenant, target=group, new_name=body.name):
        return await ask(rt.rpc, REGISTRY_RPC, "group.rename", params, tenant)


@router.delete("/tenants/{tenant}/groups/{group}", summary="Delete a group (users stay)")
async def delete_group(tenant: TenantId, group: GroupPath, rt: RuntimeDep, _: AdminDep) -> Any:
    with audited("group.delete", tenant=tenant, target=group):
        return await ask(rt.rpc, REGISTRY_RPC, "group.delete", {"group": group}, tenant)


@router.put("/tenants/{tenant}/groups/{group}/members/{login}", summary="Add a user to a group")
async def add_member(
    tenant: TenantId, group: GroupPath, login: LoginPath, rt: RuntimeDep, _: AdminDep
) -> Any:
    params = {"group": group, "login": login}
    with audited("group.add_member", tenant=tenant, target=login, group=group):
        return await ask(rt.rpc, REGISTRY_RPC, "group.add_member", params, tenant)


@router.delete(
    "/tenants/{tenant}/groups/{group}/members/{login}", summary="Take a user out of a group"
)
async def remove_member(
    tenant: TenantId, group: GroupPath, login: LoginPath, rt: RuntimeDep, _: AdminDep
) -> Any:
    params = {"group": group, "login": login}
    with audited("group.remove_member", tenant=tenant, target=login, group=group):
        return await ask(rt.rpc, REGISTRY_RPC, "group.remove_member", params, tenant)
