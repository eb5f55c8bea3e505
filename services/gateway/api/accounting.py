"""The accounting API (1C and other accounting systems), authenticated by the base's API key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse

from services.gateway import directory, onec_upload, upload_answers
from services.gateway import results as completed
from services.gateway.auth import TenantDep
from services.gateway.parts import gateway_parts
from services.gateway.records import TenantCopy, UploadRecord
from services.gateway.wire import ensure_portable
from shared.contracts.documents import DeviceMode
from shared.contracts.registry_rpc import Registry
from shared.contracts.rpc import NoParams
from shared.contracts.uploads import UploadRequested
from shared.errors import Refusal
from shared.http import ExactJSONRoute, HttpCaller, error_body, forget_json, language_of
from shared.i18n import render
from shared.service import Runtime, RuntimeDep

router = APIRouter(prefix="/api/v1", tags=["accounting"], route_class=ExactJSONRoute)


def upload_response(
    request: Request, record: UploadRecord, *, repeated: bool = False
) -> JSONResponse:
    """The answer to an upload or to asking for it: 202 while pending, 422 refused, else 200.
    ``repeated``: the upload's request id was decided before, and this is that answer again;
    a refusal then says so, for a caller who corrected the body but kept the id."""
    body = upload_answers.answer(record)
    if repeated:
        body["repeated"] = True
    if record.pending:
        body["status_url"] = str(request.url_for("upload_status", request_id=record.request_id))
        return JSONResponse(body, status_code=202)
    if record.status == "refused":
        language = language_of(request)
        body.update(error_body(body["code"], language, body.get("params")))
        if repeated:
            body["message"] += " " + render("upload_refused_before", language)
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
    forget_json(request)  # validated into ``body``, which is all that is read from here on
    record, repeated = await accept_upload(rt, tenant, body)
    return upload_response(request, record, repeated=repeated)


async def accept_upload(
    rt: Runtime, tenant: TenantCopy, body: UploadRequested
) -> tuple[UploadRecord, bool]:
    """Hand a validated upload of an authenticated base to routing: its record, decided if
    routing answered in time, and whether its request id was decided before. The endpoint and
    the plain route (``upload_route.py``) share it."""
    ensure_portable(body)
    upload_answers.check_limits(body, rt)
    if body.target.kind != "pin":
        return await upload_answers.submit(rt, gateway_parts(rt).notifier, tenant.id, body)
    # A PIN is a guess: counted before it is decided, so no burst gets more than the limit
    # through; a hit gives the count back, a miss keeps it, and an answer still pending keeps
    # it until routing's decision settles it (inbox.py).
    limit = gateway_parts(rt).pin_limit
    reservation = await limit.reserve(tenant.api_key_hash)
    if reservation.retry_after is not None:
        raise Refusal("too_many_pin_misses", 429, retry_after=reservation.retry_after)
    try:
        record, repeated = await upload_answers.submit(
            rt, gateway_parts(rt).notifier, tenant.id, body
        )
    except Refusal as refusal:
        if refusal.code in ("broker_unavailable", "upload_not_confirmed"):  # not accepted
            await limit.give_back(reservation)
        raise
    if record.decision is None:
        if await upload_answers.hold_pin_guess(rt, record.id, reservation):
            return record, repeated  # 202: the decision settles the guess
        record = await upload_answers.decided_since(rt, record)
    if (record.decision or {}).get("code") != upload_answers.PIN_MISS:
        await limit.give_back(reservation)
    return record, repeated


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


@router.get(
    "/uploads/{request_id}",
    name="upload_status",
    summary="The answer to an upload",
    responses={404: {"description": "upload_not_found: no upload with this request id here"}},
)
async def upload_status(
    request_id: str, request: Request, rt: RuntimeDep, tenant: TenantDep
) -> JSONResponse:
    return upload_response(request, await upload_answers.answer_of(rt, tenant.id, request_id))


@router.get(
    "/devices", summary="This base's device list, to pick a terminal instead of typing its PIN"
)
async def devices(rt: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
    known = await Registry(HttpCaller(rt.rpc), tenant.id).known_devices(NoParams())
    return {"devices": await directory.picker(rt, known)}


@router.get("/results", summary="Completed documents not yet loaded into the accounting system")
async def results(
    rt: RuntimeDep,
    tenant: TenantDep,
    mode: Annotated[
        DeviceMode | None,
        Query(description="only documents finished on online or on offline devices"),
    ] = None,
) -> dict[str, Any]:
    return {"results": await completed.unloaded(rt, tenant.id, mode)}


# The same answer for both calls of one completed document.
_NO_RESULT: dict[int | str, dict[str, Any]] = {
    404: {"description": "result_not_found: no completed document with this 1C id"}
}


@router.get(
    "/results/{document_id}",
    summary="One completed document with its fact lines",
    responses=_NO_RESULT,
)
async def result(document_id: str, rt: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
    return await completed.pull(rt, tenant.id, document_id)


@router.post(
    "/results/{document_id}/loaded",
    summary="Confirm the document was loaded (idempotent)",
    responses=_NO_RESULT,
)
async def loaded(document_id: str, rt: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
    if not await completed.confirm_loaded(rt, tenant.id, document_id):
        raise Refusal("result_not_found", 404, document_id=document_id)
    return {"document_id": document_id, "state": "loaded"}
