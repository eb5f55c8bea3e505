"""Documents a LAN user starts on the terminal (processes with ``create_on_terminal``): which
processes may be started, and the finished document sent once (see
shared/created_documents.py). Nothing of it is kept in the LAN base but the send itself:
the document is the user's until it is sent, and routing's from then on."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from services.lan_writer import views
from services.lan_writer.auth import UserDep
from services.lan_writer.parts import lan_parts
from shared.created_documents import (
    CreatedDocument,
    startable_processes,
)
from shared.http import ExactJSONRoute, language_of
from shared.marks import refuse_repeated
from shared.service import RuntimeDep

# The same three endpoints as gateway/api/terminal_created.py, by shape only: what they share
# (the document's contract, the startable processes) is shared/created_documents.py; here a
# logged-in user sends, to the LAN desk, answered as the LAN's results are (views.result).
router = APIRouter(prefix="/api/v1/lan", tags=["lan terminal"], route_class=ExactJSONRoute)


@router.get("/processes", summary="The business processes this user may start documents of")
async def processes(rt: RuntimeDep, user: UserDep) -> dict[str, Any]:
    return await startable_processes(rt.rpc, user.tenant)


@router.post(
    "/created",
    summary="A finished document started on the terminal; the same document_id again applies once",
)
async def created(
    body: CreatedDocument, request: Request, rt: RuntimeDep, user: UserDep
) -> dict[str, Any]:
    refuse_repeated(body.lines)
    stored = await lan_parts(rt).users.record_created(user, body)
    return views.result(stored, language_of(request))


@router.get(
    "/created/{document_id}/results/{result_id}",
    summary="What became of a document started on the terminal: sent, or refused and why",
)
async def created_status(
    document_id: str, result_id: str, request: Request, rt: RuntimeDep, user: UserDep
) -> dict[str, Any]:
    record = await lan_parts(rt).users.created_result(user, document_id, result_id)
    return views.result(record, language_of(request))
