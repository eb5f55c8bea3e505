"""The operator's page and the JSON endpoints that feed it (``/api/v1/dashboard/...``)."""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ConfigDict, Field

from services.dashboard.broker_state import ManagementUnavailable
from services.dashboard.labels import labels_for
from services.dashboard.page import render_page
from services.dashboard.state import Dashboard
from shared.audit import audited
from shared.contracts.absent import NullMeansAbsent
from shared.contracts.directory import TENANT_ID_PATTERN
from shared.contracts.registry_rpc import Registry
from shared.contracts.rpc import NoParams
from shared.errors import Refusal
from shared.http import HttpCaller, check_admin_token, language_of
from shared.i18n import Language, pick_language
from shared.messaging.broker import BrokerUnavailable
from shared.messaging.topology import WorkQueue, work_queue
from shared.metrics import PARKED_DISCARDED, PARKED_REPLAYED
from shared.qr import qr_svg
from shared.service import Runtime
from shared.settings import Settings

R = TypeVar("R")

PREFIX = "/api/v1/dashboard"

router = APIRouter(tags=["dashboard"])
bearer = HTTPBearer(auto_error=False, description="The admin token")

# Always present in the answer, so the page shows 0 rather than nothing.
COUNTERS = (
    "accepted",
    "refused",
    "repeated",
    "routed_internet",
    "routed_lan",
    "completed",
    "results_refused",
)


async def _dashboard(request: Request) -> Dashboard:
    board: Dashboard = request.app.state.dashboard
    return board


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.runtime.settings
    return settings


DashboardDep = Annotated[Dashboard, Depends(_dashboard)]
SettingsDep = Annotated[Settings, Depends(_settings)]


