"""A base's barcode settings for its terminals: the in-store weight-code layout and the
character its scanners type for the group separator.

The registry owns them (with the tenant); the gateway serves its copy, kept by
``tenant.changed``, to the base (``GET``) and to the base's terminals (``/terminal/me``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.gateway import directory
from services.gateway.auth import TenantDep
from shared.contracts import registry_rpc as registry
from shared.contracts.directory import BarcodeSettings
from shared.contracts.registry_rpc import Registry
from shared.http import HttpCaller
from shared.service import RuntimeDep

router = APIRouter(prefix="/api/v1/settings/barcodes", tags=["barcode settings"])


@router.get("", summary="How this base's terminals read weight codes and marking codes")
async def get_barcodes(tenant: TenantDep) -> dict[str, Any]:
    return directory.barcodes_view(tenant)


@router.put(
    "",
    summary="Set the weight-code layout and GS substitute of this base's terminals",
    responses={422: {"description": "validation_error: the field and what is wrong with it"}},
)
async def put_barcodes(body: BarcodeSettings, rt: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
    settings = registry.BarcodeParams(**body.model_dump())
    record = await Registry(HttpCaller(rt.rpc), tenant.id).set_barcodes(settings)
    # This instance answers with the new settings at once, and every instance forgets the base
    # it holds in memory (its terminals' /me carries these settings); the copies follow the event.
    kept = await directory.keep_tenant(rt, record)
    return directory.barcodes_view(kept)
