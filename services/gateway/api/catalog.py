"""The catalog at the gateway: 1C uploads it (passed on to its owner, the registry), and
terminals on the internet sync it from the gateway's own copy (docs/catalog.md)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from services.gateway.auth import BEARER_SECURITY, DeviceDep, TenantDep
from shared.catalog import repository as catalog_repo
from shared.catalog.batch import rendered
from shared.catalog.sync import SyncQuery, json_response, page
from shared.contracts import registry_rpc as registry
from shared.contracts.registry_rpc import Registry
from shared.errors import Refusal
from shared.http import HttpCaller, documented_query, error_body, language_of, query_of
from shared.onec.errors import decode_utf8
from shared.onec.json_import import parse_1c_json
from shared.service import RuntimeDep

# Control characters JSON allows only escaped (a raw tab, line feed or return is whitespace).
_RAW_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")

accounting_router = APIRouter(prefix="/api/v1", tags=["catalog"])
terminal_router = APIRouter(prefix="/api/v1/terminal", tags=["terminal"])

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "The catalog batch: the native shape or a 1C JSON export "
        "(ЗаписатьJSON of a structure or an array, XDTO catalog objects), UTF-8, BOM or not.",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


def invalid_response(request: Request, total: int, errors: list[Any]) -> JSONResponse:
    language = language_of(request)
    body = error_body("catalog_invalid", language, {"total": total})
    body["errors"] = rendered(errors, language)
    return JSONResponse(body, status_code=422)


@accounting_router.post(
    "/catalog",
    summary="Upload catalog items (products, warehouses, cells) and deletions, all or nothing",
    openapi_extra=_UPLOAD_BODY,
    responses={422: {"description": "`catalog_invalid`: every wrong item, nothing changed"}},
)
async def upload(request: Request, rt: RuntimeDep, tenant: TenantDep) -> Response:
    # The upload is read and checked once, by the catalog's owner, which answers every wrong
    # item (a barcode another item keeps needs its store anyway): it goes there as its text.
    text = decode_utf8(await request.body())
    if _RAW_CONTROL.search(text):
        # Never JSON (JSON escapes them), and each would travel as six characters: refused
        # here, in the words the registry's reading would give.
        parse_1c_json(text)
    export = registry.CatalogBatch(export=text)
    try:
        result = await Registry(HttpCaller(rt.rpc), tenant.id).apply_catalog(export)
    except Refusal as refusal:
        if refusal.code != "catalog_invalid":
            raise
        return invalid_response(request, refusal.params["total"], refusal.params["errors"])
    return JSONResponse(result.model_dump(mode="json"))


@accounting_router.get("/catalog", summary="This base's catalogs and their versions")
async def versions(rt: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
    heads = await catalog_repo.tenant_heads(rt.store, tenant.id)
    return {"catalogs": [{"store": h["store"], "version": h["version"]} for h in heads]}


@terminal_router.get(
    "/catalog",
    summary="Catalog changes after a version, one page (since=0: a full download)",
    openapi_extra={**documented_query(SyncQuery), **BEARER_SECURITY},
)
async def sync(request: Request, rt: RuntimeDep, device: DeviceDep) -> Response:
    query = query_of(SyncQuery, request)
    return json_response(request, await page(rt.store, device.tenant, query))
