"""What the gateway takes from the broker: routed copies, withdrawals, routing's answers,
completed documents, and the registry's changes to tenants and devices."""

from __future__ import annotations

from datetime import UTC, datetime

from services.gateway import repository as repo
from services.gateway import uploads, webhooks
from services.gateway.credentials import AccessNews
from services.gateway.notifier import Notifier, inbox_key
from shared.contracts import Envelope
from shared.contracts.directory import DeviceChanged, DeviceReplaced, TenantChanged
from shared.contracts.results import (
    DeliveryProgressed,
    DocumentCompleted,
    DocumentCompletedV1,
    DocumentCompletedV2,
    ResultRefused,
)
from shared.contracts.uploads import DocumentRouted, DocumentWithdrawn, UploadDecided
from shared.limits import give_back
from shared.messaging import tracing
from shared.messaging.consumer import Handler, PermanentFailure
from shared.metrics import DELIVERY_LATENCY
from shared.outbox import UnitOfWork
from shared.storage import Doc

# States of a copy that a refused result sends back to work.
REOPENABLE = ("waiting", "downloaded", "in_progress", "done")


def _now() -> datetime:
    return datetime.now(UTC)


def _same_tenant(envelope: Envelope, row: Doc) -> None:
    """A message about a copy must come from the copy's own tenant."""
    if row.get("tenant") != envelope.tenant:
        raise PermanentFailure(f"delivery {row['id']} belongs to another tenant")


