"""Routing storage: business processes, upload requests, documents and their copies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Self

from services.routing.processes import BusinessProcess
from shared.clock import now_iso
from shared.contracts.documents import Document, FactLine
from shared.replicas import put_newer
from shared.storage import Collection, Doc, Index, Session

# Processes are per tenant; the defaults live under the tenant "*" and apply to every tenant
# that has no process of its own with the same id.
PROCESSES = Collection("processes", (Index(("tenant", "name")), Index(("tenant",))))
REQUESTS = Collection("requests")  # by tenant:request_id, with the decision given
DOCUMENTS = Collection("documents", (Index(("tenant", "state")),))  # master record per document
# The uploaded document and the facts counted so far, each by document key, apart from the
# master record: its state changes many times, and a row holding 10,000 lines would be parsed
# and written whole by every one of those changes.
DOCUMENT_BODIES = Collection("document_bodies")
DOCUMENT_FACTS = Collection("document_facts")
DELIVERIES = Collection(
    "deliveries",
    (Index(("document_key",)), Index(("document_key", "version")), Index(("tenant", "state"))),
)

# Every step of every document (see journey.py), by document key; searched by number and PIN.
JOURNEY = Collection(
    "journey",
    (
        Index(("document_key",)),
        Index(("document_id",)),
        Index(("number",)),
        Index(("device.pin",)),
    ),
)

# The registry's directory as routing keeps it (see the end of this module).
REPLICA_DEVICES = Collection(
    "replica_devices", (Index(("tenant", "pin", "status")), Index(("tenant", "status")))
)
REPLICA_PEOPLE = Collection("replica_people")
REPLICA_STATE = Collection("replica_state")
REPLICA_COLLECTIONS = (REPLICA_DEVICES, REPLICA_PEOPLE, REPLICA_STATE)

COLLECTIONS = (
    PROCESSES,
    REQUESTS,
    DOCUMENTS,
    DOCUMENT_BODIES,
    DOCUMENT_FACTS,
    DELIVERIES,
    JOURNEY,
    *REPLICA_COLLECTIONS,
)

ALL_TENANTS = "*"

# Where a default process came from: shipped with tsdx (rewritten by an upgrade) or written
# by an operator (kept as the operator left it).
Origin = Literal["shipped", "operator"]


def request_key(tenant: str, request_id: str) -> str:
    return f"{tenant}:{request_id}"


def document_key(tenant: str, document_id: str) -> str:
    return f"{tenant}:{document_id}"


def document_id_of(copy: Doc) -> str:
    """The accounting id of the document a copy (delivery) belongs to."""
    key: str = copy["document_key"]
    return key[len(copy["tenant"]) + 1 :]


def process_key(tenant: str, process_id: str) -> str:
    return f"{tenant}:{process_id}"


async def find_process(db: Session, tenant: str, ref: str) -> BusinessProcess | None:
    """A process by id or by name: the tenant's own first, then the defaults."""
    for owner in (tenant, ALL_TENANTS):
        doc = await db.get(PROCESSES.name, process_key(owner, ref))
        if doc is None:
            found = await db.find(PROCESSES.name, {"tenant": owner, "name": ref}, limit=1)
            doc = found[0] if found else None
        if doc is not None:
            return BusinessProcess.model_validate(doc["process"])
    return None


def process_record(owner: str, process: BusinessProcess, origin: Origin) -> Doc:
    return {
        "id": process_key(owner, process.id),
        "tenant": owner,
        "name": process.name,
        "origin": origin,
        "updated_at": now_iso(),
        "process": process.model_dump(mode="json"),
    }


async def save_process(
    db: Session, owner: str, process: BusinessProcess, origin: Origin = "operator"
) -> None:
    await db.put(PROCESSES.name, process_record(owner, process, origin))


async def processes_of(db: Session, owner: str) -> list[Doc]:
    """The process records stored under one owner (a tenant, or "*" for the defaults)."""
    return await db.find(PROCESSES.name, {"tenant": owner})


async def all_process_records(db: Session) -> list[Doc]:
    return await db.find(PROCESSES.name)


async def copies_of(db: Session, key: str, version: int | None = None) -> list[Doc]:
    """The copies of a document (by document key), of one upload version when given."""
    where: dict[str, object] = {"document_key": key}
    if version is not None:
        where["version"] = version
    return await db.find(DELIVERIES.name, where)


async def start_body(db: Session, tenant: str, key: str, document: Document) -> None:
    """The document of a new upload version, with no facts counted yet."""
    body = {"id": key, "tenant": tenant, "document": document.model_dump(mode="json")}
    await db.put(DOCUMENT_BODIES.name, body)
    await db.put(DOCUMENT_FACTS.name, {"id": key, "tenant": tenant, "facts": {}})


# Master records written before the document and its facts were kept apart hold them
# themselves: they are still read from there.


async def body_of(db: Session, master: Doc) -> Document | None:
    row = await db.get(DOCUMENT_BODIES.name, master["id"])
    stored = row["document"] if row is not None else master.get("document")
    return None if stored is None else Document.model_validate(stored)


