"""Documents a LAN user starts on the terminal (processes with ``create_on_terminal``): which
processes may be started, and the finished document sent once (see
shared/created_documents.py). Nothing of it is kept in the LAN base but the send itself:
the document is the user's until it is sent, and routing's from then on."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request

from services.lan_writer import repository as repo
from services.lan_writer import views
from services.lan_writer.auth import UserDep
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
    delivery_id = delivery_id_of(body.document_id)
    key = repo.result_key(delivery_id, user.login, body.result_id)
    previous = await rt.store.get(repo.RESULTS.name, key)
    if previous is not None:
        return views.result(previous, language_of(request))
    record = {
        "id": key,
        "delivery_id": delivery_id,
        "tenant": user.tenant,
        "login": user.login,
        "result_id": body.result_id,
        "final": True,
        "completes": True,
        "created": True,  # no copy in the LAN base: a refusal only marks this record
        "status": "sent",
        "received_at": datetime.now(UTC).isoformat(),
    }
    sent = submission(body, "lan", user.login, "online").model_copy(update={"result_id": key})

    async def received(tx: Tx) -> None:
        await tx.db.insert(repo.RESULTS.name, record)
        await tx.emit(sent, user.tenant)

    with suppress(DuplicateKeyError):  # sent twice at the same moment: the other one applied
        await rt.uow.run(received)
    stored = await rt.store.get(repo.RESULTS.name, key)
    if stored is None:
        raise Refusal("storage_unavailable", 503)
    return views.result(stored, language_of(request))


@router.get(
    "/created/{document_id}/results/{result_id}",
    summary="What became of a document started on the terminal: sent, or refused and why",
)
async def created_status(
    document_id: str, result_id: str, request: Request, rt: RuntimeDep, user: UserDep
) -> dict[str, Any]:
    key = repo.result_key(delivery_id_of(document_id), user.login, result_id)
    record = await rt.store.get(repo.RESULTS.name, key)
    if record is None or record["tenant"] != user.tenant:
        raise Refusal("not_found", 404)
    return views.result(record, language_of(request))
