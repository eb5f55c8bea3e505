"""The operators' API (admin token): tenants, their devices, users and groups.

Thin endpoints: each validates its input and asks the registry, which owns the directory,
through its typed client (:class:`Registry`). The request bodies are the registry's own
parameter models and the answers its result models (``shared.contracts.registry_rpc``).
Changes that decide who may call the gateway (a rotated API key, a blocked, retired or replaced
device) are written into the gateway's own copies and announced to every gateway instance
before answering, so the old credential is refused by the very next request, on any instance,
rather than when the registry's event arrives. Every change
is audited (``shared.audit``), without the secrets it issues or sets.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import ConfigDict, Field

from services.gateway import directory
from services.gateway.auth import AdminDep
from shared.audit import audited
from shared.contracts import registry_rpc as registry
from shared.contracts.absent import NullMeansAbsent
from shared.contracts.directory import TENANT_ID_PATTERN, GroupName, Login
from shared.contracts.registry_rpc import (
    DeviceChanges,
    NewTenant,
    NewUser,
    Registry,
    Replacement,
    UserChanges,
)
from shared.contracts.rpc import NoParams, RpcMethod
from shared.errors import Refusal
from shared.http import HttpCaller
from shared.service import Runtime, RuntimeDep

# The endpoints are declared alike (a path, a summary, the operator, then one registry method
# inside its audit record), as are the LAN writer's admin.py and terminal.py: each asks its own.
router = APIRouter(prefix="/api/v1/admin", tags=["admin"])

TenantId = Annotated[str, Path(pattern=TENANT_ID_PATTERN, examples=["sklad-na-lenina"])]
DeviceId = Annotated[str, Path(min_length=1, max_length=100)]
LoginPath = Annotated[Login, Path(examples=["ivanov"])]
GroupPath = Annotated[GroupName, Path(examples=["Кладовщики"])]


class _Body(NullMeansAbsent):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class NewGroup(_Body):
    group: GroupName = Field(examples=["Кладовщики"])


class GroupRename(_Body):
    name: GroupName


def _registry(rt: Runtime, tenant: str | None = None) -> Registry:
    """The registry, asked for ``tenant`` (none: the bases themselves)."""
    return Registry(HttpCaller(rt.rpc), tenant)


# Tenants -------------------------------------------------------------------------------------


@router.post(
    "/tenants", status_code=201, summary="Create an accounting base; its API key is shown once"
)
async def create_tenant(body: NewTenant, rt: RuntimeDep, _: AdminDep) -> Any:
    with audited("tenant.create", tenant=body.tenant, target=body.tenant, name=body.name) as entry:
        created = await _registry(rt).create_tenant(body)
        entry.tenant = entry.target = created.tenant
    return created


@router.get("/tenants", summary="List accounting bases")
async def list_tenants(rt: RuntimeDep, _: AdminDep) -> Any:
    return {"tenants": await _registry(rt).list_tenants(NoParams())}


@router.post(
    "/tenants/{tenant}/api-key",
    summary="Issue a new API key (shown once); the old one is refused from now on",
)
async def rotate_api_key(tenant: TenantId, rt: RuntimeDep, _: AdminDep) -> dict[str, Any]:
    # The gateway checks API keys against its own copy of the base: keep the new one at once.
    with audited("tenant.rotate_api_key", tenant=tenant, target=tenant):
        rotated = await _registry(rt, tenant).rotate_api_key(NoParams())
        await directory.keep_tenant(rt, rotated)
    return {"tenant": rotated.tenant, "api_key": rotated.api_key}


@router.post(
    "/tenants/{tenant}/connection-code",
    summary="Issue a new device connection code (shown once); paired devices stay paired",
)
async def rotate_connection_code(tenant: TenantId, rt: RuntimeDep, _: AdminDep) -> dict[str, Any]:
    with audited("tenant.rotate_connection_code", tenant=tenant, target=tenant):
        rotated = await _registry(rt, tenant).rotate_connection_code(NoParams())
    return {"tenant": rotated.tenant, "connection_code": rotated.connection_code}


# Devices -------------------------------------------------------------------------------------


@router.get("/tenants/{tenant}/devices", summary="The base's devices, active first")
async def list_devices(
    tenant: TenantId,
    rt: RuntimeDep,
    _: AdminDep,
    status: Literal["active", "blocked", "retired"] | None = Query(default=None),
) -> dict[str, Any]:
    by_status = registry.DeviceFilter(status=status) if status else registry.DeviceFilter()
    devices = await _registry(rt, tenant).list_devices(by_status)
    return {"devices": await directory.shown_all(rt, devices)}


@router.get("/tenants/{tenant}/devices/{device_id}", summary="One device of the base")
async def get_device(
    tenant: TenantId, device_id: DeviceId, rt: RuntimeDep, _: AdminDep
) -> dict[str, Any]:
    by_device = registry.ByDevice(device_id=device_id)
    device = await _registry(rt, tenant).get_device(by_device)
    if device is None:
        raise Refusal("device_not_found", 404, device=device_id)
    return await directory.shown(rt, device)


@router.patch("/tenants/{tenant}/devices/{device_id}", summary="Rename, or set online/offline")
async def update_device(
    tenant: TenantId, device_id: DeviceId, body: DeviceChanges, rt: RuntimeDep, _: AdminDep
) -> dict[str, Any]:
    changes = body.model_dump(exclude_none=True)
    update = registry.UpdateDevice(device_id=device_id, **changes)
    with audited("device.update", tenant=tenant, target=device_id, **changes):
        return await directory.keep_device(rt, await _registry(rt, tenant).update_device(update))


def _life_cycle_route(
    action: str, method: RpcMethod[registry.ByDevice, registry.DeviceRecord], summary: str
) -> None:
    async def change(
        tenant: TenantId, device_id: DeviceId, rt: RuntimeDep, _: AdminDep
    ) -> dict[str, Any]:
        with audited(method.name, tenant=tenant, target=device_id):
            by_device = registry.ByDevice(device_id=device_id)
            record = await HttpCaller(rt.rpc).call(method, by_device, tenant)
            return await directory.keep_device(rt, record)

    path = f"/tenants/{{tenant}}/devices/{{device_id}}/{action}"
    router.add_api_route(path, change, methods=["POST"], summary=summary, name=f"{action}_device")


# A step of a device's life cycle: the same endpoint for each, asking its own method.
for _action, _method, _summary in (
    ("block", Registry.block_device, "Refuse the device from now on (it keeps its PIN)"),
    ("unblock", Registry.unblock_device, "Let a blocked device in"),
    (
        "retire",
        Registry.retire_device,
        "Take the device out of service for good; its PIN cools off",
    ),
):
    _life_cycle_route(_action, _method, _summary)


@router.post(
    "/tenants/{tenant}/devices/{device_id}/replace",
    summary="Replace a broken terminal by a paired one: PIN and waiting documents move to it",
)
async def replace_device(
    tenant: TenantId, device_id: DeviceId, body: Replacement, rt: RuntimeDep, _: AdminDep
) -> dict[str, Any]:
    replacement = registry.ReplaceDevice(old_device=device_id, new_device=body.new_device)
    with audited("device.replace", tenant=tenant, target=device_id, new_device=body.new_device):
        replaced = await _registry(rt, tenant).replace_device(replacement)
        await directory.keep_replacement(rt, tenant, device_id, body.new_device)
        return {
            "old": await directory.keep_device(rt, replaced.old),
            "new": await directory.keep_device(rt, replaced.new),
        }


# Users and groups ----------------------------------------------------------------------------


@router.get("/tenants/{tenant}/users", summary="The base's users with their groups")
async def list_users(tenant: TenantId, rt: RuntimeDep, _: AdminDep) -> dict[str, Any]:
    return {"users": await _registry(rt, tenant).list_users(NoParams())}


@router.post("/tenants/{tenant}/users", status_code=201, summary="Create a user")
async def create_user(tenant: TenantId, body: NewUser, rt: RuntimeDep, _: AdminDep) -> Any:
    given = body.model_dump(exclude_none=True)
    with audited("user.create", tenant=tenant, target=body.login, fields=_fields(given)):
        return await _registry(rt, tenant).create_user(body)


@router.get("/tenants/{tenant}/users/{login}", summary="One user")
async def get_user(tenant: TenantId, login: LoginPath, rt: RuntimeDep, _: AdminDep) -> Any:
    return await _registry(rt, tenant).get_user(registry.ByLogin(login=login))


@router.patch(
    "/tenants/{tenant}/users/{login}", summary="Rename, set the password, set or remove the barcode"
)
async def update_user(
    tenant: TenantId, login: LoginPath, body: UserChanges, rt: RuntimeDep, _: AdminDep
) -> Any:
    changes = body.model_dump(include=body.model_fields_set)
    with audited("user.update", tenant=tenant, target=login, fields=_fields(changes)):
        update = registry.UpdateUser(login=login, **changes)
        return await _registry(rt, tenant).update_user(update)


@router.delete("/tenants/{tenant}/users/{login}", summary="Delete a user and its memberships")
async def delete_user(tenant: TenantId, login: LoginPath, rt: RuntimeDep, _: AdminDep) -> Any:
    with audited("user.delete", tenant=tenant, target=login):
        return await _registry(rt, tenant).delete_user(registry.ByLogin(login=login))


def _fields(params: dict[str, Any]) -> list[str]:
    """Which fields a user change sets: the names only, as a password or badge is a secret."""
    return sorted(k for k in params if k != "login")


@router.get("/tenants/{tenant}/groups", summary="The base's groups with their members")
async def list_groups(tenant: TenantId, rt: RuntimeDep, _: AdminDep) -> dict[str, Any]:
    return {"groups": await _registry(rt, tenant).list_groups(NoParams())}


@router.post("/tenants/{tenant}/groups", status_code=201, summary="Create a group")
async def create_group(tenant: TenantId, body: NewGroup, rt: RuntimeDep, _: AdminDep) -> Any:
    with audited("group.create", tenant=tenant, target=body.group):
        by_group = registry.ByGroup(group=body.group)
        return await _registry(rt, tenant).create_group(by_group)


@router.patch("/tenants/{tenant}/groups/{group}", summary="Rename a group (members stay)")
async def rename_group(
    tenant: TenantId, group: GroupPath, body: GroupRename, rt: RuntimeDep, _: AdminDep
) -> Any:
    rename = registry.GroupRename(group=group, new_name=body.name)
    with audited("group.rename", tenant=tenant, target=group, new_name=body.name):
        return await _registry(rt, tenant).rename_group(rename)


@router.delete("/tenants/{tenant}/groups/{group}", summary="Delete a group (users stay)")
async def delete_group(tenant: TenantId, group: GroupPath, rt: RuntimeDep, _: AdminDep) -> Any:
    with audited("group.delete", tenant=tenant, target=group):
        by_group = registry.ByGroup(group=group)
        return await _registry(rt, tenant).delete_group(by_group)


@router.put("/tenants/{tenant}/groups/{group}/members/{login}", summary="Add a user to a group")
async def add_member(
    tenant: TenantId, group: GroupPath, login: LoginPath, rt: RuntimeDep, _: AdminDep
) -> Any:
    membership = registry.Membership(group=group, login=login)
    with audited("group.add_member", tenant=tenant, target=login, group=group):
        return await _registry(rt, tenant).add_member(membership)


@router.delete(
    "/tenants/{tenant}/groups/{group}/members/{login}", summary="Take a user out of a group"
)
async def remove_member(
    tenant: TenantId, group: GroupPath, login: LoginPath, rt: RuntimeDep, _: AdminDep
) -> Any:
    membership = registry.Membership(group=group, login=login)
    with audited("group.remove_member", tenant=tenant, target=login, group=group):
        return await _registry(rt, tenant).remove_member(membership)
