"""The registry's RPC methods (queue ``registry.rpc``), declared once in :class:`Registry` for
the registry that serves them (services/registry/consumers.py) and for every service that asks
(``Registry(rpc, tenant).list_devices(DeviceFilter())``); how to declare, serve and call a
method is told in ``shared.contracts.rpc``.

Each method's parameters are a model of this module, and so is its result, with exactly the
fields the registry answers (the operators' API passes them on as they are). Tenant-scoped
methods act for the client's base (the envelope's tenant, ``Call.base``), never one named in
the parameters. The operators' API reads its request bodies into the same models
(``DeviceChanges``, ``Replacement``, ``NewTenant``, ``NewUser``, ``UserChanges``), so a field
is checked by one rule on both sides of the wire.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from shared.contracts.catalog import CatalogChanged, StoreName
from shared.contracts.directory import (
    BarcodeSettings,
    DeviceChanged,
    DeviceView,
    GroupName,
    Login,
    PeopleChanged,
    TenantId,
)
from shared.contracts.documents import DeviceMode
from shared.contracts.rpc import NoParams, Params, Result, RpcMethod, RpcService, many, maybe, one
from shared.messaging.topology import REGISTRY_RPC

# Passwords are taken exactly as typed: surrounding spaces are part of them.
Password = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=200)]
Barcode = Annotated[str, Field(min_length=1, max_length=200)]
DisplayName = Annotated[str, Field(min_length=1, max_length=200)]
DeviceId = Annotated[str, Field(min_length=1, max_length=100)]

# Tenants --------------------------------------------------------------------------------------


class NewTenant(Params):
    name: str = Field(min_length=1, max_length=200, examples=["Склад на Ленина"])
    tenant: TenantId | None = None


class ByHash(Params):
    hash: str = Field(min_length=64, max_length=64)


class BarcodeParams(BarcodeSettings, Params):
    pass


class TenantCreated(Result):
    """A base just created, with its secrets shown this once."""

    tenant: str
    name: str
    api_key: str
    connection_code: str


class TenantSummary(Result):
    """A base as the list of bases shows it; ``devices``: how many hold a PIN."""

    tenant: str
    name: str
    status: str
    devices: int
    created_at: str | None


class TenantRecord(Result):
    """A base as other services keep it (the gateway authenticates API keys by it)."""

    tenant: str
    name: str
    api_key_hash: str
    status: str
    revision: int
    barcodes: BarcodeSettings


class TenantWithKey(TenantRecord):
    """A base with its new API key, shown this once."""

    api_key: str


class TenantWithCode(TenantRecord):
    """A base with its new device connection code, shown this once."""

    connection_code: str


# Devices --------------------------------------------------------------------------------------


class Pair(Params):
    connection_code: str = Field(min_length=1, max_length=100)
    hardware_id: str = Field(
        min_length=1, max_length=200, examples=["@HONEYWELL-EDA50-V-16204B17A7"]
    )
    model: str = Field(default="", max_length=200, examples=["EDA50"])
    name: str = Field(default="", max_length=200)
    mode: DeviceMode = "online"


class Paired(Result):
    """A device just paired: its record, and the credential shown this once."""

    device: DeviceView
    credential: str
    revision: int


class DeviceRecord(Result):
    """A device as the gateway keeps it: the view, its credential's hash and its revision."""

    device: DeviceView
    credential_hash: str
    revision: int


class KnownDevice(DeviceView):
    """A device of the base's "pick from the list", with when the base last used it."""

    last_used_at: str


class ByPin(Params):
    pin: str = Field(min_length=1, max_length=20)


class ByDevice(Params):
    device_id: DeviceId


class DeviceFilter(Params):
    status: Literal["active", "blocked", "retired"] | None = None


# A device renamed and/or switched between online and offline (also the operators' body; no
# docstrings on the bodies: they would become their descriptions in the OpenAPI document).
class DeviceChanges(Params):
    name: DisplayName | None = Field(default=None, examples=["EDA50 №2"])
    mode: DeviceMode | None = None

    @model_validator(mode="after")
    def _something(self) -> DeviceChanges:
        if self.name is None and self.mode is None:
            raise ValueError("give name or mode")
        return self


class UpdateDevice(DeviceChanges, ByDevice):
    pass


# The paired terminal that takes a broken one's place (also the operators' body).
class Replacement(Params):
    new_device: DeviceId = Field(description="the already paired device")


class ReplaceDevice(Replacement):
    old_device: DeviceId


class Replaced(Result):
    """Both devices of a replacement as they are after it."""

    old: DeviceRecord
    new: DeviceRecord


# Users and groups -----------------------------------------------------------------------------


class ByLogin(Params):
    login: Login


class NewUser(Params):
    login: Login = Field(examples=["ivanov"])
    name: DisplayName | None = Field(default=None, examples=["Иванов И."])
    password: Password | None = None
    barcode: Barcode | None = None


# What an operator changes of a user (also the operators' body): only the fields given change.
class UserChanges(Params):
    name: DisplayName | None = None
    password: Password | None = None
    # Given as null, the barcode is removed; left out, it stays.
    barcode: Barcode | None = Field(default=None, description="null removes the barcode")


class UpdateUser(UserChanges, ByLogin):
    pass


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


class UserView(Result):
    """A user as operators see it: never the password or the badge, only whether it has them."""

    login: str
    name: str
    groups: list[str]
    has_password: bool
    has_barcode: bool
    created_at: str | None


class UserDeleted(Result):
    login: str
    deleted: bool


class SignedIn(Result):
    """A user whose credentials the registry accepted, with the groups they are in."""

    login: str
    name: str
    groups: list[str]


