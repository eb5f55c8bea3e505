"""What the LAN base learns from other services over the broker: copies routing made for the
LAN, their withdrawals, results routing refused, and its bases' barcode settings.

A withdrawal or refusal naming a copy not stored yet raises and is retried: routing emits a
copy before anything about it, so the copy is on its way (or the message is parked to look at).
"""

from __future__ import annotations

from dataclasses import replace

from services.lan_writer import locks
from services.lan_writer import repository as repo
from services.lan_writer.copy_changes import CopyChanges
from services.lan_writer.locks import Lock
from services.lan_writer.repository import LanCopy
from shared.clock import now, now_iso
from shared.contracts import Envelope
from shared.contracts.directory import TenantChanged
from shared.contracts.results import DeliveryProgressed, ResultRefused
from shared.contracts.uploads import (
    DocumentRouted,
    DocumentRoutedV1,
    DocumentWithdrawn,
    RoutedCopy,
)
from shared.logging import get_logger
from shared.messaging.consumer import PermanentFailure, require_same_tenant
from shared.metrics import DELIVERY_LATENCY
from shared.outbox import Tx, UnitOfWork
from shared.storage import Store

log = get_logger("tsdx.lan_writer")

# Whom a LAN copy can be for once routing resolved it (own copies arrive as "user").
LAN_TARGETS = ("user", "group", "everyone", "device")


def new_copy(tenant: str, routed: DocumentRouted, copy: RoutedCopy) -> LanCopy:
    """A routed copy as the LAN base first stores it: free, for the target routing chose."""
    document = routed.document_of(copy)
    return LanCopy(
        id=copy.delivery_id,
        tenant=tenant,
        document_id=document.header.id,
        request_id=routed.request_id,
        process=routed.process,
        version=copy.version,
        assignee=repo.assignee_key(copy.target),
        settings=copy.settings.model_dump(mode="json"),
        document=document.as_json(),
        lock=Lock(state="free", collective=copy.settings.collective),
        revision=1,
        routed_at=now_iso(),
    )


class BrokerNews:
    def __init__(self, changes: CopyChanges, store: Store, uow: UnitOfWork) -> None:
        self._changes = changes
        self._store = store
        self._uow = uow

    async def routed(self, envelope: Envelope, routed: DocumentRouted) -> None:
        """Store an upload's LAN copies (all of the message's, in one transaction) and report
        each one delivered."""
        if not envelope.tenant:
            raise PermanentFailure("document.routed.lan without a tenant")
        if routed.channel != "lan":
            raise PermanentFailure(f"a {routed.channel} copy sent to the LAN base")
        for copy in routed.copies:
            target = copy.target
            if target.kind not in LAN_TARGETS or (target.kind != "everyone" and not target.value):
                raise PermanentFailure(f"LAN copy for an unusable target: {target}")
        written: list[RoutedCopy] = []
        async with self._uow(applying=envelope) as tx:
            for copy in routed.copies:
                # The delivery id is the row id: the same copy sent again is not written twice.
                if await repo.copy(tx.db, copy.delivery_id) is not None:
                    continue
                await repo.add_copy(tx.db, new_copy(envelope.tenant, routed, copy))
                await tx.emit(
                    DeliveryProgressed(
                        delivery_id=copy.delivery_id, channel="lan", state="delivered"
                    ),
                    envelope.tenant,
                )
                written.append(copy)
        latency = max(0.0, (now() - routed.requested_at).total_seconds())
        for copy in written:
            DELIVERY_LATENCY.labels("lan").observe(latency)
            log.info(
                "lan.document_written",
                delivery_id=copy.delivery_id,
                assignee=repo.assignee_key(copy.target),
                collective=copy.settings.collective,
            )

    async def routed_v1(self, envelope: Envelope, routed: DocumentRoutedV1) -> None:
        """A copy routed before an upgrade (an older version of the message)."""
        await self.routed(envelope, routed.upgraded())

    async def tenant_changed(self, envelope: Envelope, changed: TenantChanged) -> None:
        async with self._uow(applying=envelope) as tx:
            await repo.keep_barcode_settings(
                tx.db, changed.tenant, changed.revision, changed.barcodes
            )

    async def withdraw(self, envelope: Envelope, withdrawn: DocumentWithdrawn) -> None:
        async def decide(tx: Tx, copy: LanCopy) -> LanCopy | None:
            require_same_tenant(envelope, {"id": copy.id, "tenant": copy.tenant}, "copy")
            if copy.state == "withdrawn":
                return None
            lock = replace(copy.lock, state="withdrawn", withdrawn_reason=withdrawn.reason)
            return replace(copy, lock=lock, withdrawn_at=now_iso())

        await self._changes.change(withdrawn.delivery_id, decide, applying=envelope)

    async def result_refused(self, envelope: Envelope, refused: ResultRefused) -> None:
        record = await repo.sent_result(self._store, refused.result_id)
        if record is None or record.delivery_id != refused.delivery_id:
            raise PermanentFailure(f"no LAN result {refused.result_id} for {refused.delivery_id}")
        if record.created:  # a document started on the terminal has no copy here
            async with self._uow(applying=envelope) as tx:
                await repo.mark_refused(tx.db, record.id, refused.code, refused.params)
            return

        async def decide(tx: Tx, copy: LanCopy) -> LanCopy | None:
            require_same_tenant(envelope, {"id": copy.id, "tenant": copy.tenant}, "copy")
            at = now_iso()
            await repo.mark_refused(tx.db, record.id, refused.code, refused.params)
            after = locks.result_refused(copy.lock, record.login, record.final, at)
            refusal = {
                "result_id": record.result_id,
                "code": refused.code,
                "params": refused.params,
                "at": at,
            }
            refusals = {**copy.refusals, record.login: refusal}
            return replace(copy, lock=after, refusals=refusals)

        await self._changes.change(refused.delivery_id, decide, applying=envelope)
