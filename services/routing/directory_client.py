"""The directory facts the routing rules need, read from routing's own copy of the registry's
directory (directory_replica.py): deciding an upload about a known device asks no one.

A fact that is not there (an unknown PIN, device or group) is simply absent: the rules then
answer with their own code (``device_not_found``, ``group_is_empty``…). A replica never filled
yet defers the upload (``ReplicaNotReady``) rather than deciding it on missing facts; a fact
missing from a filled one is waited for a moment, in case its event is still on its way.

A device still missing after that moment may have been paired a moment before 1C named it,
its event still queued behind a busy registry's outbox: the registry is asked for that one
device before the upload is refused. Only a miss costs the question, and a registry that does
not answer leaves the copy's answer standing, so a stopped registry never stops decisions.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from services.routing.directory_replica import fresh_view
from services.routing.rules import DeviceInfo, DirectoryView, Lookups
from shared.contracts import registry_rpc as registry
from shared.contracts.registry_rpc import Registry
from shared.errors import Refusal
from shared.logging import get_logger
from shared.messaging.broker import BrokerUnavailable
from shared.messaging.rpc import RpcClient, RpcTimeout
from shared.metrics import PIN_MISSES
from shared.storage import Session

log = get_logger("tsdx.routing")


async def fetch(
    db: Session, rpc: RpcClient, tenant: str, lookups: Lookups, requested_at: datetime
) -> DirectoryView:
    view = await fresh_view(db, tenant, lookups, requested_at)
    if view.device is None and (lookups.device_pin is not None or lookups.device_id is not None):
        asked = await _asked_registry(rpc, tenant, lookups)
        if asked is not None:
            view = replace(view, device=asked)
    if lookups.device_pin is not None and view.device is None:
        # Counted and logged here, where every miss is now decided; never the PIN itself.
        PIN_MISSES.inc()
        log.info("pin.miss", tenant=tenant, pin_length=len(lookups.device_pin))
    return view


async def _asked_registry(rpc: RpcClient, tenant: str, lookups: Lookups) -> DeviceInfo | None:
    """The one device the copy lacks, as the registry knows it now (None: unknown there too,
    or the registry not answering)."""
    try:
        if lookups.device_pin is not None:
            # Unchecked on purpose: a malformed PIN is the registry's to refuse ("not found").
            by_pin = registry.ByPin.model_construct(pin=lookups.device_pin)
            found = await Registry(rpc, tenant).resolve_pin(by_pin)
        elif lookups.device_id is not None:
            by_device = registry.ByDevice.model_construct(device_id=lookups.device_id)
            found = await Registry(rpc, tenant).get_device(by_device)
        else:
            return None
    except Refusal:
        return None
    except (RpcTimeout, BrokerUnavailable) as exc:
        log.warning("directory.registry_not_asked", tenant=tenant, error=repr(exc))
        return None
    if found is None:
        return None
    log.info("directory.device_asked", tenant=tenant, device=found.id)
    return DeviceInfo.from_view(found)
