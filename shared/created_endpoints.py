"""The three endpoints of documents started on the terminal (shared/created_documents.py),
declared once for both channels: which processes the caller may start, the finished document
sent once, and what became of it. The gateway serves them to paired devices, the LAN writer to
logged-in users; each gives who the caller is and its own use cases for the other two."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from fastapi import APIRouter, Depends, Request

from shared.created_documents import CreatedDocument, startable_processes
from shared.http import ExactJSONRoute, language_of
from shared.service import Runtime, RuntimeDep

Answer = dict[str, Any]


class Caller(Protocol):
    @property
    def tenant(self) -> str: ...


def created_endpoints(
    *,
    prefix: str,
    tag: str,
    caller: Callable[..., Awaitable[Any]],
    who: str,
    kept: str,
    record: Callable[[Runtime, Any, CreatedDocument, str], Awaitable[Answer]],
    status: Callable[[Runtime, Any, str, str, str], Awaitable[Answer]],
) -> APIRouter:
    """The router: ``caller`` is the dependency naming who calls (``who`` in the API pages),
    ``record`` and ``status`` the channel's use cases, answered in the caller's language;
    ``kept`` is the channel's word for a document taken."""
    router = APIRouter(prefix=prefix, tags=[tag], route_class=ExactJSONRoute)
    called_by = Depends(caller)  # each endpoint's last parameter: who calls

    @router.get("/processes", summary=f"The business processes this {who} may start documents of")
    async def processes(rt: RuntimeDep, by: Caller = called_by) -> Answer:
        return await startable_processes(rt.rpc, by.tenant)

    @router.post(
        "/created",
        summary="A finished document started on the terminal; the same document_id again applies "
        "once",
    )
    async def created(
        body: CreatedDocument, request: Request, rt: RuntimeDep, by: Caller = called_by
    ) -> Answer:
        return await record(rt, by, body, language_of(request))

    @router.get(
        "/created/{document_id}/results/{result_id}",
        summary=f"What became of a document started on the terminal: {kept}, or refused and why",
    )
    async def created_status(
        document_id: str,
        result_id: str,
        request: Request,
        rt: RuntimeDep,
        by: Caller = called_by,
    ) -> Answer:
        return await status(rt, by, document_id, result_id, language_of(request))

    return router
