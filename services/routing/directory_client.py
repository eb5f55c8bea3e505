"""Asks the registry for the directory facts the routing rules need."""

from __future__ import annotations

from typing import Any

from services.routing.rules import DeviceInfo, DirectoryView, Lookups
from shared.contracts.directory import DeviceView
from shared.messaging.rpc import RpcClient
from shared.messaging.topology import REGISTRY_RPC


def _device(raw: dict[str, Any] | None) -> DeviceInfo | None:
    return DeviceInfo.from_view(DeviceView.model_validate(raw)) if raw else None


async def fetch(rpc: RpcClient, tenant: str, lookups: Lookups) -> DirectoryView:
    device = None
    available: list[DeviceInfo] = []
    members: dict[str, list[str]] = {}
    if lookups.device_pin is not None:
        device = _device(
            await rpc.call(REGISTRY_RPC, "device.resolve_pin", {"pin": lookups.device_pin}, tenant)
        )
    if lookups.device_id is not None:
        device = _device(
            await rpc.call(REGISTRY_RPC, "device.get", {"device_id": lookups.device_id}, tenant)
        )
    if lookups.available_devices:
        raw = await rpc.call(REGISTRY_RPC, "device.available", {}, tenant)
        available = [d for d in (_device(r) for r in raw) if d is not None]
    if lookups.members_of is not None:
        members[lookups.members_of] = list(
            await rpc.call(REGISTRY_RPC, "group.members", {"group": lookups.members_of}, tenant)
        )
    return DirectoryView(device=device, available_devices=available, members=members)