async def _require_admin(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    check_admin_token(credentials, settings.admin_token)


AdminDep = Annotated[None, Depends(_require_admin)]
TenantId = Annotated[str, Path(pattern=TENANT_ID_PATTERN, description="the base's id")]


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def page(
    request: Request,
    board: DashboardDep,
    lang: Annotated[Language | None, Query(description="ru (default) or en")] = None,
) -> HTMLResponse:
    language = lang or pick_language(request.headers.get("accept-language"))
    return HTMLResponse(
        render_page(language, board.activity.bucket_seconds, board.activity.window_seconds),
        headers={"Content-Language": language, "Vary": "Accept-Language"},
    )


@router.get(f"{PREFIX}/activity", summary="Counters, the decision feed, refusals, throughput")
async def activity(
    request: Request,
    board: DashboardDep,
    _: AdminDep,
    limit: Annotated[int, Query(ge=1, le=500, description="feed entries, newest first")] = 50,
) -> dict[str, Any]:
    language = language_of(request)
    counters = board.activity.counters
    return {
        "started_at": board.activity.started_at.isoformat(),
        "counters": {name: counters[name] for name in COUNTERS},
        "feed": board.activity.feed(language, limit),
        "refusals": board.activity.refusals(language),
        "throughput": board.activity.throughput(time.time()),
    }


@router.get(f"{PREFIX}/devices", summary="Devices with PIN, mode, status and presence")
async def devices(board: DashboardDep, _: AdminDep) -> dict[str, Any]:
    return {"devices": board.activity.devices(datetime.now(UTC))}


@router.get(f"{PREFIX}/tenants", summary="The accounting bases, with their device counts")
async def tenants(request: Request, _: AdminDep) -> dict[str, Any]:
    return {"tenants": await _registry(request).list_tenants(NoParams())}


@router.post(
    f"{PREFIX}/tenants/{{tenant}}/connection-code",
    summary="Issue a new connection code and show it with its QR code (SVG) to pair terminals",
)
async def new_connection_code(tenant: TenantId, request: Request, _: AdminDep) -> dict[str, Any]:
    """The code is kept hashed, so it is shown only when issued: a new one replaces the old
    for pairing (devices already paired stay paired)."""
    with audited("tenant.rotate_code", tenant=tenant, target=tenant):
        rotated = await _registry(request, tenant).rotate_connection_code(NoParams())
    code = rotated.connection_code
    language = pick_language(request.headers.get("accept-language"))
    title = labels_for(language)["qr_title"].format(tenant=tenant)
    return {"tenant": tenant, "connection_code": code, "qr_svg": qr_svg(code, title=title)}


def _registry(request: Request, tenant: str | None = None) -> Registry:
    runtime: Runtime = request.app.state.runtime
    return Registry(HttpCaller(runtime.rpc), tenant)


@router.get(f"{PREFIX}/queues", summary="Depth, consumers, retrying and parked of each work queue")
async def queues(board: DashboardDep, _: AdminDep) -> dict[str, Any]:
    try:
        depths = await board.management.queue_depths()
    except ManagementUnavailable as exc:
        raise Refusal("broker_api_unavailable", 503, reason=str(exc)) from None
    return {"vhost": board.vhost, "queues": [asdict(d) for d in depths]}


@router.get(f"{PREFIX}/parked", summary="Parked messages of every work queue, with the reason")
async def parked(board: DashboardDep, _: AdminDep) -> dict[str, Any]:
    try:
        found = await board.parked.list()
    except BrokerUnavailable:
        raise Refusal("broker_unavailable", 503) from None
    return {"parked": [{**asdict(p.message), "type": p.type} for p in found]}


class ReplayRequest(NullMeansAbsent):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    queue: str = Field(min_length=1, max_length=200, examples=["routing.work"])
    # None replays every parked message of the queue.
    message_id: str | None = Field(default=None, min_length=1, max_length=200)


@router.post(
    f"{PREFIX}/parked/replay", summary="Send a parked message (or all of a queue) back to work"
)
async def replay_parked(body: ReplayRequest, board: DashboardDep, _: AdminDep) -> dict[str, Any]:
    with audited("parked.replay", tenant=None, target=body.message_id, queue=body.queue) as entry:
        replayed = await _replay(board, body)
        entry.details["replayed"] = replayed
    return {"queue": body.queue, "message_id": body.message_id, "replayed": replayed}


async def _replay(board: Dashboard, body: ReplayRequest) -> int:
    queue = _parked_queue(body.queue)
    try:
        replayed = await board.parked.replay(queue, body.message_id)
    except BrokerUnavailable:
        raise Refusal("broker_unavailable", 503) from None
    if body.message_id is not None and replayed == 0:
        raise Refusal("parked_message_not_found", 404, queue=queue.name, message_id=body.message_id)
    PARKED_REPLAYED.labels(queue.name).inc(replayed)
    return replayed


class DiscardRequest(NullMeansAbsent):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    queue: str = Field(min_length=1, max_length=200, examples=["routing.work"])
    # One message at a time: a whole parking queue is purged in RabbitMQ's own UI, on purpose.
    message_id: str = Field(min_length=1, max_length=200)


@router.post(
    f"{PREFIX}/parked/discard",
    summary="Delete a parked message for good (one that will never apply)",
)
async def discard_parked(body: DiscardRequest, board: DashboardDep, _: AdminDep) -> dict[str, Any]:
    with audited("parked.discard", tenant=None, target=body.message_id, queue=body.queue):
        queue = _parked_queue(body.queue)
        try:
            discarded = await board.parked.discard(queue, body.message_id)
        except BrokerUnavailable:
            raise Refusal("broker_unavailable", 503) from None
        if discarded == 0:
            raise Refusal(
                "parked_message_not_found", 404, queue=queue.name, message_id=body.message_id
            )
        PARKED_DISCARDED.labels(queue.name).inc(discarded)
    return {"queue": body.queue, "message_id": body.message_id, "discarded": discarded}


def _parked_queue(name: str) -> WorkQueue:
    try:
        return work_queue(name)
    except KeyError:
        raise Refusal("unknown_queue", 404, queue=name) from None
