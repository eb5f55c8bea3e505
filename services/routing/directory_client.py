"""Asks the registry for the directory facts the routing rules need.

The registry refusing a lookup (a malformed PIN, an unknown device or group) means the fact
is not there: the rules then answer with their own code (``device_not_found``,
``group_is_empty``…). Only the registry being unable to answer (no reply, a server error)
fails the lookup, so the request is retried rather than decided on missing facts.
"""

from __future__ import annotations

from typing import Any

from services.routing.rules import DeviceInfo, DirectoryView, Lookups
from shared.contracts.directory import DeviceView
from shared.errors import Refusal
from shared.messaging.rpc import RpcClient
from shared.messaging.topology import REGISTRY_RPC

# Refusals that say the question did not reach a method (a registry of another version).
_NOT_AN_ANSWER = ("unknown_method", "bad_request")


def _device(raw: dict[str, Any] | None) -> DeviceInfo | None:
    return DeviceInfo.from_view(DeviceView.model_validate(raw)) if raw else None


async def _ask(rpc: RpcClient, method: str, params: dict[str, Any], tenant: str) -> Any:
    """The registry's answer, or None when it refuses the question."""
    try:
        return await rpc.call(REGISTRY_RPC, method, params, tenant)
    except Refusal as refusal:
        if refusal.status >= 500 or refusal.code in _NOT_AN_ANSWER:
            raise
        return None


async def fetch(rpc: RpcClient, tenant: str, lookups: Lookups) -> DirectoryView:
    device = None
    available: list[DeviceInfo] = []
    members: dict[str, list[str]] = {}
    if lookups.device_pin is not None:
        device = _device(await _ask(rpc, "device.resolve_pin", {"pin": lookups.device_pin}, tenant))
    if lookups.device_id is not None:
        device = _device(await _ask(rpc, "device.get", {"device_id": lookups.device_id}, tenant))
    if lookups.available_devices:
        raw = await _ask(rpc, "device.available", {}, tenant) or []
        available = [d for d in (_device(r) for r in raw) if d is not None]
    if lookups.members_of is not None:
        logins = await _ask(rpc, "group.members", {"group": lookups.members_of}, tenant)
        members[lookups.members_of] = list(logins or [])
    return DirectoryView(device=device, available_devices=available, members=members)
