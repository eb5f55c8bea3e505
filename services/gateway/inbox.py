"""The device inboxes: copies routed to the gateway's devices, what becomes of them, and the
news that changes them (routing's answers, completed documents, the registry's changes to
tenants and devices). The message handlers (consumers.py) and the terminal API
(api/terminal.py) call these use cases; neither touches the store itself."""

from __future__ import annotations

from services.gateway import repository as repo
from services.gateway import returns, uploads, webhooks
from services.gateway.credentials import AccessNews
from services.gateway.notifier import Notifier, inbox_key
from shared.clock import now as _now
from shared.contracts import Envelope, copies
from shared.contracts.copies import CopyState
from shared.contracts.directory import (
    DeviceChanged,
    DeviceChangedV1,
    DeviceReplaced,
    TenantChanged,
)
from shared.contracts.documents import FactLine
from shared.contracts.results import (
    DeliveryProgressed,
    DocumentCompleted,
    DocumentCompletedV1,
    DocumentCompletedV2,
    ResultRefused,
    ResultSubmitted,
)
from shared.contracts.uploads import (
    DocumentReturned,
    DocumentRouted,
    DocumentWithdrawn,
    UploadDecided,
)
from shared.created_documents import CreatedDocument, delivery_id_of, submission
from shared.errors import Refusal
from shared.limits import give_back
from shared.messaging import tracing
from shared.messaging.consumer import PermanentFailure, require_same_tenant
from shared.metrics import DELIVERY_LATENCY
from shared.outbox import Tx, UnitOfWork
from shared.storage import Doc, DuplicateKeyError, Session

# States of a copy that a refused result sends back to work.
# The copy's states as the inbox keeps them (shared/contracts/copies.py): plain text, as stored.
WAITING = copies.WAITING
DOWNLOADED = CopyState.DOWNLOADED.value
IN_PROGRESS = CopyState.IN_PROGRESS.value
DONE = CopyState.DONE.value
WITHDRAWN_STATE = CopyState.WITHDRAWN.value
WITHDRAWAL_SEEN = CopyState.WITHDRAWAL_SEEN.value
REOPENABLE = (WAITING, DOWNLOADED, IN_PROGRESS, DONE)


