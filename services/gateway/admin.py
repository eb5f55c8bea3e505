"""The operators' API (admin token): tenants, and whatever the registry manages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from services.gateway.auth import AdminDep, RuntimeDep
from shared.errors import Refusal
from shared.messaging.broker import BrokerUnavailable
from shared.messaging.rpc import RpcTimeout
from shared.messaging.topology import REGISTRY_RPC
from shared.service import Runtime

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


class NewTenant(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, examples=["Склад на Ленина"])
    tenant: str | None = Field(
        default=None, min_length=1, max_length=63, pattern=r"^[a-z0-9][a-z0-9-]*$"
    )


async def registry_call(
    rt: Runtime, method: str, params: dict[str, Any], tenant: str | None = None
) -> Any:
    try:
        return await rt.rpc.call(REGISTRY_RPC, method, params, tenant=tenant)
    except (RpcTimeout, BrokerUnavailable):
        raise Refusal("broker_unavailable", 503) from None


@router.post(
    "/tenants", status_code=201, summary="Create an accounting base; its API key is shown once"
)
async def create_tenant(body: NewTenant, rt: RuntimeDep, _: AdminDep) -> Any:
    return await registry_call(rt, "tenant.create", body.model_dump(exclude_none=True))


@router.get("/tenants", summary="List accounting bases")
async def list_tenants(rt: RuntimeDep, _: AdminDep) -> Any:
    return {"tenants": await registry_call(rt, "tenant.list", {})}