class ByGroup(Params):
    group: GroupName


class AnyGroup(Params):
    # Asking for members of a group that cannot exist is not an error: it has none.
    group: str = Field(min_length=1, max_length=100)


class GroupRename(ByGroup):
    new_name: GroupName


class Membership(ByGroup):
    login: Login


class GroupView(Result):
    """A group with its members' logins, sorted."""

    group: str
    members: list[str]


class GroupDeleted(Result):
    group: str
    deleted: bool


# Catalogs -------------------------------------------------------------------------------------


class CatalogBatch(Params):
    """A catalog batch: ``export``, the upload's text as the accounting side sent it (any of
    1C's shapes, shared.onec.catalog_import), read by the owner; or ``batch``, already in the
    native shape. Either is checked item by item by read_batch, which names each wrong item.

    The gateway passes the text on unread: reading it there, then writing it out for the
    call (a walk over every value), cost the gateway more than half of what an upload cost it,
    and the registry read it all once more anyway."""

    batch: dict[str, Any] | None = None
    export: str | None = None

    @model_validator(mode="after")
    def _one_of_them(self) -> CatalogBatch:
        if (self.batch is None) == (self.export is None):
            raise ValueError("give either the batch or the export")
        return self


class CatalogSince(Params):
    store: StoreName = ""
    since: int = Field(ge=0)
    limit: int = Field(default=5000, ge=1, le=10_000)


class CatalogApplied(Result):
    """What a catalog batch changed: the store's version after it, items changed and not."""

    store: str
    version: int
    changed: int
    unchanged: int


class CatalogHead(Result):
    """How far one base's catalog has come."""

    tenant: str
    store: str
    version: int


# The directory's snapshot ---------------------------------------------------------------------


class SnapshotPage(Params):
    """One page of the directory: devices after the device id ``after`` (the first page when
    left out)."""

    after: str | None = Field(default=None, min_length=1, max_length=100)
    limit: int = Field(default=500, ge=1, le=2000)


class DirectorySnapshot(Result):
    """A page of the directory as the services keeping a copy of it start from: its devices
    as ``device.changed`` announces them, every base's people on the first page, and where the
    next page starts (None on the last)."""

    devices: list[DeviceChanged]
    people: list[PeopleChanged]
    next: str | None


# The declarations: one line a method (alike in shape with routing_rpc.py's, each another
# service's method).
class Registry(RpcService, queue=REGISTRY_RPC):
    """The registry's methods; an instance asks them for one base (or none)."""

    create_tenant = RpcMethod("tenant.create", NewTenant, one(TenantCreated))
    list_tenants = RpcMethod("tenant.list", NoParams, many(TenantSummary))
    authenticate_tenant = RpcMethod("tenant.authenticate", ByHash, one(TenantRecord))
    rotate_api_key = RpcMethod("tenant.rotate_key", NoParams, one(TenantWithKey))
    rotate_connection_code = RpcMethod("tenant.rotate_code", NoParams, one(TenantWithCode))
    set_barcodes = RpcMethod("tenant.set_barcodes", BarcodeParams, one(TenantRecord))

    pair_device = RpcMethod("device.pair", Pair, one(Paired))
    authenticate_device = RpcMethod("device.authenticate", ByHash, one(DeviceRecord))
    resolve_pin = RpcMethod("device.resolve_pin", ByPin, maybe(DeviceView))
    get_device = RpcMethod("device.get", ByDevice, maybe(DeviceView))
    list_devices = RpcMethod("device.list", DeviceFilter, many(DeviceView))
    available_devices = RpcMethod("device.available", NoParams, many(DeviceView))
    known_devices = RpcMethod("device.known", NoParams, many(KnownDevice))
    block_device = RpcMethod("device.block", ByDevice, one(DeviceRecord))
    unblock_device = RpcMethod("device.unblock", ByDevice, one(DeviceRecord))
    retire_device = RpcMethod("device.retire", ByDevice, one(DeviceRecord))
    update_device = RpcMethod("device.update", UpdateDevice, one(DeviceRecord))
    replace_device = RpcMethod("device.replace", ReplaceDevice, one(Replaced))

    create_user = RpcMethod("user.create", NewUser, one(UserView))
    list_users = RpcMethod("user.list", NoParams, many(UserView))
    get_user = RpcMethod("user.get", ByLogin, one(UserView))
    update_user = RpcMethod("user.update", UpdateUser, one(UserView))
    delete_user = RpcMethod("user.delete", ByLogin, one(UserDeleted))
    authenticate_user = RpcMethod("user.authenticate", Credentials, one(SignedIn))
    groups_of_user = RpcMethod("user.groups", ByLogin, many(str))
    create_group = RpcMethod("group.create", ByGroup, one(GroupView))
    list_groups = RpcMethod("group.list", NoParams, many(GroupView))
    rename_group = RpcMethod("group.rename", GroupRename, one(GroupView))
    delete_group = RpcMethod("group.delete", ByGroup, one(GroupDeleted))
    add_member = RpcMethod("group.add_member", Membership, one(GroupView))
    remove_member = RpcMethod("group.remove_member", Membership, one(GroupView))
    group_members = RpcMethod("group.members", AnyGroup, many(str))

    apply_catalog = RpcMethod("catalog.apply", CatalogBatch, one(CatalogApplied))
    catalog_changes = RpcMethod("catalog.changes", CatalogSince, maybe(CatalogChanged))
    catalog_heads = RpcMethod("catalog.heads", NoParams, many(CatalogHead))

    directory_snapshot = RpcMethod("directory.snapshot", SnapshotPage, one(DirectorySnapshot))
