"""Gateway storage: its copies of tenants and devices, upload answers, inboxes, results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shared.catalog.repository import COPY_COLLECTIONS as CATALOG_COLLECTIONS
from shared.limits import ATTEMPTS
from shared.replicas import put_newer as put_newer  # the copies below are kept by it
from shared.storage import Collection, Doc, Index, Session, Store

# Copies of the registry's tenants and devices, kept current by its events, so that
# authenticating a request needs no round trip to the registry.
TENANTS = Collection("tenants", (Index(("api_key_hash",)),))
DEVICES = Collection("devices", (Index(("credential_hash",)), Index(("tenant",))))
UPLOADS = Collection("uploads", (Index(("tenant", "status")),))
# A device's copies, each with a short summary of its document; the body is kept apart, in
# INBOX_BODIES, because only a download needs it and polls read the inbox constantly.
INBOX = Collection(
    "inbox",
    (Index(("device_id", "state")), Index(("tenant", "document_id"))),
)
INBOX_BODIES = Collection("inbox_bodies")
# Which device replaced which (by the old device's id), so that a copy routed to a device just
# before it was replaced, but arriving after, still reaches the device that took its place.
REPLACEMENTS = Collection("replacements")
# Terminal results received, by delivery and result id: a retried send applies once.
RESULTS = Collection("results", (Index(("delivery_id",)),))
COMPLETED = Collection("completed", (Index(("tenant", "state")),))
# Each base's webhook (address and signing secret), by tenant, and the pushes made to it.
WEBHOOKS = Collection("webhooks")
WEBHOOK_DELIVERIES = Collection(
    "webhook_deliveries", (Index(("state",)), Index(("tenant", "created_at")))
)

COLLECTIONS = (
    TENANTS,
    DEVICES,
    UPLOADS,
    INBOX,
    INBOX_BODIES,
    REPLACEMENTS,
    RESULTS,
    COMPLETED,
    WEBHOOKS,
    WEBHOOK_DELIVERIES,
    ATTEMPTS,  # PIN guesses, counted for every instance (shared.limits)
    # The copy of every base's catalog, served to terminals (shared.catalog.repository).
    *CATALOG_COLLECTIONS,
)


def upload_key(tenant: str, request_id: str) -> str:
    return f"{tenant}:{request_id}"


def completed_key(tenant: str, document_id: str) -> str:
    return f"{tenant}:{document_id}"


def result_key(delivery_id: str, result_id: str) -> str:
    # Result ids are chosen by terminals: scoped by the copy, so one device cannot shadow another.
    return f"{delivery_id}:{result_id}"


async def tenant_by_key_hash(db: Session, key_hash: str) -> Doc | None:
    found = await db.find(TENANTS.name, {"api_key_hash": key_hash}, limit=1)
    return found[0] if found else None


async def device_by_credential_hash(db: Session, credential_hash: str) -> Doc | None:
    found = await db.find(DEVICES.name, {"credential_hash": credential_hash}, limit=1)
    return found[0] if found else None


def tenant_copy(record: Mapping[str, Any]) -> Doc:
    """The gateway's copy of a tenant from the registry's record (an answer or an event)."""
    return {
        "id": record["tenant"],
        "name": record["name"],
        "api_key_hash": record["api_key_hash"],
        "status": record["status"],
        "revision": record["revision"],
        "barcodes": dict(record.get("barcodes") or {}),
    }


async def keep_device(db: Session, copy: Doc) -> bool:
    """Store the registry's device record as the gateway's copy, unless a newer one is there.

    The gateway is where devices are seen: a record without ``last_seen`` keeps the one the
    copy has. A device that is active again (a replaced device paired anew keeps its id)
    stands for itself once more: what is routed to it from now on is its own, not its
    replacement's."""
    if copy.get("last_seen") is None:
        copy = {k: v for k, v in copy.items() if k != "last_seen"}
    stored = await put_newer(db, DEVICES.name, copy)
    if stored and copy.get("status") == "active":
        await db.delete(REPLACEMENTS.name, copy["id"])
    return stored


async def keep_replacement(db: Session, tenant: str, old_device: str, new_device: str) -> None:
    await db.put(REPLACEMENTS.name, {"id": old_device, "tenant": tenant, "new_device": new_device})


