"""The accounting API (1C and other accounting systems), authenticated by the base's API key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse

from services.gateway import onec_upload, uploads
from services.gateway import repository as repo
from services.gateway.auth import TenantDep
from services.gateway.wire import ensure_portable
from shared.contracts.documents import DeviceMode
from shared.contracts.results import DocumentLoaded
from shared.contracts.uploads import UploadRequested
from shared.errors import Refusal
from shared.http import ExactJSONRoute, ask, error_body, language_of
from shared.limits import GuessLimit
from shared.messaging.topology import REGISTRY_RPC
from shared.outbox import Tx
from shared.service import RuntimeDep

router = APIRouter(prefix="/api/v1", tags=["accounting"], route_class=ExactJSONRoute)


def _upload_response(request: Request, record: dict[str, Any]) -> JSONResponse:
    body = uploads.answer(record)
    if record["status"] == "pending":
        body["status_url"] = str(request.url_for("upload_status", request_id=record["request_id"]))
        return JSONResponse(body, status_code=202)
    if record["status"] == "refused":
        body.update(error_body(body["code"], language_of(request), body.get("params")))
        return JSONResponse(body, status_code=422)
    return JSONResponse(body, status_code=200)


async def upload(
    request: Request,
    rt: RuntimeDep,
    tenant: TenantDep,
    body: Annotated[UploadRequested | None, Body()] = None,
) -> JSONResponse:
    if body is None:  # a 1C body, set aside by its route: read only now, after authentication
        body = onec_upload.upload_of(request)
    ensure_portable(body)
    uploads.check_limits(body, rt)
    if body.target.kind != "pin":
        record = await uploads.submit(rt, rt.state["notifier"], tenant["id"], body)
        return _upload_response(request, record)
    # A PIN is a guess: counted before it is decided, so no burst gets more than the limit
    # through; a hit gives the count back, a miss keeps it, and an answer still pending keeps
    # it until routing's decision settles it (handlers.py).
    limit: GuessLimit = rt.state["pin_limit"]
    reservation = await limit.reserve(tenant["api_key_hash"])
    if reservation.retry_after is not None:
        raise Refusal("too_many_pin_misses", 429, retry_after=reservation.retry_after)
    try:
        record = await uploads.submit(rt, rt.state["notifier"], tenant["id"], body)
    except Refusal as refusal:
        if refusal.code in ("broker_unavailable", "upload_not_confirmed"):  # not accepted
            await limit.give_back(reservation)
        raise
    if record.get("decision") is None:
        if await uploads.hold_pin_guess(rt, record["id"], reservation):
            return _upload_response(request, record)  # 202: the decision settles the guess
        record = await rt.store.get(repo.UPLOADS.name, record["id"]) or record  # decided now
    if (record.get("decision") or {}).get("code") != uploads.PIN_MISS:
        await limit.give_back(reservation)
    return _upload_response(request, record)


router.add_api_route(
    "/uploads",
    upload,
    methods=["POST"],
    route_class_override=onec_upload.OneCBodyRoute,
    summary="Upload documents to terminals (tsdx's JSON, or 1C's own JSON)",
    description="tsdx's JSON (`application/json`), or a document as 1C writes it "
    "(`application/vnd.1c+json` or `?format=1c-json`) with the request id, process and "
    "target as query parameters. See docs/accounting-api.md.",
    responses={
        202: {"description": "Routing has not answered yet; poll status_url"},
        422: {"description": "Refused, with code and message"},
        429: {"description": "Too many wrong PINs from this API key"},
    },
    openapi_extra=onec_upload.documented(),
)


@router.get("/uploads/{request_id}", name="upload_status", summary="The answer to an upload")
async def upload_status(
    request_id: str, request: Request, rt: RuntimeDep, tenant: TenantDep
) -> JSONResponse:
    record = await rt.store.get(repo.UPLOADS.name, repo.upload_key(tenant["id"], request_id))
    if record is None:
        raise Refusal("not_found", 404)
    return _upload_response(request, record)


@router.get(
    "/devices", summary="This base's device list, to pick a terminal instead of typing its PIN"
)
async def devices(rt: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
    known = await ask(rt.rpc, REGISTRY_RPC, "device.known", {}, tenant=tenant["id"])
    items = []
    for device in known:
        copy = await rt.store.get(repo.DEVICES.name, device["id"])
        last_seen = (copy or {}).get("last_seen") or device.get("last_seen")
        items.append(
            {
                "device_id": device["id"],
                "pin": device["pin"],
                "name": device["name"],
                "model": device["model"],
                "mode": device["mode"],
                "last_seen": last_seen,
                # As 1C shows it: «5546  EDA50, (@HONEYWELL-EDA50-V-16204B17A7)»
                "title": f"{device['pin']}  {device['name']}, ({device['hardware_id']})",
            }
        )
    return {"devices": items}


@router.get("/results", summary="Completed documents not yet loaded into the accounting system")
async def results(
    rt: RuntimeDep,
    tenant: TenantDep,
    mode: Annotated[
        DeviceMode | None,
        Query(description="only documents finished on online or on offline devices"),
    ] = None,
) -> dict[str, Any]:
    docs = await rt.store.find(
        repo.COMPLETED.name, {"tenant": tenant["id"], "state": "completed"}, order_by="completed_at"
    )
    return {
        "results": [result_summary(d) for d in docs if mode is None or d["result"]["mode"] == mode]
    }


@router.get("/results/{document_id}", summary="One completed document with its fact lines")
async def result(document_id: str, rt: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
    key = repo.completed_key(tenant["id"], document_id)
    doc = await rt.store.get(repo.COMPLETED.name, key)
    if doc is None:
        raise Refusal("not_found", 404)
    if not doc.get("pulled_at"):  # the first read is a step of the document's journey
        await rt.store.update(
            repo.COMPLETED.name, key, {"pulled_at": datetime.now(UTC).isoformat()}
        )
    return result_view(doc)


@router.post(
    "/results/{document_id}/loaded", summary="Confirm the document was loaded (idempotent)"
)
async def loaded(document_id: str, rt: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
    if not await rt.uow.run(lambda tx: mark_loaded(tx, tenant["id"], document_id)):
        raise Refusal("not_found", 404)
    return {"document_id": document_id, "state": "loaded"}


async def mark_loaded(tx: Tx, tenant: str, document_id: str) -> bool:
    """Mark a completed document loaded (once) and tell routing; False if there is none.

    Once only: the news names no version, and a repeat arriving after a newer version was
    completed would mark that one loaded too."""
    key = repo.completed_key(tenant, document_id)
    doc = await tx.db.get(repo.COMPLETED.name, key)
    if doc is None:
        return False
    if doc["state"] != "loaded":
        await tx.db.update(repo.COMPLETED.name, key, {"state": "loaded"})
        await tx.emit(DocumentLoaded(document_id=document_id), tenant)
    return True


def result_view(doc: dict[str, Any]) -> dict[str, Any]:
    """A completed document as the accounting side gets it: by GET and by webhook alike."""
    return {**result_summary(doc), "result": doc["result"]}


def result_summary(doc: dict[str, Any]) -> dict[str, Any]:
    result = doc["result"]
    return {
        "document_id": result["document_id"],
        "process": result["process"],
        "result_type": result["result_type"],
        "mode": result["mode"],
        "state": doc["state"],
        "completed_at": doc["completed_at"],
    }