class Inbox:
    """The use cases of the broker's news about the gateway's copies and directory replicas."""

    def __init__(
        self, uow: UnitOfWork, notifier: Notifier, access: AccessNews | None = None
    ) -> None:
        self._uow = uow
        self._notifier = notifier
        # Tells every gateway instance when a device or a base may call no more (or again).
        self._access = access

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
                    "state": WAITING,
                    "routed_at": _now().isoformat(),
                    # The terminal's download continues the upload's trace (when traced).
                    "trace": tracing.current_context() or None,
                },
            )
            await tx.emit(
                DeliveryProgressed(
                    delivery_id=routed.delivery_id,
                    channel="internet",
                    state=CopyState.DELIVERED.value,
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
            require_same_tenant(envelope, row, "delivery")
            await tx.db.update(
                repo.INBOX.name,
                withdrawn.delivery_id,
                {"state": WITHDRAWN_STATE, "withdrawn_reason": withdrawn.reason},
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

    async def returned(self, envelope: Envelope, returned: DocumentReturned) -> None:
        """A document taken back after it was accepted: an entry of the base's results."""
        if not envelope.tenant:
            raise PermanentFailure("document.returned without a tenant")
        key = repo.completed_key(envelope.tenant, returned.document_id)
        row = returns.returned_entry(envelope, key, returned)
        async with self._uow(applying=envelope) as tx:
            await tx.db.put(repo.COMPLETED.name, row)
            pushed = returned.mode == "online" and await webhooks.enqueue(tx.db, envelope, row)
        if pushed:
            self._notifier.notify(webhooks.WAKE_KEY)

    async def result_refused(self, envelope: Envelope, refused: ResultRefused) -> None:
        refusal = {"result_id": refused.result_id, "code": refused.code, "params": refused.params}
        async with self._uow(applying=envelope) as tx:
            copy = await tx.db.get(repo.INBOX.name, refused.delivery_id)
            if copy is not None:
                require_same_tenant(envelope, copy, "delivery")
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
                    {"state": IN_PROGRESS, "last_refusal": refusal},
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

    async def device_changed_v1(self, envelope: Envelope, changed: DeviceChangedV1) -> None:
        """A change published before an upgrade (an older version of the event)."""
        await self.device_changed(envelope, changed.upgraded())

    async def device_replaced(self, envelope: Envelope, replaced: DeviceReplaced) -> None:
        """Copies waiting for the old device move to the new one, now and when they arrive
        later (see ``routed``)."""
        tenant = envelope.tenant or ""
        async with self._uow(applying=envelope) as tx:
            for device_id in (replaced.old_device, replaced.new_device):
                known = await tx.db.get(repo.DEVICES.name, device_id)
                if known is not None:
                    require_same_tenant(envelope, known, "delivery")
            await repo.keep_replacement(tx.db, tenant, replaced.old_device, replaced.new_device)
            waiting = await tx.db.find(
                repo.INBOX.name,
                {"device_id": replaced.old_device, "tenant": tenant, "state": WAITING},
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


# The terminal's side of the inbox (api/terminal.py): what a device sees and does with its copies.

OPEN = (WAITING, DOWNLOADED, IN_PROGRESS)
WITHDRAWN = (WITHDRAWN_STATE, WITHDRAWAL_SEEN)


async def inbox_of(db: Session, device_id: str) -> tuple[list[Doc], list[Doc]]:
    """The device's open copies and its withdrawals not yet seen, in one query."""
    rows = await repo.copies_of_device(db, device_id, [*OPEN, WITHDRAWN_STATE])
    return [r for r in rows if r["state"] in OPEN], [
        r for r in rows if r["state"] == WITHDRAWN_STATE
    ]


async def own_copy(db: Session, device: Doc, delivery_id: str) -> Doc:
    """The device's own copy; another device's answers as one that does not exist."""
    row = await repo.copy(db, delivery_id)
    if row is None or row["device_id"] != device["id"]:
        raise Refusal("not_found", 404)
    return row


async def body_of(db: Session, row: Doc, delivery_id: str) -> Doc:
    if row["state"] in WITHDRAWN:
        raise Refusal("document_withdrawn", 410, reason=row["withdrawn_reason"])
    body = await repo.copy_body(db, delivery_id)
    if body is None:
        raise Refusal("not_found", 404)
    return body


async def acknowledge_copy(
    uow: UnitOfWork, db: Session, row: Doc, delivery_id: str, device: Doc
) -> str:
    """The terminal has the document (or has seen its withdrawal); the copy's new state."""
    if row["state"] == WITHDRAWN_STATE:
        await db.update(
            repo.INBOX.name,
            delivery_id,
            {"state": WITHDRAWAL_SEEN},
            expect={"state": WITHDRAWN_STATE},
        )
        return WITHDRAWAL_SEEN

    async def downloaded(tx: Tx) -> None:
        if await tx.db.update(
            repo.INBOX.name, delivery_id, {"state": DOWNLOADED}, expect={"state": WAITING}
        ):
            await tx.emit(
                DeliveryProgressed(
                    delivery_id=delivery_id, channel="internet", state=DOWNLOADED, by=device["id"]
                ),
                device["tenant"],
            )

    await uow.run(downloaded)
    return DOWNLOADED


async def record_result(
    uow: UnitOfWork,
    db: Session,
    row: Doc,
    device: Doc,
    result_id: str,
    *,
    final: bool,
    lines: list[FactLine],
) -> tuple[Doc, bool]:
    """Take a terminal's result once; the record and whether it had been taken before."""
    delivery_id = row["id"]
    key = repo.result_key(delivery_id, result_id)
    previous = await db.get(repo.RESULTS.name, key)
    if previous is not None:  # the same result sent again: applied once already
        return previous, True
    if row["state"] in WITHDRAWN:
        raise Refusal("document_withdrawn", 410, reason=row.get("withdrawn_reason", ""))
    if row["state"] == DONE:
        raise Refusal("document_already_finished", 409)
    record = {
        "id": key,
        "delivery_id": delivery_id,
        "result_id": result_id,
        "final": final,
        "lines": len(lines),
        "status": "received",
        "received_at": _now().isoformat(),
    }

    async def received(tx: Tx) -> None:
        await tx.db.insert(repo.RESULTS.name, record)
        await tx.db.update(
            repo.INBOX.name,
            delivery_id,
            {"state": DONE if final else IN_PROGRESS, "last_result_id": result_id},
        )
        await tx.emit(
            ResultSubmitted(
                result_id=result_id,
                delivery_id=delivery_id,
                channel="internet",
                final=final,
                lines=lines,
                user=device["id"],
            ),
            device["tenant"],
        )

    try:
        await uow.run(received)
    except DuplicateKeyError:  # sent twice at the same moment: the other one was applied
        return await db.get(repo.RESULTS.name, key) or record, True
    return record, False


# Documents the terminal starts itself (shared/created_documents.py): no copy in the inbox,
# only the finished document, taken once.


async def record_created(
    uow: UnitOfWork, db: Session, device: Doc, body: CreatedDocument
) -> tuple[Doc, bool]:
    """Take a document started on the terminal once; the record and whether it was taken
    before."""
    delivery_id = delivery_id_of(body.document_id)
    key = repo.result_key(delivery_id, body.result_id)
    previous = await db.get(repo.RESULTS.name, key)
    if previous is not None:
        return previous, True
    record = {
        "id": key,
        "delivery_id": delivery_id,
        "result_id": body.result_id,
        "final": True,
        "device_id": device["id"],
        "lines": len(body.lines),
        "status": "received",
        "received_at": _now().isoformat(),
    }

    async def received(tx: Tx) -> None:
        await tx.db.insert(repo.RESULTS.name, record)
        await tx.emit(submission(body, "internet", device["id"], device["mode"]), device["tenant"])

    try:
        await uow.run(received)
    except DuplicateKeyError:  # sent twice at the same moment: the other one was applied
        return await db.get(repo.RESULTS.name, key) or record, True
    return record, False


async def created_result(db: Session, device: Doc, document_id: str, result_id: str) -> Doc:
    """What became of a document this device started; another device's answers as unknown."""
    record = await repo.result(db, delivery_id_of(document_id), result_id)
    if record is None or record.get("device_id", device["id"]) != device["id"]:
        raise Refusal("not_found", 404)
    return record
