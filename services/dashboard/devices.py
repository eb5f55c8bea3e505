"""The devices the registry already knows when the dashboard starts.

Afterwards ``device.changed`` events keep the list current; this start-up read only fills in
devices paired before the dashboard was running (active ones: ``device.available``).
"""

from __future__ import annotations

import asyncio

from pydantic import ValidationError

from services.dashboard.activity import Activity
from shared.contracts.directory import DeviceView
from shared.contracts.registry_rpc import Registry
from shared.contracts.rpc import NoParams
from shared.errors import Refusal
from shared.logging import get_logger
from shared.messaging.broker import BrokerUnavailable
from shared.messaging.rpc import RpcClient, RpcTimeout

log = get_logger("tsdx.dashboard.devices")


async def registry_devices(rpc: RpcClient) -> list[DeviceView]:
    views: list[DeviceView] = []
    for tenant in await Registry(rpc).list_tenants(NoParams()):
        views.extend(await Registry(rpc, tenant.tenant).available_devices(NoParams()))
    return views


async def seed_devices(rpc: RpcClient, activity: Activity, attempts: int = 20) -> None:
    """Ask the registry, retrying while it is still starting; give up quietly (events go on)."""
    for attempt in range(1, attempts + 1):
        try:
            views = await registry_devices(rpc)
        except (RpcTimeout, BrokerUnavailable, Refusal) as exc:
            log.warning("dashboard.devices_not_read", attempt=attempt, error=repr(exc))
            await asyncio.sleep(min(2.0 * attempt, 15.0))
            continue
        except ValidationError as exc:
            log.error("dashboard.devices_unreadable", error=str(exc)[:500])
            return
        activity.seed_devices(views)
        log.info("dashboard.devices_read", devices=len(views))
        return
