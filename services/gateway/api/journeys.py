"""A document's journey over HTTP: where a document is and every step it took.

- The accounting side asks for one of its own documents by its accounting id:
  ``GET /api/v1/documents/{document_id}`` (API key). Another base's document answers exactly
  like one that was never uploaded: ``404 not_found``.
- Operators search every base by accounting id, number or device PIN:
  ``GET /api/v1/admin/documents?q=…``, and open one:
  ``GET /api/v1/admin/tenants/{tenant}/documents/{document_id}`` (admin token).

Routing keeps the steps (``document.journey`` and ``document.find`` over RPC, off the upload
path); the gateway adds the steps only it sees: each push of the result to the base's webhook
(``pushed``, or ``push_failed`` once the attempts ran out) and the first time the accounting
side read the result (``pulled``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from services.gateway.auth import AdminDep, TenantDep
from services.gateway.journeys import journey
from shared.contracts import routing_rpc as routing
from shared.contracts.directory import TENANT_ID_PATTERN
from shared.contracts.routing_rpc import Routing
from shared.http import HttpCaller
from shared.service import RuntimeDep

router = APIRouter(prefix="/api/v1", tags=["documents"])

DocumentId = Annotated[str, Path(min_length=1, max_length=200)]
TenantId = Annotated[str, Path(pattern=TENANT_ID_PATTERN, examples=["sklad-na-lenina"])]


@router.get(
    "/documents/{document_id}",
    summary="Where a document is: its state and every step it took",
    responses={404: {"description": "No document of this base has this id"}},
)
async def document_journey(
    document_id: DocumentId, rt: RuntimeDep, tenant: TenantDep
) -> dict[str, Any]:
    view = await journey(rt, tenant.id, document_id)
    view.pop("tenant", None)
    return view


@router.get(
    "/admin/documents",
    summary="Find documents of every base by accounting id, number or device PIN",
)
async def find_documents(
    rt: RuntimeDep,
    _: AdminDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="id, number or PIN")],
) -> dict[str, Any]:
    found = await Routing(HttpCaller(rt.rpc)).find_documents(routing.Search(query=q))
    return found.model_dump(mode="json")


@router.get(
    "/admin/tenants/{tenant}/documents/{document_id}",
    summary="One document of a base: its state and every step it took",
)
async def admin_document_journey(
    tenant: TenantId, document_id: DocumentId, rt: RuntimeDep, _: AdminDep
) -> dict[str, Any]:
    return await journey(rt, tenant, document_id)
