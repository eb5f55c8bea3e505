"""Registry storage: collections, indexes, and the only module that reads or writes them.

Every function takes a session (the store, or a unit of work's ``tx.db``) and answers typed
records, never the stored rows themselves. The catalog's collections belong to
``shared/catalog/repository.py``; they are listed here only because the registry opens them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, Self, TypeVar

from shared.catalog.repository import OWNER_COLLECTIONS as CATALOG_COLLECTIONS
from shared.contracts.documents import DeviceMode
from shared.storage import Collection, Doc, Index, Session
from shared.storage.keys import tenant_key
from shared.storage.records import record_of

TENANTS = Collection(
    "tenants",
    (
        Index(("api_key_hash",), unique=True),
        Index(("connection_code_hash",), unique=True),
    ),
)
DEVICES = Collection(
    "devices",
    (
        Index(("tenant", "hardware_id"), unique=True),
        # A PIN is unique among the tenant's active devices only; PIN look-ups use this index.
        Index(("tenant", "pin"), unique=True, where={"status": "active"}),
        Index(("credential_hash",), unique=True),
        Index(("tenant", "status")),
    ),
)
# A retired PIN is not handed out again until its cooling-off period is over.
RETIRED_PINS = Collection("retired_pins", (Index(("tenant", "pin")),))
# The devices an accounting base has addressed successfully: its "pick from the list".
KNOWN_DEVICES = Collection("known_devices", (Index(("tenant",)), Index(("device_id",))))

# Users log in on LAN terminals; the id is "<tenant>:<login>", so a login is unique per tenant.
USERS = Collection("users", (Index(("tenant",)),))
# A user's badge barcode, by "<tenant>:<hash of the barcode>": unique per tenant by its id.
USER_BARCODES = Collection("user_barcodes", (Index(("tenant", "login")),))
# Groups by "<tenant>:<name>"; membership rows by "<tenant>:<group>:<login>".
GROUPS = Collection("groups", (Index(("tenant",)),))
MEMBERSHIPS = Collection("memberships", (Index(("tenant", "group")), Index(("tenant", "login"))))

COLLECTIONS = (
    TENANTS,
    DEVICES,
    RETIRED_PINS,
    KNOWN_DEVICES,
    USERS,
    USER_BARCODES,
    GROUPS,
    MEMBERSHIPS,
    *CATALOG_COLLECTIONS,
)


class _Row:
    """A stored row as a frozen record, read by the rule of shared/storage/records.py: fields
    the record does not name are not read (a row may carry more, e.g. the store's own keys);
    optional ones missing from older rows take their default.

    Written whole, a None included: an update writes what changed between two rows, and a
    field cleared (a password, a replacement) must be written as cleared."""

    @classmethod
    def of(cls, doc: Doc) -> Self:
        return record_of(cls, doc)

    def row(self) -> Doc:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]


R = TypeVar("R", bound=_Row)


def _one(record: type[R], found: list[Doc]) -> R | None:
    return record.of(found[0]) if found else None


def _maybe(record: type[R], doc: Doc | None) -> R | None:
    return None if doc is None else record.of(doc)


# Tenants -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tenant(_Row):
    id: str
    name: str
    api_key_hash: str
    connection_code_hash: str
    status: str  # active; anything else is refused
    revision: int
    created_at: str | None = None
    barcodes: dict[str, Any] | None = None  # the base's own settings; None: the defaults
    people_revision: int | None = None  # orders the base's people.changed events; None: none yet


async def tenant(db: Session, tenant_id: str) -> Tenant | None:
    return _maybe(Tenant, await db.get(TENANTS.name, tenant_id))


async def tenants(db: Session) -> list[Tenant]:
    return [Tenant.of(doc) for doc in await db.find(TENANTS.name, order_by="id")]


async def tenant_by_api_key_hash(db: Session, key_hash: str) -> Tenant | None:
    return _one(Tenant, await db.find(TENANTS.name, {"api_key_hash": key_hash}, limit=1))


async def tenant_by_connection_code_hash(db: Session, code_hash: str) -> Tenant | None:
    found = await db.find(TENANTS.name, {"connection_code_hash": code_hash}, limit=1)
    return _one(Tenant, found)


async def insert_tenant(db: Session, record: Tenant) -> None:
    """Raises DuplicateKeyError when the id, API key or connection code is taken."""
    await db.insert(TENANTS.name, record.row())


async def revise_tenant(db: Session, before: Tenant, after: Tenant) -> bool:
    """Write ``after`` if the row is still at ``before``'s revision; False when it is not."""
    changes = _changed(before, after)
    return await db.update(TENANTS.name, before.id, changes, expect={"revision": before.revision})


async def set_people_revision(db: Session, record: Tenant, revision: int) -> None:
    """The revision of the base's users and groups (two writers of it conflict on the row)."""
    await db.update(TENANTS.name, record.id, {"people_revision": revision})


# Devices -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Device(_Row):
    id: str
    tenant: str
    hardware_id: str
    model: str
    name: str
    mode: DeviceMode
    pin: str
    status: str  # active, blocked or retired
    credential_hash: str
    revision: int
    created_at: str | None = None
    last_seen: str | None = None
    retired_at: str | None = None
    replaced_by: str | None = None  # the device that took its PIN
    replaces: str | None = None  # the device whose PIN it took


def active_pin_query(tenant: str, pin: str) -> dict[str, Any]:
    """Names the partial index's condition, so the look-up is served by it."""
    return {"tenant": tenant, "pin": pin, "status": "active"}


async def device_by_id(db: Session, device_id: str) -> Device | None:
    return _maybe(Device, await db.get(DEVICES.name, device_id))


async def active_device_by_pin(db: Session, tenant: str, pin: str) -> Device | None:
    return _one(Device, await db.find(DEVICES.name, active_pin_query(tenant, pin), limit=1))


async def device_by_hardware_id(db: Session, tenant: str, hardware_id: str) -> Device | None:
    where = {"tenant": tenant, "hardware_id": hardware_id}
    return _one(Device, await db.find(DEVICES.name, where, limit=1))


async def device_by_credential_hash(db: Session, credential_hash: str) -> Device | None:
    where = {"credential_hash": credential_hash}
    return _one(Device, await db.find(DEVICES.name, where, limit=1))


async def active_devices(db: Session, tenant: str) -> list[Device]:
    return await devices_of(db, tenant, "active")


async def devices_of(db: Session, tenant: str, status: str | None = None) -> list[Device]:
    where = {"tenant": tenant, "status": status} if status else {"tenant": tenant}
    return [Device.of(doc) for doc in await db.find(DEVICES.name, where)]


async def devices_page(db: Session, after: str | None, limit: int) -> list[Device]:
    """Every base's devices in id order, ``limit`` of them after the id ``after``."""
    above = ("id", after) if after is not None else None
    found = await db.find(DEVICES.name, order_by="id", limit=limit, above=above)
    return [Device.of(doc) for doc in found]


# Active and blocked devices hold their PINs (a blocked one gets its PIN back when unblocked).
PIN_HOLDING = ["active", "blocked"]


async def count_pin_holders(db: Session, tenant: str) -> int:
    return await db.count(DEVICES.name, {"tenant": tenant, "status": PIN_HOLDING})


async def blocked_device_by_pin(db: Session, tenant: str, pin: str) -> Device | None:
    # Served by (tenant, status): a tenant has few blocked devices.
    where = {"tenant": tenant, "status": "blocked", "pin": pin}
    return _one(Device, await db.find(DEVICES.name, where, limit=1))


async def put_device(db: Session, record: Device) -> None:
    """Write the whole device: a new one, or a retired one paired afresh.

    Raises DuplicateKeyError when its PIN, hardware id or credential is taken meanwhile."""
    await db.put(DEVICES.name, record.row())


async def revise_device(db: Session, before: Device, after: Device) -> bool:
    """Write ``after`` if the row is still at ``before``'s revision; False when it is not."""
    changes = _changed(before, after)
    return await db.update(DEVICES.name, before.id, changes, expect={"revision": before.revision})


def _changed(before: _Row, after: _Row) -> Doc:
    old, new = before.row(), after.row()
    return {k: v for k, v in new.items() if old[k] != v}


@dataclass(frozen=True)
class RetiredPin(_Row):
    """A PIN given up by a device: not issued again in its tenant before ``until``."""

    id: str
    tenant: str
    pin: str
    device_id: str
    until: str  # ISO 8601, UTC


def retired_pin_key(tenant: str, pin: str, device_id: str) -> str:
    return f"{tenant}:{pin}:{device_id}"


async def cooling_pins(db: Session, tenant: str, pin: str) -> list[RetiredPin]:
    found = await db.find(RETIRED_PINS.name, {"tenant": tenant, "pin": pin})
    return [RetiredPin.of(doc) for doc in found]


async def put_retired_pin(db: Session, record: RetiredPin) -> None:
    await db.put(RETIRED_PINS.name, record.row())


# Each base's known devices -------------------------------------------------------------------


@dataclass(frozen=True)
class KnownDevice(_Row):
    id: str
    tenant: str
    device_id: str
    last_used_at: str  # ISO 8601: the latest accepted upload to the device the list heard of


known_device_key = tenant_key  # a device by its id, in the base it is known to


async def known_devices_of(db: Session, tenant: str) -> list[KnownDevice]:
    return [KnownDevice.of(doc) for doc in await db.find(KNOWN_DEVICES.name, {"tenant": tenant})]


async def known_device(db: Session, tenant: str, device_id: str) -> KnownDevice | None:
    return _maybe(
        KnownDevice, await db.get(KNOWN_DEVICES.name, known_device_key(tenant, device_id))
    )


async def bases_knowing(db: Session, device_id: str) -> list[KnownDevice]:
    """Every base's entry for the device (a device id is unique across bases)."""
    found = await db.find(KNOWN_DEVICES.name, {"device_id": device_id})
    return [KnownDevice.of(doc) for doc in found]


async def put_known_device(db: Session, record: KnownDevice) -> None:
    await db.put(KNOWN_DEVICES.name, record.row())


async def drop_known_device(db: Session, record: KnownDevice) -> None:
    await db.delete(KNOWN_DEVICES.name, record.id)


# Users and groups ----------------------------------------------------------------------------
# Four records alike in shape (an id, the base, then their own fields): each declares a stored
# shape.


@dataclass(frozen=True)
class User(_Row):
    id: str
    tenant: str
    login: str
    name: str
    password_hash: str | None = None  # None: the user cannot log in with a password
    created_at: str | None = None


@dataclass(frozen=True)
class UserBarcode(_Row):
    """A user's badge, found by the hash of its barcode."""

    id: str
    tenant: str
    login: str


@dataclass(frozen=True)
class Group(_Row):
    id: str
    tenant: str
    name: str
    created_at: str | None = None


@dataclass(frozen=True)
class Membership(_Row):
    id: str
    tenant: str
    group: str
    login: str


# A user by login, a group by name, a badge by the hash of its barcode, each in its base.
user_key = group_key = barcode_key = tenant_key


def membership_key(tenant: str, group: str, login: str) -> str:
    return tenant_key(tenant, f"{group}:{login}")


async def user(db: Session, tenant: str, login: str) -> User | None:
    return _maybe(User, await db.get(USERS.name, user_key(tenant, login)))


async def users_of(db: Session, tenant: str) -> list[User]:
    return [User.of(doc) for doc in await db.find(USERS.name, {"tenant": tenant}, order_by="login")]


async def insert_user(db: Session, record: User) -> None:
    """Raises DuplicateKeyError when the login is taken meanwhile."""
    await db.insert(USERS.name, record.row())


async def revise_user(db: Session, before: User, after: User) -> None:
    changes = _changed(before, after)
    if changes:
        await db.update(USERS.name, before.id, changes)


async def delete_user(db: Session, record: User) -> None:
    await db.delete(USERS.name, record.id)


async def barcode_holder(db: Session, tenant: str, barcode_hash: str) -> UserBarcode | None:
    return _maybe(UserBarcode, await db.get(USER_BARCODES.name, barcode_key(tenant, barcode_hash)))


async def barcodes_of(db: Session, tenant: str, login: str) -> list[UserBarcode]:
    found = await db.find(USER_BARCODES.name, {"tenant": tenant, "login": login})
    return [UserBarcode.of(doc) for doc in found]


async def put_barcode(db: Session, record: UserBarcode) -> None:
    await db.put(USER_BARCODES.name, record.row())


async def delete_barcode(db: Session, record: UserBarcode) -> None:
    await db.delete(USER_BARCODES.name, record.id)


async def group(db: Session, tenant: str, name: str) -> Group | None:
    return _maybe(Group, await db.get(GROUPS.name, group_key(tenant, name)))


async def groups_of(db: Session, tenant: str) -> list[Group]:
    found = await db.find(GROUPS.name, {"tenant": tenant}, order_by="name")
    return [Group.of(doc) for doc in found]


async def insert_group(db: Session, record: Group) -> None:
    """Raises DuplicateKeyError when the name is taken meanwhile."""
    await db.insert(GROUPS.name, record.row())


async def delete_group(db: Session, record: Group) -> None:
    await db.delete(GROUPS.name, record.id)


async def members_of(db: Session, tenant: str, group: str) -> list[Membership]:
    found = await db.find(MEMBERSHIPS.name, {"tenant": tenant, "group": group})
    return [Membership.of(doc) for doc in found]


async def memberships_of(db: Session, tenant: str, login: str) -> list[Membership]:
    found = await db.find(MEMBERSHIPS.name, {"tenant": tenant, "login": login})
    return [Membership.of(doc) for doc in found]


async def put_membership(db: Session, record: Membership) -> None:
    await db.put(MEMBERSHIPS.name, record.row())


async def delete_membership(db: Session, tenant: str, group: str, login: str) -> None:
    await db.delete(MEMBERSHIPS.name, membership_key(tenant, group, login))


# Raw rows for the bench ----------------------------------------------------------------------
# The bench clones a paired device's stored row thousands of times, as the row it is.


async def device(db: Session, device_id: str) -> Doc | None:
    return await db.get(DEVICES.name, device_id)


async def insert_devices(db: Session, docs: Sequence[Doc]) -> None:
    """Write new devices as they are (the bench seeds a large base with them)."""
    for doc in docs:
        await db.insert(DEVICES.name, doc)
