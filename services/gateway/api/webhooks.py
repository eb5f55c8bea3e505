"""The base's webhook settings and delivery log over HTTP (API key); what a push is and how it
is sent: services/gateway/webhooks.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import ConfigDict, Field

from services.gateway import webhooks
from services.gateway.auth import TenantDep
from services.gateway.wire import ensure_portable
from shared.contracts.absent import NullMeansAbsent
from shared.service import RuntimeDep

router = APIRouter(prefix="/api/v1/settings/webhook", tags=["webhooks"])


class WebhookSettings(NullMeansAbsent):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: str = Field(
        min_length=1,
        max_length=2000,
        examples=["https://1c.example.ru/trade/hs/tsdx/completed"],
        description="HTTPS address that receives finished online documents",
    )
    rotate_secret: bool = Field(
        default=False, description="issue a new signing secret (the old one stops working)"
    )


@router.put(
    "",
    summary="Set this base's webhook address; the signing secret is shown once",
    responses={422: {"description": "The address is not https or not a full address"}},
)
async def set_webhook(body: WebhookSettings, rt: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
    ensure_portable(body)
    return await webhooks.configure(rt, tenant.id, body.url, rotate=body.rotate_secret)


@router.get("", summary="This base's webhook address (the secret is never shown again)")
async def get_webhook(rt: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
    return await webhooks.current(rt, tenant.id)


@router.delete("", summary="Stop pushing; pending pushes are cancelled")
async def delete_webhook(rt: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
    return await webhooks.remove(rt, tenant.id)


@router.get("/deliveries", summary="The delivery log: every push and its attempts, newest first")
async def deliveries(
    rt: RuntimeDep,
    tenant: TenantDep,
    state: Annotated[
        webhooks.DeliveryState | None, Query(description="only deliveries in this state")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    return {"deliveries": await webhooks.delivery_log(rt, tenant.id, state, limit)}
