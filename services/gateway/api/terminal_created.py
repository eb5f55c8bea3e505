"""Documents the terminal starts itself (processes with ``create_on_terminal``), internet side:
which processes it may start, and the finished document sent once (see
shared/created_documents.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from services.gateway.api.terminal import result_answer
from services.gateway.auth import DeviceDep
from services.gateway.inbox import created_result, record_created
from services.gateway.wire import ensure_portable
from shared.created_documents import (
    CreatedDocument,
    startable_processes,
)
from shared.http import ExactJSONRoute, language_of
from shared.marks import refuse_repeated
from shared.service import RuntimeDep

# The same three endpoints as lan_writer/api/created.py, by shape only: what they share (the
# document's contract, the startable processes) is shared/created_documents.py; here a paired
# device sends, checked and answered like terminal.py's results endpoints (result_answer).
router = APIRouter(prefix="/api/v1/terminal", tags=["terminal"], route_class=ExactJSONRoute)


@router.get("/processes", summary="The business processes this terminal may start documents of")
async def processes(rt: RuntimeDep, device: DeviceDep) -> dict[str, Any]:
    return await startable_processes(rt.rpc, device.tenant)


@router.post(
    "/created",
    summary="A finished document started on the terminal; the same document_id again applies once",
)
async def created(
    body: CreatedDocument, request: Request, rt: RuntimeDep, device: DeviceDep
) -> dict[str, Any]:
    ensure_portable(body)
    refuse_repeated(body.lines)
    record, duplicate = await record_created(rt, device, body)
    return result_answer(record, language_of(request), duplicate=duplicate)


@router.get(
    "/created/{document_id}/results/{result_id}",
    summary="What became of a document started on the terminal: received, or refused and why",
)
async def created_status(
    document_id: str, result_id: str, request: Request, rt: RuntimeDep, device: DeviceDep
) -> dict[str, Any]:
    record = await created_result(rt, device, document_id, result_id)
    return result_answer(record, language_of(request), duplicate=False)