class GatewayHandlers:
    def __init__(
        self, uow: UnitOfWork, notifier: Notifier, access: AccessNews | None = None
    ) -> None:
        self._uow = uow
        self._notifier = notifier
        # Tells every gateway instance when a device or a base may call no more (or again).
        self._access = access

    def table(self) -> dict[type, Handler]:
        return {
            DocumentRouted: self.routed,
            DocumentWithdrawn: self.withdrawn,
            UploadDecided: self.decided,
            DocumentCompleted: self.completed,
            DocumentCompletedV1: self.completed_v1,
            DocumentCompletedV2: self.completed_v1,
            ResultRefused: self.result_refused,
            DeviceChanged: self.device_changed,
            DeviceReplaced: self.device_replaced,
            TenantChanged: self.tenant_changed,
        }

    async def routed(self, envelope: Envelope, routed: DocumentRouted) -> None:
        if routed.target.kind != "device" or not routed.target.value:
            raise PermanentFailure(f"internet copy without a device: {routed.target}")
        header = routed.document.header
        async with self._uow(applying=envelope) as tx:
            if await tx.db.get(repo.INBOX.name, routed.delivery_id) is not None:
                return
            device_id = await repo.standing_for(tx.db, envelope.tenant or "", routed.target.value)
            await tx.db.insert(
                repo.INBOX_BODIES.name,
                {
                    "id": routed.delivery_id,
                    "tenant": envelope.tenant,
                    "document": routed.document.model_dump(mode="json"),
                },
            )
            await tx.db.insert(
                repo.INBOX.name,
                {
                    "id": routed.delivery_id,
                    "tenant": envelope.tenant,
                    "device_id": device_id,
                    "document_id": routed.document.header.id,
                    "request_id": routed.request_id,
                    "process": routed.process,
                    "version": routed.version,
                    "settings": routed.settings.model_dump(mode="json"),
                    "header": {
                        "accounting_type": header.accounting_type,
                        "number": header.number,
                        "date": header.date,
                    },
                    "lines_count": len(routed.document.lines),
                    "state": "waiting",
                    "routed_at": _now().isoformat(),
                    # The terminal's download continues the upload's trace (when traced).
                    "trace": tracing.current_context() or None,
                },
            )
            await tx.emit(
                DeliveryProgressed(
                    delivery_id=routed.delivery_id, channel="internet", state="delivered"
                ),
                envelope.tenant,
            )
        DELIVERY_LATENCY.labels("internet").observe(
            max(0.0, (_now() - routed.requested_at).total_seconds())
        )
        self._notifier.notify(inbox_key(device_id))

    async def withdrawn(self, envelope: Envelope, withdrawn: DocumentWithdrawn) -> None:
        async with self._uow(applying=envelope) as tx:
            row = await tx.db.get(repo.INBOX.name, withdrawn.delivery_id)
            if row is None:
                return
            _same_tenant(envelope, row)
            await tx.db.update(
                repo.INBOX.name,
                withdrawn.delivery_id,
                {"state": "withdrawn", "withdrawn_reason": withdrawn.reason},
            )
        self._notifier.notify(inbox_key(row["device_id"]))

    async def decided(self, envelope: Envelope, decided: UploadDecided) -> None:
        key = repo.upload_key(envelope.tenant or "", decided.request_id)
        async with self._uow(applying=envelope) as tx:
            record = await tx.db.get(repo.UPLOADS.name, key)
            changes = {
                "status": decided.outcome,
                "decision": decided.model_dump(mode="json"),
                "decided_at": _now().isoformat(),
            }
            if record is None:  # uploaded by an AMQP adapter, not through this gateway
                await tx.db.put(
                    repo.UPLOADS.name,
                    {
                        "id": key,
                        "tenant": envelope.tenant,
                        "request_id": decided.request_id,
                        "requested_at": decided.requested_at.isoformat(),
                        **changes,
                    },
                )
            elif record["status"] == "pending":
                await tx.db.update(repo.UPLOADS.name, key, changes)
                guess = uploads.settled_pin_guess(record, decided.code)
                if guess is not None:
                    await give_back(tx.db, guess)
        self._notifier.notify(key)

    async def completed_v1(
        self, envelope: Envelope, completed: DocumentCompletedV1 | DocumentCompletedV2
    ) -> None:
        """A completion published before an upgrade (an older version of the event)."""
        await self.completed(envelope, completed.upgraded())

    async def completed(self, envelope: Envelope, completed: DocumentCompleted) -> None:
        if not envelope.tenant:
            raise PermanentFailure("document.completed without a tenant")
        row = {
            "id": repo.completed_key(envelope.tenant, completed.document_id),
            "tenant": envelope.tenant,
            "state": "completed",
            "completed_at": envelope.time.isoformat(),
            "result": completed.model_dump(mode="json"),
        }
        async with self._uow(applying=envelope) as tx:
            await tx.db.put(repo.COMPLETED.name, row)
            # Online documents go back by themselves; offline ones wait to be loaded.
            pushed = completed.mode == "online" and await webhooks.enqueue(tx.db, envelope, row)
        if pushed:
            self._notifier.notify(webhooks.WAKE_KEY)

    async def result_refused(self, envelope: Envelope, refused: ResultRefused) -> None:
        refusal = {"result_id": refused.result_id, "code": refused.code, "params": refused.params}
        async with self._uow(applying=envelope) as tx:
            copy = await tx.db.get(repo.INBOX.name, refused.delivery_id)
            if copy is not None:
                _same_tenant(envelope, copy)
            await tx.db.update(
                repo.RESULTS.name,
                repo.result_key(refused.delivery_id, refused.result_id),
                {"status": "refused", "refusal": refusal},
            )
            row = await tx.db.get(repo.INBOX.name, refused.delivery_id)
            # Only the latest send decides the copy's state: a refusal of an earlier partial
            # result must not reopen a copy whose corrected final result was sent since.
            if (
                row is not None
                and row["state"] in REOPENABLE
                and row.get("last_result_id", refused.result_id) == refused.result_id
            ):
                await tx.db.update(
                    repo.INBOX.name,
                    refused.delivery_id,
                    {"state": "in_progress", "last_refusal": refusal},
                    expect={"state": row["state"]},
                )

    async def device_changed(self, envelope: Envelope, changed: DeviceChanged) -> None:
        doc = {
            **changed.device.model_dump(mode="json"),
            "credential_hash": changed.credential_hash,
            "revision": changed.revision,
        }
        async with self._uow(applying=envelope) as tx:
            await repo.keep_device(tx.db, doc)
        if self._access is not None:
            await self._access.device_changed(changed.device.id)

    async def device_replaced(self, envelope: Envelope, replaced: DeviceReplaced) -> None:
        """Copies waiting for the old device move to the new one, now and when they arrive
        later (see ``routed``)."""
        tenant = envelope.tenant or ""
        async with self._uow(applying=envelope) as tx:
            for device_id in (replaced.old_device, replaced.new_device):
                known = await tx.db.get(repo.DEVICES.name, device_id)
                if known is not None:
                    _same_tenant(envelope, known)
            await repo.keep_replacement(tx.db, tenant, replaced.old_device, replaced.new_device)
            waiting = await tx.db.find(
                repo.INBOX.name,
                {"device_id": replaced.old_device, "tenant": tenant, "state": "waiting"},
            )
            for row in waiting:
                await tx.db.update(repo.INBOX.name, row["id"], {"device_id": replaced.new_device})
        self._notifier.notify(inbox_key(replaced.new_device))
        if self._access is not None:  # the old device's polls now learn it was replaced
            await self._access.device_changed(replaced.old_device)

    async def tenant_changed(self, envelope: Envelope, changed: TenantChanged) -> None:
        doc = repo.tenant_copy(changed.model_dump())
        async with self._uow(applying=envelope) as tx:
            await repo.put_newer(tx.db, repo.TENANTS.name, doc)
        if self._access is not None:
            await self._access.tenant_changed(changed.tenant)