async def facts_of(db: Session, master: Doc) -> dict[str, list[FactLine]]:
    """The document's facts so far, by who sent them (``<delivery id>:<user>``)."""
    row = await db.get(DOCUMENT_FACTS.name, master["id"])
    stored: dict[str, list[Doc]] = row["facts"] if row is not None else master.get("facts", {})
    return {who: [FactLine.model_validate(f) for f in lines] for who, lines in stored.items()}


async def save_facts(db: Session, master: Doc, facts: dict[str, list[FactLine]]) -> None:
    dumped = {who: [f.model_dump(mode="json") for f in lines] for who, lines in facts.items()}
    row = {"id": master["id"], "tenant": master["tenant"], "facts": dumped}
    await db.put(DOCUMENT_FACTS.name, row)


async def document(db: Session, key: str) -> Doc | None:
    """A document's master record by its key (:func:`document_key`)."""
    return await db.get(DOCUMENTS.name, key)


# Routing's copy of the registry's directory (directory_replica.py) ----------------------------
# Devices by id and each base's people by tenant, each with the registry's revision; a copy is
# only ever replaced by a newer revision. One row of REPLICA_STATE says a snapshot was applied.

_SNAPSHOT_ROW = "snapshot"


@dataclass(frozen=True)
class ReplicaDevice:
    id: str
    tenant: str
    pin: str
    name: str
    model: str
    hardware_id: str
    mode: Literal["online", "offline"]
    status: str  # active, blocked, retired
    revision: int
    replaced_by: str | None = None

    @classmethod
    def of(cls, doc: Doc) -> Self:
        return cls(**{k: doc[k] for k in cls.__dataclass_fields__ if k in doc})

    def row(self) -> Doc:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class ReplicaPeople:
    id: str  # the tenant
    users: list[str]
    groups: dict[str, list[str]]
    revision: int

    @classmethod
    def of(cls, doc: Doc) -> Self:
        return cls(doc["id"], list(doc["users"]), dict(doc["groups"]), doc["revision"])

    def row(self) -> Doc:
        return {"id": self.id, "tenant": self.id, **self.__dict__}


async def keep_device(db: Session, device: ReplicaDevice) -> bool:
    """Keep the device unless a newer revision of it is there; True if kept."""
    return await put_newer(db, REPLICA_DEVICES.name, device.row())


async def keep_people(db: Session, people: ReplicaPeople) -> bool:
    return await put_newer(db, REPLICA_PEOPLE.name, people.row())


async def replica_device(db: Session, device_id: str) -> ReplicaDevice | None:
    doc = await db.get(REPLICA_DEVICES.name, device_id)
    return None if doc is None else ReplicaDevice.of(doc)


async def replica_device_by_pin(db: Session, tenant: str, pin: str) -> ReplicaDevice | None:
    where = {"tenant": tenant, "pin": pin, "status": "active"}
    found = await db.find(REPLICA_DEVICES.name, where, limit=1)
    return ReplicaDevice.of(found[0]) if found else None


async def replica_devices(
    db: Session, tenant: str, status: str | None = None
) -> list[ReplicaDevice]:
    where: dict[str, Any] = {"tenant": tenant}
    if status is not None:
        where["status"] = status
    return [ReplicaDevice.of(d) for d in await db.find(REPLICA_DEVICES.name, where, order_by="id")]


async def replica_people(db: Session, tenant: str) -> ReplicaPeople | None:
    doc = await db.get(REPLICA_PEOPLE.name, tenant)
    return None if doc is None else ReplicaPeople.of(doc)


async def snapshot_applied_at(db: Session) -> str | None:
    """When a snapshot of the registry's directory was last applied whole; None: never."""
    doc = await db.get(REPLICA_STATE.name, _SNAPSHOT_ROW)
    return None if doc is None else str(doc["at"])


async def mark_snapshot_applied(db: Session) -> None:
    await db.put(REPLICA_STATE.name, {"id": _SNAPSHOT_ROW, "at": now_iso()})


async def live_copies_for_device(db: Session, tenant: str, device_id: str) -> list[Doc]:
    """The copies routed to a device that no terminal has taken yet."""
    where = {"tenant": tenant, "target.value": device_id, "state": ["routed", "delivered"]}
    return await db.find(DELIVERIES.name, where)


async def retarget_copy(db: Session, delivery_id: str, target: Doc) -> None:
    await db.update(DELIVERIES.name, delivery_id, {"target": target})


async def return_copy(db: Session, copy: Doc, code: str) -> bool:
    """Withdraw a copy no terminal has taken, as returned with ``code``; False if it was taken."""
    changes = {"state": "withdrawn", "withdrawn_reason": "returned", "returned_code": code}
    return await db.update(DELIVERIES.name, copy["id"], changes, expect={"state": copy["state"]})


async def set_document_state(db: Session, key: str, state: str) -> None:
    await db.update(DOCUMENTS.name, key, {"state": state})
