"""The operators' document search on the dashboard: find documents of every base by accounting
id, number or device PIN, and open one's state and timeline. The page polls the open document,
so its timeline grows while the operator watches.

Each part is asked of the service that keeps it, over RPC: routing finds documents and tells
their state and steps (``document.find``, ``document.journey``); the gateway tells the steps
only it sees (``document.result_steps``: pushes to the base's webhook, the first pull of the
result). They are joined as shared/journey.py says, so the timeline is the one the gateway's
API and ``tsdx document show`` give. When the gateway does not answer in time, routing's
steps are still shown, with ``incomplete: ["gateway"]`` so the page says what is missing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from services.dashboard.api.board import PREFIX, AdminDep
from shared.contracts import gateway_rpc as gateway
from shared.contracts import routing_rpc as routing
from shared.contracts.directory import TENANT_ID_PATTERN
from shared.contracts.gateway_rpc import Gateway
from shared.contracts.routing_rpc import Routing
from shared.errors import Refusal
from shared.http import HttpCaller
from shared.journey import joined
from shared.messaging.rpc import RpcClient

router = APIRouter(prefix=f"{PREFIX}/documents", tags=["dashboard"])


def _rpc(request: Request) -> HttpCaller:
    rpc: RpcClient = request.app.state.runtime.rpc
    return HttpCaller(rpc)


@router.get("", summary="Documents of every base whose id, number or device PIN is q")
async def find(
    request: Request,
    _: AdminDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="id, number or PIN")],
) -> dict[str, Any]:
    found = await Routing(_rpc(request)).find_documents(routing.Search(query=q))
    return found.model_dump(mode="json")


@router.get("/{tenant}/{document_id}", summary="One document's state and timeline")
async def journey(
    request: Request,
    _: AdminDep,
    tenant: Annotated[str, Path(pattern=TENANT_ID_PATTERN)],
    document_id: Annotated[str, Path(min_length=1, max_length=200)],
) -> dict[str, Any]:
    rpc = _rpc(request)
    journey = await Routing(rpc, tenant).document_journey(
        routing.ByDocument(document_id=document_id)
    )
    view = journey.model_dump(mode="json")
    try:
        found = await Gateway(rpc, tenant).result_steps(gateway.ByDocument(document_id=document_id))
    except Refusal as refusal:
        if refusal.code != "broker_unavailable":
            raise
        # Routing's steps are worth showing while the gateway is away.
        return {**view, "incomplete": ["gateway"]}
    return joined(view, found.steps)
