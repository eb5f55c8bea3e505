"""The operators' view of the LAN base: who holds which lock since when, force-release, reassign.

Force-release and reassign are audited (``shared.audit``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import ConfigDict, Field

from services.lan_writer import views
from services.lan_writer.auth import AdminDep
from services.lan_writer.operator_actions import OperatorActions
from services.lan_writer.parts import lan_parts
from services.lan_writer.repository import LanCopy
from shared.audit import audited
from shared.contracts.absent import NullMeansAbsent
from shared.contracts.documents import Target
from shared.http import language_of
from shared.service import RuntimeDep

# Declared alike, as are terminal.py's and the gateway's admin.py: each endpoint calls its own
# use case; the audit around an operator's change is written once (_audited_change).
router = APIRouter(prefix="/api/v1/lan/admin", tags=["lan operators"])

DocumentState = Literal["free", "taken", "done", "withdrawn"]


class ReleaseRequest(NullMeansAbsent):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=500, examples=["терминал разряжен, смена ушла"])


class ReassignRequest(NullMeansAbsent):
    model_config = ConfigDict(extra="forbid")

    target: Target = Field(examples=[{"kind": "user", "value": "petrov"}])


def _operators(rt: RuntimeDep) -> OperatorActions:
    return lan_parts(rt).operators


@router.get("/documents", summary="The LAN documents of a base, optionally in some states")
async def documents(
    request: Request,
    rt: RuntimeDep,
    _: AdminDep,
    tenant: str = Query(min_length=1, max_length=64),
    state: Annotated[list[DocumentState] | None, Query()] = None,
) -> dict[str, Any]:
    copies = await _operators(rt).copies(tenant, list(state or []))
    language = language_of(request)
    return {"documents": [views.for_operator(copy, language) for copy in copies]}


@router.get("/locks", summary="Documents taken right now: by whom and since when")
async def held_locks(
    request: Request,
    rt: RuntimeDep,
    _: AdminDep,
    tenant: str = Query(min_length=1, max_length=64),
) -> dict[str, Any]:
    copies = await _operators(rt).copies(tenant, ["taken"])
    return {"locks": [views.held_lock(copy) for copy in copies]}


@router.get("/documents/{delivery_id}", summary="One LAN document with its lock history")
async def document(
    delivery_id: str, request: Request, rt: RuntimeDep, _: AdminDep
) -> dict[str, Any]:
    return views.for_operator(await _operators(rt).copy(delivery_id), language_of(request))


@router.post(
    "/documents/{delivery_id}/release",
    summary="Force-release a stale lock; the old holders' later results are refused (lock_lost)",
)
async def force_release(
    delivery_id: str, body: ReleaseRequest, request: Request, rt: RuntimeDep, _: AdminDep
) -> dict[str, Any]:
    return await _audited_change(
        "lan.force_release",
        delivery_id,
        lambda: _operators(rt).force_release(delivery_id, body.reason),
        language_of(request),
        reason=body.reason,
    )


@router.post(
    "/documents/{delivery_id}/reassign",
    summary="Give a free document to another user, group, everyone or a device",
)
async def reassign(
    delivery_id: str, body: ReassignRequest, request: Request, rt: RuntimeDep, _: AdminDep
) -> dict[str, Any]:
    given = body.target
    return await _audited_change(
        "lan.reassign",
        delivery_id,
        lambda: _operators(rt).reassign(delivery_id, given),
        language_of(request),
        to_kind=given.kind,
        to=given.value,
    )


async def _audited_change(
    action: str,
    delivery_id: str,
    change: Callable[[], Awaitable[LanCopy]],
    language: str,
    **details: Any,
) -> dict[str, Any]:
    """An operator's change to one document, audited; the entry names the document's base
    once the change has found it."""
    with audited(action, tenant=None, target=delivery_id, **details) as entry:
        copy = await change()
        entry.tenant = copy.tenant
    return views.for_operator(copy, language)
