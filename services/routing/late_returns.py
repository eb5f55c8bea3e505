"""Copies routed on news that came too late: what becomes of them when routing learns that
their device was blocked, retired or replaced before it decided.

Routing decides from its copy of the directory (directory_replica.py), which the registry's
events keep current a moment after each change. A copy decided in that moment went to a
device that could no longer have it. When the event arrives:

- the device was **replaced**: every copy no terminal has taken yet belongs to the
  replacement. The gateway moves them in its inboxes (now, and those arriving later); routing
  records the move (journey step ``moved``) and names the new device in its master record;
- the device was **blocked or retired**: each copy routed since the change (by the event's
  time), and not taken yet, is **returned**: withdrawn from the terminal side as a recall is
  (``document.withdrawn`` with reason ``recalled``), and announced to the accounting side
  (``document.returned``: the gateway lists it among the base's results and pushes it to its
  webhook) with a stable code: ``returned_device_blocked`` or ``returned_device_retired``.
  The upload's answer stays what it was: a late return is news, not a changed answer.

Copies routed before the change were rightly routed and keep the device's usual fate
(a blocked device gets them once unblocked).
"""

from __future__ import annotations

from datetime import datetime

from services.routing import repository as repo
from services.routing import states
from services.routing.journey import Journal, device_named
from services.routing.repository import CopyRecord, ReplicaDevice
from shared.contracts import Envelope
from shared.contracts.documents import Target
from shared.contracts.uploads import DocumentReturned, DocumentWithdrawn
from shared.logging import get_logger
from shared.outbox import Tx

log = get_logger("tsdx.routing")

RETURN_CODES = {"blocked": "returned_device_blocked", "retired": "returned_device_retired"}


def routed_since(routed_at: str, moment: datetime) -> bool:
    """Whether a copy routed at ``routed_at`` was routed at or after ``moment`` (both carry
    their time zone)."""
    return datetime.fromisoformat(routed_at) >= moment


async def settle(tx: Tx, envelope: Envelope, device: ReplicaDevice) -> int:
    """Take back or move the copies a device's change concerns; how many it touched."""
    if device.status == "active":
        return 0
    copies = await repo.copies_for_device(tx.db, device.tenant, device.id, states.NOT_TAKEN)
    touched = 0
    async with Journal(tx.db, envelope) as journal:
        for copy in copies:
            if device.replaced_by is not None:
                await _move(tx, journal, copy, device.replaced_by)
            elif routed_since(copy.routed_at, envelope.time):
                await _return(tx, journal, copy, device)
            else:
                continue
            touched += 1
    if touched:
        settled = {"device": device.id, "status": device.status, "copies": touched}
        tx.once_committed(lambda: log.info("copies.settled", **settled))
    return touched


async def _move(tx: Tx, journal: Journal, copy: CopyRecord, new_device: str) -> None:
    target = Target(kind="device", value=new_device)
    await repo.retarget_copy(tx.db, copy.id, target)
    journal.add(
        copy.document_id,
        "moved",
        service="routing",
        delivery_id=copy.id,
        channel=copy.channel,
        target=target.model_dump(mode="json"),
        from_device=copy.target.value,
    )


async def _return(tx: Tx, journal: Journal, copy: CopyRecord, device: ReplicaDevice) -> None:
    code = RETURN_CODES.get(device.status, "returned_device_blocked")
    document_id = copy.document_id
    master = await repo.document(tx.db, copy.document_key)
    body = await repo.body_of(tx.db, copy.document_key)
    header = body.header if body is not None else None
    number = header.number if header is not None else ""
    params = {"document": document_id, "number": number, "pin": device.pin}
    if not await repo.return_copy(tx.db, copy, code):
        return  # taken meanwhile: no longer ours to take back
    await tx.emit(
        DocumentWithdrawn(delivery_id=copy.id, channel=copy.channel, reason="recalled"),
        copy.tenant,
    )
    await tx.emit(
        DocumentReturned(
            delivery_id=copy.id,
            document_id=document_id,
            request_id=copy.request_id,
            process=master.process if master is not None else "",
            version=copy.version,
            channel=copy.channel,
            mode=copy.mode,
            device_id=device.id,
            header=header,
            code=code,
            params=params,
        ),
        copy.tenant,
    )
    journal.add(
        document_id,
        "returned",
        service="routing",
        delivery_id=copy.id,
        channel=copy.channel,
        code=code,
        params=params,
        device=device_named(device),
    )
    if master is not None and master.version == copy.version:
        siblings = await repo.copies_of(tx.db, master.id, master.version)
        if not any(c.state in states.LIVE for c in siblings if c.id != copy.id):
            await repo.set_document_state(tx.db, master.id, states.RETURNED)
