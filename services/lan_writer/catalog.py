"""The catalog at the LAN writer: terminals on the local network sync it from the LAN
writer's own copy, the same pages as at the gateway (docs/catalog.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from services.lan_writer.auth import UserDep
from shared.catalog.sync import SyncQuery, json_response, page
from shared.http import documented_query, query_of
from shared.service import RuntimeDep

router = APIRouter(prefix="/api/v1/lan", tags=["lan terminal"])


@router.get(
    "/catalog",
    summary="Catalog changes after a version, one page (since=0: a full download)",
    openapi_extra=documented_query(SyncQuery),
)
async def sync(request: Request, rt: RuntimeDep, user: UserDep) -> Response:
    query = query_of(SyncQuery, request)
    return json_response(request, await page(rt.store, user.tenant, query))
