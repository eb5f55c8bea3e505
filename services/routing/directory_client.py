"""The directory facts the routing rules need, read from routing's own copy of the registry's
directory (directory_replica.py): deciding an upload asks no one.

A fact that is not there (an unknown PIN, device or group) is simply absent: the rules then
answer with their own code (``device_not_found``, ``group_is_empty``…). A replica never filled
yet defers the upload (``ReplicaNotReady``) rather than deciding it on missing facts; a fact
missing from a filled one is waited for a moment, in case its event is still on its way.
"""

from __future__ import annotations

from datetime import datetime

from services.routing.directory_replica import fresh_view
from services.routing.rules import DirectoryView, Lookups
from shared.logging import get_logger
from shared.metrics import PIN_MISSES
from shared.storage import Session

log = get_logger("tsdx.routing")


async def fetch(
    db: Session, tenant: str, lookups: Lookups, requested_at: datetime
) -> DirectoryView:
    view = await fresh_view(db, tenant, lookups, requested_at)
    if lookups.device_pin is not None and view.device is None:
        # Counted and logged here, where every miss is now decided; never the PIN itself.
        PIN_MISSES.inc()
        log.info("pin.miss", tenant=tenant, pin_length=len(lookups.device_pin))
    return view
