"""The registry's RPC methods: thin adapters from request parameters to the directory.

Tenant-scoped methods take the tenant from the envelope, never from the parameters, so a
caller acting for one base cannot name another.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    StringConstraints,
    model_validator,
)

from services.registry import directory_feed
from services.registry.catalog import Catalogs
from services.registry.device_life import DeviceLife
from services.registry.known_devices import KnownDevices
from services.registry.pairing import Pairing
from services.registry.people import People
from services.registry.tenants import Tenants
from shared.catalog.batch import CatalogInvalid, read_batch
from shared.contracts import Envelope
from shared.contracts.catalog import StoreName
from shared.contracts.directory import TENANT_ID_PATTERN, BarcodeSettings, GroupName, Login
from shared.contracts.documents import DeviceMode
from shared.errors import Refusal
from shared.messaging.rpc import Method, Params, parse_params
from shared.storage import Store

# Passwords are taken exactly as typed: surrounding spaces are part of them.
Password = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=200)]
Barcode = Annotated[str, Field(min_length=1, max_length=200)]
DisplayName = Annotated[str, Field(min_length=1, max_length=200)]


class CreateTenant(Params):
    name: str = Field(min_length=1, max_length=200)
    tenant: str | None = Field(default=None, pattern=TENANT_ID_PATTERN)


class Pair(Params):
    connection_code: str = Field(min_length=1, max_length=100)
    hardware_id: str = Field(min_length=1, max_length=200)
    model: str = Field(default="", max_length=200)
    name: str = Field(default="", max_length=200)
    mode: DeviceMode = "online"


class ByHash(Params):
    hash: str = Field(min_length=64, max_length=64)


class ByPin(Params):
    pin: str = Field(min_length=1, max_length=20)


class ByDevice(Params):
    device_id: str = Field(min_length=1, max_length=100)


class DeviceFilter(Params):
    status: Literal["active", "blocked", "retired"] | None = None


class DeviceChanges(ByDevice):
    name: DisplayName | None = None
    mode: DeviceMode | None = None

    @model_validator(mode="after")
    def _something(self) -> DeviceChanges:
        if self.name is None and self.mode is None:
            raise ValueError("name or mode: give at least one")
        return self


class Replacement(Params):
    old_device: str = Field(min_length=1, max_length=100)
    new_device: str = Field(min_length=1, max_length=100)


class ByLogin(Params):
    login: Login


class NewUser(ByLogin):
    name: DisplayName | None = None
    password: Password | None = None
    barcode: Barcode | None = None


class UserChanges(ByLogin):
    name: DisplayName | None = None
    password: Password | None = None
    # Given as null, the barcode is removed; left out, it stays.
    barcode: Barcode | None = None


class Credentials(Params):
    # Any login may be tried: one that cannot exist is simply not found (unauthorized).
    login: str | None = Field(default=None, min_length=1, max_length=200)
    password: Password | None = None
    barcode: Barcode | None = None

    @model_validator(mode="after")
    def _one_way(self) -> Credentials:
        by_password = self.login is not None and self.password is not None
        if by_password == (self.barcode is not None):
            raise ValueError("give either login and password, or barcode")
        return self


class ByGroup(Params):
    group: GroupName


class AnyGroup(Params):
    # Asking for members of a group that cannot exist is not an error: it has none.
    group: str = Field(min_length=1, max_length=100)


class GroupRename(ByGroup):
    new_name: GroupName


class Membership(ByGroup):
    login: Login


class NoParams(Params):
    pass


class BarcodeParams(BarcodeSettings, Params):
    pass


class CatalogBatch(Params):
    # Checked item by item by read_batch, which names each wrong item.
    batch: dict[str, Any]


class CatalogSince(Params):
    store: StoreName = ""
    since: int = Field(ge=0)
    limit: int = Field(default=5000, ge=1, le=10_000)


def _tenant(envelope: Envelope) -> str:
    if not envelope.tenant:
        raise Refusal("validation_error", 422, details="tenant: required")
    return envelope.tenant


def tenant_methods(tenants: Tenants) -> dict[str, Method]:
    async def create(env: Envelope, params: dict[str, Any]) -> Any:
        p = parse_params(CreateTenant, params)
        return await tenants.create(p.name, p.tenant)

    async def list_(env: Envelope, params: dict[str, Any]) -> Any:
        parse_params(NoParams, params)
        return await tenants.list_all()

    async def authenticate(env: Envelope, params: dict[str, Any]) -> Any:
        return await tenants.authenticate(parse_params(ByHash, params).hash)

    async def rotate_key(env: Envelope, params: dict[str, Any]) -> Any:
        parse_params(NoParams, params)
        return await tenants.rotate_api_key(_tenant(env))

    async def rotate_code(env: Envelope, params: dict[str, Any]) -> Any:
        parse_params(NoParams, params)
        return await tenants.rotate_connection_code(_tenant(env))

    async def set_barcodes(env: Envelope, params: dict[str, Any]) -> Any:
        return await tenants.set_barcodes(_tenant(env), parse_params(BarcodeParams, params))

    return {
        "tenant.create": create,
        "tenant.list": list_,
        "tenant.authenticate": authenticate,
        "tenant.rotate_key": rotate_key,
        "tenant.rotate_code": rotate_code,
        "tenant.set_barcodes": set_barcodes,
    }


def device_methods(
    pairing: Pairing, device_life: DeviceLife, known_devices: KnownDevices
) -> dict[str, Method]:
    async def pair(env: Envelope, params: dict[str, Any]) -> Any:
        p = parse_params(Pair, params)
        return await pairing.pair(p.connection_code, p.hardware_id, p.model, p.name, p.mode)

    async def authenticate(env: Envelope, params: dict[str, Any]) -> Any:
        return await pairing.authenticate(parse_params(ByHash, params).hash)

    async def resolve_pin(env: Envelope, params: dict[str, Any]) -> Any:
        return await pairing.resolve_pin(_tenant(env), parse_params(ByPin, params).pin)

    async def get(env: Envelope, params: dict[str, Any]) -> Any:
        return await device_life.get(_tenant(env), parse_params(ByDevice, params).device_id)

    async def list_(env: Envelope, params: dict[str, Any]) -> Any:
        return await device_life.list_all(_tenant(env), parse_params(DeviceFilter, params).status)

    async def available(env: Envelope, params: dict[str, Any]) -> Any:
        parse_params(NoParams, params)
        return await device_life.available(_tenant(env))

    async def known(env: Envelope, params: dict[str, Any]) -> Any:
        parse_params(NoParams, params)
        return await known_devices.known(_tenant(env))

    async def block(env: Envelope, params: dict[str, Any]) -> Any:
        return await device_life.block(_tenant(env), parse_params(ByDevice, params).device_id)

    async def unblock(env: Envelope, params: dict[str, Any]) -> Any:
        return await device_life.unblock(_tenant(env), parse_params(ByDevice, params).device_id)

    async def retire(env: Envelope, params: dict[str, Any]) -> Any:
        return await device_life.retire(_tenant(env), parse_params(ByDevice, params).device_id)

    async def update(env: Envelope, params: dict[str, Any]) -> Any:
        p = parse_params(DeviceChanges, params)
        return await device_life.update(_tenant(env), p.device_id, p.name, p.mode)

    async def replace(env: Envelope, params: dict[str, Any]) -> Any:
        p = parse_params(Replacement, params)
        return await device_life.replace(_tenant(env), p.old_device, p.new_device)

    return {
        "device.pair": pair,
        "device.authenticate": authenticate,
        "device.resolve_pin": resolve_pin,
        "device.get": get,
        "device.list": list_,
        "device.available": available,
        "device.known": known,
        "device.block": block,
        "device.unblock": unblock,
        "device.retire": retire,
        "device.update": update,
        "device.replace": replace,
    }


def people_methods(people: People) -> dict[str, Method]:
    async def create_user(env: Envelope, params: dict[str, Any]) -> Any:
        p = parse_params(NewUser, params)
        return await people.create_user(_tenant(env), p.login, p.name, p.password, p.barcode)

    async def list_users(env: Envelope, params: dict[str, Any]) -> Any:
        parse_params(NoParams, params)
        return await people.list_users(_tenant(env))

    async def get_user(env: Envelope, params: dict[str, Any]) -> Any:
        return await people.get_user(_tenant(env), parse_params(ByLogin, params).login)

    async def update_user(env: Envelope, params: dict[str, Any]) -> Any:
        p = parse_params(UserChanges, params)
        changes = p.model_dump(include=p.model_fields_set - {"login"})
        return await people.update_user(_tenant(env), p.login, changes)

    async def delete_user(env: Envelope, params: dict[str, Any]) -> Any:
        return await people.delete_user(_tenant(env), parse_params(ByLogin, params).login)

    async def authenticate(env: Envelope, params: dict[str, Any]) -> Any:
        p = parse_params(Credentials, params)
        if p.barcode is not None:
            return await people.authenticate_barcode(_tenant(env), p.barcode)
        assert p.login is not None and p.password is not None  # checked by Credentials
        return await people.authenticate(_tenant(env), p.login, p.password)

    async def user_groups(env: Envelope, params: dict[str, Any]) -> Any:
        return await people.groups_of(_tenant(env), parse_params(ByLogin, params).login)

    async def create_group(env: Envelope, params: dict[str, Any]) -> Any:
        return await people.create_group(_tenant(env), parse_params(ByGroup, params).group)

    async def list_groups(env: Envelope, params: dict[str, Any]) -> Any:
        parse_params(NoParams, params)
        return await people.list_groups(_tenant(env))

    async def rename_group(env: Envelope, params: dict[str, Any]) -> Any:
        p = parse_params(GroupRename, params)
        return await people.rename_group(_tenant(env), p.group, p.new_name)

    async def delete_group(env: Envelope, params: dict[str, Any]) -> Any:
        return await people.delete_group(_tenant(env), parse_params(ByGroup, params).group)

    async def add_member(env: Envelope, params: dict[str, Any]) -> Any:
        p = parse_params(Membership, params)
        return await people.add_member(_tenant(env), p.group, p.login)

    async def remove_member(env: Envelope, params: dict[str, Any]) -> Any:
        p = parse_params(Membership, params)
        return await people.remove_member(_tenant(env), p.group, p.login)

    async def members(env: Envelope, params: dict[str, Any]) -> Any:
        return await people.members(_tenant(env), parse_params(AnyGroup, params).group)

    return {
        "user.create": create_user,
        "user.list": list_users,
        "user.get": get_user,
        "user.update": update_user,
        "user.delete": delete_user,
        "user.authenticate": authenticate,
        "user.groups": user_groups,
        "group.create": create_group,
        "group.list": list_groups,
        "group.rename": rename_group,
        "group.delete": delete_group,
        "group.add_member": add_member,
        "group.remove_member": remove_member,
        "group.members": members,
    }


def catalog_methods(catalogs: Catalogs) -> dict[str, Method]:
    async def apply(env: Envelope, params: dict[str, Any]) -> Any:
        p = parse_params(CatalogBatch, params)
        try:
            return await catalogs.apply(_tenant(env), read_batch(p.batch, catalogs.max_items))
        except CatalogInvalid as exc:
            errors = [e.as_json() for e in exc.errors]
            raise Refusal("catalog_invalid", 422, total=exc.total, errors=errors) from None

    async def changes(env: Envelope, params: dict[str, Any]) -> Any:
        p = parse_params(CatalogSince, params)
        found = await catalogs.changes(_tenant(env), p.store, p.since, p.limit)
        return None if found is None else found.model_dump(mode="json")

    async def heads(env: Envelope, params: dict[str, Any]) -> Any:
        parse_params(NoParams, params)
        return await catalogs.heads()

    return {"catalog.apply": apply, "catalog.changes": changes, "catalog.heads": heads}


class SnapshotPage(Params):
    after: str | None = Field(default=None, min_length=1, max_length=100)
    limit: int = Field(default=500, ge=1, le=2000)


def directory_methods(store: Store) -> dict[str, Method]:
    """For services that keep a copy of the directory: where it starts from."""

    async def snapshot(env: Envelope, params: dict[str, Any]) -> Any:
        page = parse_params(SnapshotPage, params)
        return await directory_feed.snapshot(store, page.after, page.limit)

    return {"directory.snapshot": snapshot}


def methods(
    tenants: Tenants,
    pairing: Pairing,
    device_life: DeviceLife,
    known_devices: KnownDevices,
    people: People,
    catalogs: Catalogs,
) -> dict[str, Method]:
    return {
        **tenant_methods(tenants),
        **device_methods(pairing, device_life, known_devices),
        **people_methods(people),
        **catalog_methods(catalogs),
    }