async def standing_for(db: Session, tenant: str, device_id: str) -> str:
    """The device that now stands for ``device_id``: the one that replaced it (in turn, when
    that one was replaced too), or ``device_id`` itself."""
    seen = {device_id}
    while True:
        replaced = await db.get(REPLACEMENTS.name, device_id)
        if replaced is None or replaced.get("tenant") != tenant:
            return device_id
        device_id = replaced["new_device"]
        if device_id in seen:  # replaced back and forth: stay with the last one found
            return device_id
        seen.add(device_id)


# Named reads and writes for the routers' use cases: the routers never call the store.


async def tenant(db: Session, tenant_id: str) -> Doc | None:
    return await db.get(TENANTS.name, tenant_id)


async def device(db: Session, device_id: str) -> Doc | None:
    return await db.get(DEVICES.name, device_id)


async def keep_device_now(db: Store, copy: Doc) -> bool:
    """Keep a device's copy in a transaction of its own (see :func:`keep_device`)."""
    return await db.run_transaction(lambda session: keep_device(session, copy))


async def upload(db: Session, tenant_id: str, request_id: str) -> Doc | None:
    return await db.get(UPLOADS.name, upload_key(tenant_id, request_id))


async def copies_of_device(db: Session, device_id: str, states: list[str]) -> list[Doc]:
    """A device's copies in the given states, oldest first: one query, as the poll needs."""
    return await db.find(
        INBOX.name, {"device_id": device_id, "state": states}, order_by="routed_at"
    )


async def copy(db: Session, delivery_id: str) -> Doc | None:
    return await db.get(INBOX.name, delivery_id)


async def copy_body(db: Session, delivery_id: str) -> Doc | None:
    return await db.get(INBOX_BODIES.name, delivery_id)


async def result(db: Session, delivery_id: str, result_id: str) -> Doc | None:
    return await db.get(RESULTS.name, result_key(delivery_id, result_id))


async def completed(db: Session, tenant_id: str, document_id: str) -> Doc | None:
    return await db.get(COMPLETED.name, completed_key(tenant_id, document_id))


async def unloaded(db: Session, tenant_id: str) -> list[Doc]:
    """The base's completed (and returned) documents not loaded yet, oldest first."""
    where = {"tenant": tenant_id, "state": ["completed", "returned"]}
    return await db.find(COMPLETED.name, where, order_by="completed_at")


async def mark_pulled(db: Session, tenant_id: str, document_id: str, at: str) -> None:
    await db.update(COMPLETED.name, completed_key(tenant_id, document_id), {"pulled_at": at})


async def pushes_of(db: Session, tenant_id: str, document_id: str) -> list[Doc]:
    """The webhook pushes made for one document's result."""
    return await db.find(WEBHOOK_DELIVERIES.name, {"tenant": tenant_id, "document_id": document_id})


async def webhook(db: Session, tenant_id: str) -> Doc | None:
    return await db.get(WEBHOOKS.name, tenant_id)


async def add_webhook(db: Session, hook: Doc) -> None:
    await db.insert(WEBHOOKS.name, hook)


async def change_webhook(db: Session, tenant_id: str, changes: Doc) -> None:
    await db.update(WEBHOOKS.name, tenant_id, changes)


async def remove_webhook(db: Session, tenant_id: str) -> None:
    await db.delete(WEBHOOKS.name, tenant_id)


async def webhook_deliveries(
    db: Session, tenant_id: str, state: str | None, limit: int
) -> list[Doc]:
    """A base's pushes (only those in ``state`` when given), newest first."""
    where: dict[str, Any] = {"tenant": tenant_id}
    if state is not None:
        where["state"] = state
    return await db.find(
        WEBHOOK_DELIVERIES.name, where, order_by="created_at", descending=True, limit=limit
    )


async def devices(db: Session) -> list[Doc]:
    """Every device copy (the presence tracker is seeded from them at start)."""
    return await db.find(DEVICES.name)


async def insert_devices(db: Session, copies: Sequence[Doc]) -> None:
    """Write new device copies as they are (the bench seeds a large base with them)."""
    for copy in copies:
        await db.insert(DEVICES.name, copy)


async def all_copies_of_device(db: Session, device_id: str) -> list[Doc]:
    return await db.find(INBOX.name, {"device_id": device_id})


async def insert_copies(db: Session, rows: Sequence[Doc]) -> None:
    """Write inbox rows as they are, without bodies (the bench seeds polls' inboxes with them)."""
    for row in rows:
        await db.insert(INBOX.name, row)


async def upload_by_key(db: Session, key: str) -> Doc | None:
    """An upload's record by its key (:func:`upload_key`)."""
    return await db.get(UPLOADS.name, key)
