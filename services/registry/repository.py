"""Registry storage: collections, indexes and the queries the registry runs."""

from __future__ import annotations

from typing import Any

from shared.catalog.repository import OWNER_COLLECTIONS as CATALOG_COLLECTIONS
from shared.storage import Collection, Doc, Index, Session

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


def _first(found: list[Doc]) -> Doc | None:
    return found[0] if found else None


# Tenants -------------------------------------------------------------------------------------


async def tenant_by_api_key_hash(db: Session, key_hash: str) -> Doc | None:
    return _first(await db.find(TENANTS.name, {"api_key_hash": key_hash}, limit=1))


async def tenant_by_connection_code_hash(db: Session, code_hash: str) -> Doc | None:
    return _first(await db.find(TENANTS.name, {"connection_code_hash": code_hash}, limit=1))


# Devices -------------------------------------------------------------------------------------


def active_pin_query(tenant: str, pin: str) -> dict[str, Any]:
    """Names the partial index's condition, so the look-up is served by it."""
    return {"tenant": tenant, "pin": pin, "status": "active"}


async def active_device_by_pin(db: Session, tenant: str, pin: str) -> Doc | None:
    return _first(await db.find(DEVICES.name, active_pin_query(tenant, pin), limit=1))


async def device_by_hardware_id(db: Session, tenant: str, hardware_id: str) -> Doc | None:
    return _first(
        await db.find(DEVICES.name, {"tenant": tenant, "hardware_id": hardware_id}, limit=1)
    )


async def device_by_credential_hash(db: Session, credential_hash: str) -> Doc | None:
    return _first(await db.find(DEVICES.name, {"credential_hash": credential_hash}, limit=1))


async def active_devices(db: Session, tenant: str) -> list[Doc]:
    return await db.find(DEVICES.name, {"tenant": tenant, "status": "active"})


async def devices_of(db: Session, tenant: str, status: str | None = None) -> list[Doc]:
    where = {"tenant": tenant, "status": status} if status else {"tenant": tenant}
    return await db.find(DEVICES.name, where)


# Active and blocked devices hold their PINs (a blocked one gets its PIN back when unblocked).
PIN_HOLDING = ["active", "blocked"]


async def count_pin_holders(db: Session, tenant: str) -> int:
    return await db.count(DEVICES.name, {"tenant": tenant, "status": PIN_HOLDING})


async def blocked_device_by_pin(db: Session, tenant: str, pin: str) -> Doc | None:
    # Served by (tenant, status): a tenant has few blocked devices.
    return _first(
        await db.find(DEVICES.name, {"tenant": tenant, "status": "blocked", "pin": pin}, limit=1)
    )


async def cooling_pins(db: Session, tenant: str, pin: str) -> list[Doc]:
    return await db.find(RETIRED_PINS.name, {"tenant": tenant, "pin": pin})


# Users and groups ----------------------------------------------------------------------------


def user_key(tenant: str, login: str) -> str:
    return f"{tenant}:{login}"


def group_key(tenant: str, group: str) -> str:
    return f"{tenant}:{group}"


def membership_key(tenant: str, group: str, login: str) -> str:
    return f"{tenant}:{group}:{login}"


def barcode_key(tenant: str, barcode_hash: str) -> str:
    return f"{tenant}:{barcode_hash}"


async def users_of(db: Session, tenant: str) -> list[Doc]:
    return await db.find(USERS.name, {"tenant": tenant}, order_by="login")


async def groups_of(db: Session, tenant: str) -> list[Doc]:
    return await db.find(GROUPS.name, {"tenant": tenant}, order_by="name")


async def members_of(db: Session, tenant: str, group: str) -> list[Doc]:
    return await db.find(MEMBERSHIPS.name, {"tenant": tenant, "group": group})


async def memberships_of(db: Session, tenant: str, login: str) -> list[Doc]:
    return await db.find(MEMBERSHIPS.name, {"tenant": tenant, "login": login})


async def barcodes_of(db: Session, tenant: str, login: str) -> list[Doc]:
    return await db.find(USER_BARCODES.name, {"tenant": tenant, "login": login})
