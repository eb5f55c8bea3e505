"""The registry's RPC methods (queue ``registry.rpc``), declared once for the registry that
serves them and for every service that asks.

Tenant-scoped methods act for the envelope's tenant (``Call.base``), never one named in the
parameters. The operators' API reads its request bodies into the same models
(``DeviceChanges``, ``Replacement``, ``NewTenant``, ``NewUser``, ``UserChanges``), so a field
is checked by one rule on both sides of the wire.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, TypeAdapter, model_validator

from shared.contracts.catalog import CatalogChanged, StoreName
from shared.contracts.directory import (
    TENANT_ID_PATTERN,
    BarcodeSettings,
    DeviceChanged,
    GroupName,
    Login,
    PeopleChanged,
)
from shared.contracts.documents import DeviceMode
from shared.contracts.rpc import (
    NAMES,
    RECORD,
    RECORD_OR_NONE,
    RECORDS,
    NoParams,
    Params,
    Record,
    RpcService,
)
from shared.messaging.topology import REGISTRY_RPC

# Passwords are taken exactly as typed: surrounding spaces are part of them.
Password = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=200)]
Barcode = Annotated[str, Field(min_length=1, max_length=200)]
DisplayName = Annotated[str, Field(min_length=1, max_length=200)]
DeviceId = Annotated[str, Field(min_length=1, max_length=100)]

# Tenants --------------------------------------------------------------------------------------


class NewTenant(Params):
    name: str = Field(min_length=1, max_length=200, examples=["Склад на Ленина"])
    tenant: str | None = Field(default=None, pattern=TENANT_ID_PATTERN)


class ByHash(Params):
    hash: str = Field(min_length=64, max_length=64)


class BarcodeParams(BarcodeSettings, Params):
    pass


# Devices --------------------------------------------------------------------------------------


class Pair(Params):
    connection_code: str = Field(min_length=1, max_length=100)
    hardware_id: str = Field(
        min_length=1, max_length=200, examples=["@HONEYWELL-EDA50-V-16204B17A7"]
    )
    model: str = Field(default="", max_length=200, examples=["EDA50"])
    name: str = Field(default="", max_length=200)
    mode: DeviceMode = "online"


class Paired(BaseModel):
    """A device just paired: its record, and the credential shown this once."""

    device: Record
    credential: str
    revision: int


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


class Replaced(BaseModel):
    """Both devices of a replacement as they are after it."""

    old: Record
    new: Record


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


class SignedIn(BaseModel):
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


# Catalogs -------------------------------------------------------------------------------------


class CatalogBatch(Params):
    # Checked item by item by read_batch, which names each wrong item.
    batch: dict[str, Any]


class CatalogSince(Params):
    store: StoreName = ""
    since: int = Field(ge=0)
    limit: int = Field(default=5000, ge=1, le=10_000)


class CatalogHead(BaseModel):
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


class DirectorySnapshot(BaseModel):
    """A page of the directory as the services keeping a copy of it start from: its devices
    as ``device.changed`` announces them, every base's people on the first page, and where the
    next page starts (None on the last)."""

    devices: list[DeviceChanged]
    people: list[PeopleChanged]
    next: str | None


# The declarations: one line a method (alike in shape with routing_rpc.py's, each another
# service's method).
REGISTRY = RpcService(REGISTRY_RPC)

create_tenant = REGISTRY.method("tenant.create", NewTenant, RECORD)
list_tenants = REGISTRY.method("tenant.list", NoParams, RECORDS)
authenticate_tenant = REGISTRY.method("tenant.authenticate", ByHash, RECORD)
rotate_api_key = REGISTRY.method("tenant.rotate_key", NoParams, RECORD)
rotate_connection_code = REGISTRY.method("tenant.rotate_code", NoParams, RECORD)
set_barcodes = REGISTRY.method("tenant.set_barcodes", BarcodeParams, RECORD)

pair_device = REGISTRY.method("device.pair", Pair, TypeAdapter(Paired))
authenticate_device = REGISTRY.method("device.authenticate", ByHash, RECORD)
resolve_pin = REGISTRY.method("device.resolve_pin", ByPin, RECORD_OR_NONE)
get_device = REGISTRY.method("device.get", ByDevice, RECORD_OR_NONE)
list_devices = REGISTRY.method("device.list", DeviceFilter, RECORDS)
available_devices = REGISTRY.method("device.available", NoParams, RECORDS)
known_devices = REGISTRY.method("device.known", NoParams, RECORDS)
block_device = REGISTRY.method("device.block", ByDevice, RECORD)
unblock_device = REGISTRY.method("device.unblock", ByDevice, RECORD)
retire_device = REGISTRY.method("device.retire", ByDevice, RECORD)
update_device = REGISTRY.method("device.update", UpdateDevice, RECORD)
replace_device = REGISTRY.method("device.replace", ReplaceDevice, TypeAdapter(Replaced))

create_user = REGISTRY.method("user.create", NewUser, RECORD)
list_users = REGISTRY.method("user.list", NoParams, RECORDS)
get_user = REGISTRY.method("user.get", ByLogin, RECORD)
update_user = REGISTRY.method("user.update", UpdateUser, RECORD)
delete_user = REGISTRY.method("user.delete", ByLogin, RECORD)
authenticate_user = REGISTRY.method("user.authenticate", Credentials, TypeAdapter(SignedIn))
groups_of_user = REGISTRY.method("user.groups", ByLogin, NAMES)
create_group = REGISTRY.method("group.create", ByGroup, RECORD)
list_groups = REGISTRY.method("group.list", NoParams, RECORDS)
rename_group = REGISTRY.method("group.rename", GroupRename, RECORD)
delete_group = REGISTRY.method("group.delete", ByGroup, RECORD)
add_member = REGISTRY.method("group.add_member", Membership, RECORD)
remove_member = REGISTRY.method("group.remove_member", Membership, RECORD)
group_members = REGISTRY.method("group.members", AnyGroup, NAMES)

apply_catalog = REGISTRY.method("catalog.apply", CatalogBatch, RECORD)
catalog_changes = REGISTRY.method(
    "catalog.changes", CatalogSince, TypeAdapter(CatalogChanged | None)
)
catalog_heads = REGISTRY.method("catalog.heads", NoParams, TypeAdapter(list[CatalogHead]))

directory_snapshot = REGISTRY.method(
    "directory.snapshot", SnapshotPage, TypeAdapter(DirectorySnapshot)
)
