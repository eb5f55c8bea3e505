"""The terminal API: pairing, the device's inbox (with long poll), downloads and results."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from services.gateway import repository as repo
from services.gateway.auth import DeviceDep, RuntimeDep, device_copy
from services.gateway.notifier import Notifier
from shared.contracts.documents import DeviceMode, FactLine
from shared.contracts.results import DeliveryProgressed, ResultSubmitted
from shared.errors import Refusal
from shared.messaging.broker import BrokerUnavailable
from shared.messaging.rpc import RpcTimeout
from shared.messaging.topology import REGISTRY_RPC
from shared.security import hash_token
from shared.storage import Doc, DuplicateKeyError

router = APIRouter(prefix="/api/v1/terminal", tags=["terminal"])

_RECHECK_SECONDS = 1.0


class PairRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    connection_code: str = Field(min_length=1, max_length=100)
    hardware_id: str = Field(
        min_length=1, max_length=200, examples=["@HONEYWELL-EDA50-V-16204B17A7"]
    )
    model: str = Field(default="", max_length=200, examples=["EDA50"])
    name: str = Field(default="", max_length=200)
    mode: DeviceMode = "online"


class ResultRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    result_id: str = Field(min_length=1, max_length=200)
    final: bool
    lines: list[FactLine] = Field(default_factory=list, max_length=100_000)


def inbox_key(device_id: str) -> str:
    return f"inbox:{device_id}"


def _summary(row: Doc) -> dict[str, Any]:
    header = row["document"]["header"]
    return {
        "delivery_id": row["id"],
        "document_id": row["document_id"],
        "version": row["version"],
        "accounting_type": header["accounting_type"],
        "terminal_type": row["settings"]["terminal_type"],
        "number": header["number"],
        "date": header["date"],
        "lines": len(row["document"]["lines"]),
        "state": row["state"],
    }


@router.post(
    "/pair", summary="Join a base with its connection code; returns the PIN and a credential"
)
async def pair(body: PairRequest, rt: RuntimeDep) -> dict[str, Any]:
    try:
        paired = await rt.rpc.call(REGISTRY_RPC, "device.pair", body.model_dump())
    except (RpcTimeout, BrokerUnavailable):
        raise Refusal("broker_unavailable", 503) from None
    device = paired["device"]
    # The credential must work at once, before the registry's event arrives.
    await repo.put_newer(
        rt.store,
        repo.DEVICES.name,
        device_copy(device, hash_token(paired["credential"]), paired["revision"]),
    )
    return {
        "device_id": device["id"],
        "tenant": device["tenant"],
        "pin": device["pin"],
        "mode": device["mode"],
        "credential": paired["credential"],
    }


@router.get("/me", summary="This device's PIN and settings, as shown in the terminal's side menu")
async def me(device: DeviceDep) -> dict[str, Any]:
    return {
        "device_id": device["id"],
        "tenant": device["tenant"],
        "pin": device["pin"],
        "name": device["name"],
        "model": device["model"],
        "mode": device["mode"],
    }


async def _inbox(rt: RuntimeDep, device_id: str) -> tuple[list[Doc], list[Doc]]:
    waiting = await rt.store.find(
        repo.INBOX.name,
        {"device_id": device_id, "state": ["waiting", "downloaded", "in_progress"]},
        order_by="routed_at",
    )
    withdrawn = await rt.store.find(repo.INBOX.name, {"device_id": device_id, "state": "withdrawn"})
    return waiting, withdrawn


@router.get(
    "/inbox", summary="Documents waiting for this device; waits up to `wait` seconds for news"
)
async def inbox(
    rt: RuntimeDep,
    device: DeviceDep,
    wait: float = Query(default=0, ge=0, le=60, description="long-poll: seconds to wait"),
    known: int = Query(default=0, ge=0, description="how many documents the terminal already has"),
) -> dict[str, Any]:
    notifier: Notifier = rt.state["notifier"]
    deadline = time.monotonic() + min(wait, rt.settings.long_poll_max_seconds)
    await rt.store.update(
        repo.DEVICES.name, device["id"], {"last_seen": datetime.now(UTC).isoformat()}
    )
    while True:
        waiting, withdrawn = await _inbox(rt, device["id"])
        fresh = [r for r in waiting if r["state"] == "waiting"]
        left = deadline - time.monotonic()
        if fresh or withdrawn or len(waiting) != known or left <= 0:
            return {
                "documents": [_summary(r) for r in waiting],
                "withdrawn": [
                    {"delivery_id": r["id"], "reason": r["withdrawn_reason"]} for r in withdrawn
                ],
            }
        await notifier.wait(inbox_key(device["id"]), min(left, _RECHECK_SECONDS))


async def _own_row(rt: RuntimeDep, device: Doc, delivery_id: str) -> Doc:
    row = await rt.store.get(repo.INBOX.name, delivery_id)
    if row is None or row["device_id"] != device["id"]:
        raise Refusal("not_found", 404)
    return row


@router.get("/documents/{delivery_id}", summary="Download one document with its version")
async def download(delivery_id: str, rt: RuntimeDep, device: DeviceDep) -> dict[str, Any]:
    row = await _own_row(rt, device, delivery_id)
    if row["state"] == "withdrawn":
        raise Refusal("document_withdrawn", 410, reason=row["withdrawn_reason"])
    return {**_summary(row), "settings": row["settings"], "document": row["document"]}


@router.post(
    "/documents/{delivery_id}/ack",
    summary="Confirm the document arrived (or a withdrawal was seen)",
)
async def acknowledge(delivery_id: str, rt: RuntimeDep, device: DeviceDep) -> dict[str, Any]:
    row = await _own_row(rt, device, delivery_id)
    async with rt.uow() as tx:
        if row["state"] == "withdrawn":
            await tx.db.update(
                repo.INBOX.name,
                delivery_id,
                {"state": "withdrawal_seen"},
                expect={"state": "withdrawn"},
            )
            return {"delivery_id": delivery_id, "state": "withdrawal_seen"}
        if await tx.db.update(
            repo.INBOX.name, delivery_id, {"state": "downloaded"}, expect={"state": "waiting"}
        ):
            await tx.emit(
                DeliveryProgressed(
                    delivery_id=delivery_id, channel="internet", state="downloaded", by=device["id"]
                ),
                device["tenant"],
            )
    return {"delivery_id": delivery_id, "state": "downloaded"}


@router.post(
    "/documents/{delivery_id}/results", summary="Send partial progress or the final result"
)
async def submit_result(
    delivery_id: str, body: ResultRequest, rt: RuntimeDep, device: DeviceDep
) -> dict[str, Any]:
    row = await _own_row(rt, device, delivery_id)
    if row["state"] in ("withdrawn", "withdrawal_seen"):
        raise Refusal("document_withdrawn", 410, reason=row.get("withdrawn_reason", ""))
    if row["state"] == "done":
        previous = await rt.store.get(repo.RESULTS.name, body.result_id)
        if previous is None:
            raise Refusal("document_already_finished", 409)
    try:
        async with rt.uow() as tx:
            await tx.db.insert(
                repo.RESULTS.name,
                {
                    "id": body.result_id,
                    "delivery_id": delivery_id,
                    "final": body.final,
                    "received_at": datetime.now(UTC).isoformat(),
                },
            )
            await tx.db.update(
                repo.INBOX.name, delivery_id, {"state": "done" if body.final else "in_progress"}
            )
            await tx.emit(
                ResultSubmitted(
                    result_id=body.result_id,
                    delivery_id=delivery_id,
                    channel="internet",
                    final=body.final,
                    lines=body.lines,
                    user=device["id"],
                ),
                device["tenant"],
            )
    except DuplicateKeyError:
        pass  # the same result sent again: applied once already
    return {"delivery_id": delivery_id, "result_id": body.result_id, "accepted": True}
