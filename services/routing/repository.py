"""Routing storage: business processes, upload requests, documents and their copies."""

from __future__ import annotations

from services.routing.processes import BusinessProcess
from shared.storage import Collection, Index, Session

# Processes are per tenant; the shipped defaults live under the tenant "*" and apply to all.
PROCESSES = Collection("processes", (Index(("tenant", "name")), Index(("tenant",))))
REQUESTS = Collection("requests")  # by tenant:request_id, with the decision given
DOCUMENTS = Collection("documents", (Index(("tenant", "state")),))  # master record per document
DELIVERIES = Collection("deliveries", (Index(("document_key",)), Index(("tenant", "state"))))

COLLECTIONS = (PROCESSES, REQUESTS, DOCUMENTS, DELIVERIES)

ALL_TENANTS = "*"
# States of a copy that a terminal has not taken yet; re-uploading replaces these.
NOT_TAKEN = ("routed",)
# States of a copy a terminal is working on; re-uploading refuses unless recall is asked.
TAKEN = ("downloaded", "in_progress")
LIVE = NOT_TAKEN + TAKEN


def request_key(tenant: str, request_id: str) -> str:
    return f"{tenant}:{request_id}"


def document_key(tenant: str, document_id: str) -> str:
    return f"{tenant}:{document_id}"


def process_key(tenant: str, process_id: str) -> str:
    return f"{tenant}:{process_id}"


async def find_process(db: Session, tenant: str, ref: str) -> BusinessProcess | None:
    """A process by id or by name: the tenant's own first, then the shipped defaults."""
    for owner in (tenant, ALL_TENANTS):
        doc = await db.get(PROCESSES.name, process_key(owner, ref))
        if doc is None:
            found = await db.find(PROCESSES.name, {"tenant": owner, "name": ref}, limit=1)
            doc = found[0] if found else None
        if doc is not None:
            return BusinessProcess.model_validate(doc["process"])
    return None


async def save_process(db: Session, tenant: str, process: BusinessProcess) -> None:
    await db.put(
        PROCESSES.name,
        {
            "id": process_key(tenant, process.id),
            "tenant": tenant,
            "name": process.name,
            "process": process.model_dump(mode="json"),
        },
    )
