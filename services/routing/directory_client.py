"""Asks the registry for the directory facts the routing rules need.

The registry refusing a lookup (a malformed PIN, an unknown device or group) means the fact
is not there: the rules then answer with their own code (``device_not_found``,
``group_is_empty``…). Only the registry being unable to answer (no reply, a server error)
fails the lookup, so the request is retried rather than decided on missing facts.
"""

from __future__ import annotations

from typing import TypeVar

from services.routing.rules import DeviceInfo, DirectoryView, Lookups
from shared.contracts import registry_rpc as registry
from shared.contracts.directory import DeviceView
from shared.contracts.rpc import NoParams, Params, Record, RpcMethod
from shared.errors import Refusal
from shared.messaging.rpc import RpcClient

P = TypeVar("P", bound=Params)
R = TypeVar("R")

# Refusals that say the question did not reach a method (a registry of another version).
_NOT_AN_ANSWER = ("unknown_method", "bad_request")


def _device(raw: Record | None) -> DeviceInfo | None:
    return DeviceInfo.from_view(DeviceView.model_validate(raw)) if raw else None


async def _ask(rpc: RpcClient, method: RpcMethod[P, R], params: P, tenant: str) -> R | None:
    """The registry's answer, or None when it refuses the question."""
    try:
        return await rpc.call(method, params, tenant)
    except Refusal as refusal:
        if refusal.status >= 500 or refusal.code in _NOT_AN_ANSWER:
            raise
        return None


async def fetch(rpc: RpcClient, tenant: str, lookups: Lookups) -> DirectoryView:
    device = None
    available: list[DeviceInfo] = []
    members: dict[str, list[str]] = {}
    # The looked-up values are sent unchecked: the registry refusing a malformed one means the
    # fact is not there, the same answer as for one it does not know.
    if lookups.device_pin is not None:
        by_pin = registry.ByPin.model_construct(pin=lookups.device_pin)
        device = _device(await _ask(rpc, registry.resolve_pin, by_pin, tenant))
    if lookups.device_id is not None:
        by_device = registry.ByDevice.model_construct(device_id=lookups.device_id)
        device = _device(await _ask(rpc, registry.get_device, by_device, tenant))
    if lookups.available_devices:
        raw = await _ask(rpc, registry.available_devices, NoParams(), tenant) or []
        available = [d for d in (_device(r) for r in raw) if d is not None]
    if lookups.members_of is not None:
        group = registry.AnyGroup.model_construct(group=lookups.members_of)
        logins = await _ask(rpc, registry.group_members, group, tenant)
        members[lookups.members_of] = list(logins or [])
    return DirectoryView(device=device, available_devices=available, members=members)
