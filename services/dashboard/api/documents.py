"""The operators' document search on the dashboard: find documents of every base by accounting
id, number or device PIN, and open one's state and timeline (routing keeps both; it is asked
over RPC, ``document.find`` and ``document.journey``). The page polls the open document, so
its timeline grows while the operator watches.

The steps only the gateway sees (pushes to the base's webhook, the first pull of the result)
are not here: ``tsdx document show`` and the gateway's admin API add them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from services.dashboard.api.board import PREFIX, AdminDep
from shared.contracts import routing_rpc as routing
from shared.contracts.directory import TENANT_ID_PATTERN
from shared.http import ask
from shared.messaging.rpc import RpcClient

router = APIRouter(prefix=f"{PREFIX}/documents", tags=["dashboard"])


def _rpc(request: Request) -> RpcClient:
    rpc: RpcClient = request.app.state.runtime.rpc
    return rpc


@router.get("", summary="Documents of every base whose id, number or device PIN is q")
async def find(
    request: Request,
    _: AdminDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="id, number or PIN")],
) -> dict[str, Any]:
    return await ask(_rpc(request), routing.find_documents, routing.Search(query=q))


@router.get("/{tenant}/{document_id}", summary="One document's state and timeline")
async def journey(
    request: Request,
    _: AdminDep,
    tenant: Annotated[str, Path(pattern=TENANT_ID_PATTERN)],
    document_id: Annotated[str, Path(min_length=1, max_length=200)],
) -> dict[str, Any]:
    by_document = routing.ByDocument(document_id=document_id)
    return await ask(_rpc(request), routing.document_journey, by_document, tenant)
