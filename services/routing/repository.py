"""Routing storage: business processes, upload requests, documents and their copies."""

from __future__ import annotations

from typing import Literal

from services.routing.processes import BusinessProcess
from shared.clock import now_iso
from shared.contracts.documents import Document, FactLine
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

COLLECTIONS = (
    PROCESSES,
    REQUESTS,
    DOCUMENTS,
    DOCUMENT_BODIES,
    DOCUMENT_FACTS,
    DELIVERIES,
    JOURNEY,
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
