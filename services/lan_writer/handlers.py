"""What the LAN writer takes from the broker: LAN copies, their withdrawals, refused results,
and its bases' barcode settings (from ``tenant.changed``).

A withdrawal or refusal naming a copy not stored yet raises and is retried: routing emits a
copy before anything about it, so the copy is on its way (or the message is parked to look at).
"""

from __future__ import annotations

from datetime import UTC, datetime

from services.lan_writer import repository as repo
from services.lan_writer.base import LanBase, new_row
from shared.contracts import Envelope
from shared.contracts.directory import TenantChanged
from shared.contracts.results import DeliveryProgressed, ResultRefused
from shared.contracts.uploads import DocumentRouted, DocumentWithdrawn
from shared.logging import get_logger
from shared.messaging.consumer import Handler, PermanentFailure
from shared.metrics import DELIVERY_LATENCY
from shared.outbox import UnitOfWork
from shared.replicas import put_newer

log = get_logger("tsdx.lan_writer")

# Whom a LAN copy can be for once routing resolved it (own copies arrive as "user").
LAN_TARGETS = ("user", "group", "everyone", "device")


class LanHandlers:
    def __init__(self, uow: UnitOfWork, base: LanBase) -> None:
        self._uow = uow
        self._base = base

    def table(self) -> dict[type, Handler]:
        return {
            DocumentRouted: self.routed,
            DocumentWithdrawn: self.withdrawn,
            ResultRefused: self.result_refused,
            TenantChanged: self.tenant_changed,
        }

    async def routed(self, envelope: Envelope, routed: DocumentRouted) -> None:
        if not envelope.tenant:
            raise PermanentFailure("document.routed.lan without a tenant")
        if routed.channel != "lan":
            raise PermanentFailure(f"a {routed.channel} copy sent to the LAN base")
        target = routed.target
        if target.kind not in LAN_TARGETS or (target.kind != "everyone" and not target.value):
            raise PermanentFailure(f"LAN copy for an unusable target: {target}")
        async with self._uow(applying=envelope) as tx:
            # The delivery id is the row id: the same copy sent again is not written twice.
            if await tx.db.get(repo.DOCUMENTS.name, routed.delivery_id) is not None:
                return
            await tx.db.insert(repo.DOCUMENTS.name, new_row(envelope.tenant, routed))
            await tx.emit(
                DeliveryProgressed(
                    delivery_id=routed.delivery_id, channel="lan", state="delivered"
                ),
                envelope.tenant,
            )
        DELIVERY_LATENCY.labels("lan").observe(
            max(0.0, (datetime.now(UTC) - routed.requested_at).total_seconds())
        )
        log.info(
            "lan.document_written",
            delivery_id=routed.delivery_id,
            assignee=repo.assignee_key(target),
            collective=routed.settings.collective,
        )

    async def withdrawn(self, envelope: Envelope, withdrawn: DocumentWithdrawn) -> None:
        await self._base.withdraw(envelope, withdrawn)

    async def result_refused(self, envelope: Envelope, refused: ResultRefused) -> None:
        await self._base.result_refused(envelope, refused)

    async def tenant_changed(self, envelope: Envelope, changed: TenantChanged) -> None:
        copy = {
            "id": changed.tenant,
            "revision": changed.revision,
            "barcodes": changed.barcodes.model_dump(),
        }
        async with self._uow(applying=envelope) as tx:
            await put_newer(tx.db, repo.TENANTS.name, copy)
