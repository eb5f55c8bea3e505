"""The LAN terminal API: log in, list the documents one may work on, take, release, send results."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ConfigDict, Field

from services.lan_writer import views
from services.lan_writer.auth import LoginRequest, SessionDep, UserDep, log_in, log_out
from services.lan_writer.parts import lan_parts
from services.lan_writer.user_actions import UserActions
from shared.contracts.absent import NullMeansAbsent
from shared.contracts.documents import FactLine
from shared.http import ExactJSONRoute, language_of
from shared.marks import refuse_repeated
from shared.service import RuntimeDep

# The endpoints below are declared alike (a path, a summary, who calls, then one use case and
# its view), as are admin.py's and the gateway's terminal.py: each calls its own use case.
router = APIRouter(prefix="/api/v1/lan", tags=["lan terminal"], route_class=ExactJSONRoute)


class ResultRequest(NullMeansAbsent):
    model_config = ConfigDict(extra="forbid")

    result_id: str = Field(
        min_length=1,
        max_length=200,
        description="the terminal's id of this send: resending it is safe",
    )
    final: bool = Field(description="true: this user has finished the document")
    lines: list[FactLine] = Field(default_factory=list, max_length=100_000)


def _users(rt: RuntimeDep) -> UserActions:
    return lan_parts(rt).users


@router.post("/login", summary="Log in as a user (login and password, or the user's barcode)")
async def login(body: LoginRequest, rt: RuntimeDep) -> dict[str, Any]:
    token, session = await log_in(rt, body)
    return views.session(token, session)


@router.post("/logout", summary="End this session")
async def logout(rt: RuntimeDep, session: SessionDep) -> dict[str, Any]:
    await log_out(rt, session)
    return {"logged_out": True}


@router.get("/me", summary="The logged-in user, their groups and terminal, and the base's settings")
async def me(rt: RuntimeDep, user: UserDep) -> dict[str, Any]:
    barcodes = await _users(rt).barcode_settings(user)
    return {
        "tenant": user.tenant,
        "login": user.login,
        "name": user.name,
        "groups": list(user.groups),
        "device_id": user.device_id,
        # How the base's weight codes and marking codes are to be read (parseScan's settings).
        "barcodes": barcodes.model_dump(),
    }


@router.get(
    "/documents",
    summary="Documents for this user, their groups, everyone and their terminal; "
    "taken ones show by whom",
)
async def documents(request: Request, rt: RuntimeDep, user: UserDep) -> dict[str, Any]:
    language = language_of(request)
    copies = await _users(rt).visible(user)
    return {"documents": [views.for_user(copy, user, language) for copy in copies]}


@router.get("/documents/{delivery_id}", summary="One document with its lines")
async def document(
    delivery_id: str, request: Request, rt: RuntimeDep, user: UserDep
) -> dict[str, Any]:
    copy = await _users(rt).open(user, delivery_id)
    return views.document_for_user(copy, user, language_of(request))


@router.post(
    "/documents/{delivery_id}/take",
    summary="Take the document: the first taker locks a shared one; a collective one is joined",
)
async def take(delivery_id: str, request: Request, rt: RuntimeDep, user: UserDep) -> dict[str, Any]:
    copy, taken_now = await _users(rt).take(user, delivery_id)
    return {**views.for_user(copy, user, language_of(request)), "taken_now": taken_now}


@router.post("/documents/{delivery_id}/release", summary="Give back a document one cannot finish")
async def release(
    delivery_id: str, request: Request, rt: RuntimeDep, user: UserDep
) -> dict[str, Any]:
    copy = await _users(rt).release(user, delivery_id)
    return views.for_user(copy, user, language_of(request))


@router.post(
    "/documents/{delivery_id}/results",
    summary="Send this user's counted lines so far (partial) or finally",
)
async def submit_result(
    delivery_id: str, body: ResultRequest, request: Request, rt: RuntimeDep, user: UserDep
) -> dict[str, Any]:
    refuse_repeated(body.lines)
    record = await _users(rt).submit(user, delivery_id, body.result_id, body.final, body.lines)
    return views.result(record, language_of(request))
