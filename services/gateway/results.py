"""Completed documents as the accounting side gets them: the list not loaded yet, one result
(its first read is the journey's ``pulled`` step), and the confirmation that it was loaded.
The accounting API and the webhook pushes both serve results through this module."""

from __future__ import annotations

from typing import Any

from services.gateway import repository as repo
from services.gateway.records import CompletedDocument, CompletedEntry
from shared.clock import now_iso
from shared.contracts.documents import DeviceMode
from shared.contracts.results import DocumentLoaded
from shared.errors import Refusal
from shared.outbox import Tx
from shared.service import Runtime


async def unloaded(rt: Runtime, tenant: str, mode: DeviceMode | None) -> list[dict[str, Any]]:
    """The base's completed documents not loaded yet (only those of ``mode`` when given)."""
    entries = await repo.unloaded(rt.store, tenant)
    return [result_summary(e) for e in entries if mode is None or e.summary["mode"] == mode]


async def pull(rt: Runtime, tenant: str, document_id: str) -> dict[str, Any]:
    doc = await repo.completed(rt.store, tenant, document_id)
    if doc is None:
        raise Refusal("result_not_found", 404, document_id=document_id)
    if not doc.pulled_at:  # the first read is a step of the document's journey
        await repo.mark_pulled(rt.store, tenant, document_id, now_iso())
    return result_view(doc)


async def confirm_loaded(rt: Runtime, tenant: str, document_id: str) -> bool:
    """The base says it loaded the document (see :func:`mark_loaded`)."""
    return await rt.uow.run(lambda tx: mark_loaded(tx, tenant, document_id))


async def mark_loaded(tx: Tx, tenant: str, document_id: str) -> bool:
    """Mark a completed document loaded (once) and tell routing; False if there is none.

    Once only: the news names no version, and a repeat arriving after a newer version was
    completed would mark that one loaded too."""
    doc = await repo.completed_entry(tx.db, tenant, document_id)
    if doc is None:
        return False
    if doc.state != "loaded":
        await repo.mark_loaded(tx.db, tenant, document_id)
        if doc.state == "completed":  # a returned document has no result for routing
            await tx.emit(DocumentLoaded(document_id=document_id), tenant)
    return True


def result_view(doc: CompletedDocument) -> dict[str, Any]:
    """A completed document as the accounting side gets it: by GET and by webhook alike."""
    return {**result_summary(doc), "result": doc.result}


def result_summary(doc: CompletedDocument | CompletedEntry) -> dict[str, Any]:
    summary = doc.summary
    return {
        "document_id": summary["document_id"],
        "process": summary["process"],
        "result_type": summary["result_type"],
        "mode": summary["mode"],
        "state": doc.state,
        "completed_at": doc.completed_at,
        # A document taken back after it was accepted (returns.py): why, in both languages.
        **({"returned": summary["returned"]} if "returned" in summary else {}),
    }
