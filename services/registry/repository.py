"""Registry storage: collections, indexes and the queries the registry runs."""

from __future__ import annotations

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
KNOWN_DEVICES = Collection("known_devices", (Index(("tenant",)),))

COLLECTIONS = (TENANTS, DEVICES, RETIRED_PINS, KNOWN_DEVICES)


async def tenant_by_api_key_hash(db: Session, key_hash: str) -> Doc | None:
    found = await db.find(TENANTS.name, {"api_key_hash": key_hash}, limit=1)
    return found[0] if found else None


async def tenant_by_connection_code_hash(db: Session, code_hash: str) -> Doc | None:
    found = await db.find(TENANTS.name, {"connection_code_hash": code_hash}, limit=1)
    return found[0] if found else None


async def device_by_hardware_id(db: Session, tenant: str, hardware_id: str) -> Doc | None:
    found = await db.find(DEVICES.name, {"tenant": tenant, "hardware_id": hardware_id}, limit=1)
    return found[0] if found else None


async def active_device_by_pin(db: Session, tenant: str, pin: str) -> Doc | None:
    found = await db.find(DEVICES.name, {"tenant": tenant, "pin": pin, "status": "active"}, limit=1)
    return found[0] if found else None


async def device_by_credential_hash(db: Session, credential_hash: str) -> Doc | None:
    found = await db.find(DEVICES.name, {"credential_hash": credential_hash}, limit=1)
    return found[0] if found else None


async def active_devices(db: Session, tenant: str) -> list[Doc]:
    return await db.find(DEVICES.name, {"tenant": tenant, "status": "active"})


async def count_active_devices(db: Session, tenant: str) -> int:
    return await db.count(DEVICES.name, {"tenant": tenant, "status": "active"})
