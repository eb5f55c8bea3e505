"""Routing storage: business processes, upload requests, documents and their copies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from services.routing.processes import BusinessProcess
from shared.storage import Collection, Doc, Index, Session

# Processes are per tenant; the defaults live under the tenant "*" and apply to every tenant
# that has no process of its own with the same id.
PROCESSES = Collection("processes", (Index(("tenant", "name")), Index(("tenant",))))
REQUESTS = Collection("requests")  # by tenant:request_id, with the decision given
DOCUMENTS = Collection("documents", (Index(("tenant", "state")),))  # master record per document
DELIVERIES = Collection(
    "deliveries",
    (Index(("document_key",)), Index(("document_key", "version")), Index(("tenant", "state"))),
)

COLLECTIONS = (PROCESSES, REQUESTS, DOCUMENTS, DELIVERIES)

ALL_TENANTS = "*"

# Where a default process came from: shipped with tsdx (rewritten by an upgrade) or written
# by an operator (kept as the operator left it).
Origin = Literal["shipped", "operator"]


def now() -> str:
    return datetime.now(UTC).isoformat()


def request_key(tenant: str, request_id: str) -> str:
    return f"{tenant}:{request_id}"


def document_key(tenant: str, document_id: str) -> str:
    return f"{tenant}:{document_id}"


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
        "updated_at": now(),
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
