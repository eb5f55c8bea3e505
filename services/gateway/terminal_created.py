"""Documents the terminal starts itself (processes with ``create_on_terminal``), internet side:
which processes it may start, and the finished document sent once (see
shared/created_documents.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request

from services.gateway import repository as repo
from services.gateway.auth import DeviceDep
from services.gateway.terminal import result_answer
from services.gateway.wire import ensure_portable
from shared.created_documents import (
    CreatedDocument,
    delivery_id_of,
    startable_processes,
    submission,
)
from shared.errors import Refusal
from shared.http import ExactJSONRoute, language_of
from shared.marks import refuse_repeated
from shared.outbox import Tx
from shared.service import RuntimeDep
from shared.storage import DuplicateKeyError

router = APIRouter(prefix="/api/v1/terminal", tags=["terminal"], route_class=ExactJSONRoute)


@router.get("/processes", summary="The business processes this terminal may start documents of")
async def processes(rt: RuntimeDep, device: DeviceDep) -> dict[str, Any]:
    return await startable_processes(rt.rpc, device["tenant"])


@router.post(
    "/created",
    summary="A finished document started on the terminal; the same document_id again applies once",
)
async def created(
    body: CreatedDocument, request: Request, rt: RuntimeDep, device: DeviceDep
) -> dict[str, Any]:
    ensure_portable(body)
    refuse_repeated(body.lines)
    delivery_id = delivery_id_of(body.document_id)
    key = repo.result_key(delivery_id, body.result_id)
    previous = await rt.store.get(repo.RESULTS.name, key)
    if previous is not None:
        return result_answer(previous, language_of(request), duplicate=True)
    record = {
        "id": key,
        "delivery_id": delivery_id,
        "result_id": body.result_id,
        "final": True,
        "device_id": device["id"],
        "lines": len(body.lines),
        "status": "received",
        "received_at": datetime.now(UTC).isoformat(),
    }

    async def received(tx: Tx) -> None:
        await tx.db.insert(repo.RESULTS.name, record)
        await tx.emit(submission(body, "internet", device["id"], device["mode"]), device["tenant"])

    try:
        await rt.uow.run(received)
    except DuplicateKeyError:  # sent twice at the same moment: the other one was applied
        return result_answer(
            await rt.store.get(repo.RESULTS.name, key) or record,
            language_of(request),
            duplicate=True,
        )
    return result_answer(record, language_of(request), duplicate=False)


@router.get(
    "/created/{document_id}/results/{result_id}",
    summary="What became of a document started on the terminal: received, or refused and why",
)
async def created_status(
    document_id: str, result_id: str, request: Request, rt: RuntimeDep, device: DeviceDep
) -> dict[str, Any]:
    key = repo.result_key(delivery_id_of(document_id), result_id)
    record = await rt.store.get(repo.RESULTS.name, key)
    if record is None or record.get("device_id", device["id"]) != device["id"]:
        raise Refusal("not_found", 404)
    return result_answer(record, language_of(request), duplicate=False)
