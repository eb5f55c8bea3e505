"""The device inboxes: copies routed to the gateway's devices, what becomes of them, and the
news that changes them (routing's answers, completed documents, the registry's changes to
tenants and devices). The message handlers (consumers.py) and the terminal API
(api/terminal.py) call these use cases; neither touches the store itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from services.gateway import repository as repo
from services.gateway import returns, upload_answers, webhooks
from services.gateway.credentials import AccessNews
from services.gateway.inbox_summaries import News
from services.gateway.inbox_watch import InboxWatch
from services.gateway.notifier import Notifier
from services.gateway.parts import gateway_parts
from services.gateway.records import (
    CompletedDocument,
    DeviceCopy,
    InboxCopy,
    Json,
    PolledCopy,
    ResultRecord,
    UploadRecord,
)
from services.gateway.routed_copies import RoutedCopies, RoutedDocument
from shared.clock import now as _now
from shared.contracts import Envelope, Payload
from shared.contracts.copies import CopyState
from shared.contracts.directory import (
    DeviceChanged,
    DeviceChangedV1,
    DeviceReplaced,
    TenantChanged,
)
from shared.contracts.documents import FactLine
from shared.contracts.results import (
    DeliveriesProgressed,
    DeliveryProgressed,
    DocumentCompleted,
    DocumentCompletedV1,
    DocumentCompletedV2,
    ProgressedCopy,
    ResultRefused,
    ResultSubmitted,
)
from shared.contracts.uploads import (
    DocumentReturned,
    DocumentRoutedV1,
    DocumentWithdrawn,
    RoutedCopy,
    UploadDecided,
)
from shared.created_documents import CreatedDocument, delivery_id_of, submission
from shared.errors import Refusal
from shared.limits import give_back
from shared.messaging import tracing
from shared.messaging.consumer import PermanentFailure, require_same_tenant
from shared.metrics import DELIVERY_LATENCY
from shared.outbox import Tx, UnitOfWork
from shared.service import Runtime
from shared.storage import DuplicateKeyError

# States of a copy that a refused result sends back to work.
REOPENABLE = frozenset(
    (CopyState.DELIVERED, CopyState.DOWNLOADED, CopyState.IN_PROGRESS, CopyState.DONE)
)


def _owned(record: InboxCopy | DeviceCopy) -> dict[str, str]:
    """What the same-tenant check reads of a stored record."""
    return {"id": record.id, "tenant": record.tenant}


def reopened_by(row: InboxCopy, result_id: str) -> bool:
    """Whether a refusal of ``result_id`` sends the copy back to work. Only the latest send
    decides the copy's state: a refusal of an earlier partial result must not reopen a copy
    whose corrected final result was sent since."""
    latest = row.last_result_id or result_id
    return row.state in REOPENABLE and latest == result_id


async def _keep_decision(
    tx: Tx, envelope: Envelope, decided: UploadDecided
) -> tuple[str, UploadRecord]:
    """Keep routing's decision of an upload (by ``upload.decided`` or with its routed copies):
    the waiting answer's, once; returns the upload's key and record as stored, to wake whoever
    waits on it with it."""
    key = repo.upload_key(envelope.tenant or "", decided.request_id)
    record = await repo.upload_by_key(tx.db, key)
    decision = decided.model_dump(mode="json")
    decided_at = _now().isoformat()
    # None: decided within its wait (stored pending only when the wait ran out), or uploaded by
    # an AMQP adapter, not through this gateway.
    if record is None:
        record = UploadRecord(
            id=key,
            tenant=envelope.tenant or "",
            request_id=decided.request_id,
            status=decided.outcome,
            requested_at=decided.requested_at.isoformat(),
            decision=decision,
            decided_at=decided_at,
        )
        await repo.keep_decision(tx.db, record)
    elif record.pending:
        pending = record
        record = replace(record, status=decided.outcome, decision=decision, decided_at=decided_at)
        await repo.decide_upload(tx.db, record)
        guess = upload_answers.settled_pin_guess(pending, decided.code)
        if guess is not None:
            await give_back(tx.db, guess)
    return key, record


def _inbox_copy(
    tenant: str,
    device_id: str,
    routed: RoutedCopies,
    routed_copy: RoutedCopy,
    document: RoutedDocument,
    stored_at: str,
) -> InboxCopy:
    """A routed copy as the device's inbox first keeps it: waiting for the terminal."""
    header = document.header
    return InboxCopy(
        id=routed_copy.delivery_id,
        tenant=tenant,
        device_id=device_id,
        document_id=header.id,
        request_id=routed.request_id,
        process=routed.process,
        version=routed_copy.version,
        settings=routed_copy.settings.model_dump(mode="json"),
        header={
            "accounting_type": header.accounting_type,
            "number": header.number,
            "date": header.date,
        },
        lines_count=len(document.lines),
        state=CopyState.DELIVERED,
        routed_at=stored_at,
        # The terminal's download continues the upload's trace (when traced).
        trace=tracing.current_context() or None,
    )


async def _new_copies(tx: Tx, tenant: str, routed: RoutedCopies) -> list[tuple[InboxCopy, Json]]:
    """The message's copies not stored yet, each once, for the device that now stands for its
    target, with its document's body (one per document, however many copies share it). A copy
    already stored (brought by another message) is left as it is. Read in two queries, however
    many copies the message has."""
    stored = await repo.copies(tx.db, [c.delivery_id for c in routed.copies])
    fresh: dict[str, RoutedCopy] = {}
    for routed_copy in routed.copies:
        if routed_copy.delivery_id not in stored:
            fresh.setdefault(routed_copy.delivery_id, routed_copy)
    if not fresh:
        return []
    standing = await repo.standing_for_each(
        tx.db, tenant, (c.target.value or "" for c in fresh.values())
    )
    # A document id named twice: its first document, as the model's ``document_of`` takes.
    documents: dict[str, RoutedDocument] = {}
    for document in routed.documents:
        documents.setdefault(document.header.id, document)
    bodies: dict[str, Json] = {}
    stored_at = _now().isoformat()
    copies: list[tuple[InboxCopy, Json]] = []
    for routed_copy in fresh.values():
        document = documents[routed_copy.document_id]
        device_id = standing[routed_copy.target.value or ""]
        copy = _inbox_copy(tenant, device_id, routed, routed_copy, document, stored_at)
        body = bodies.get(document.header.id)
        if body is None:
            body = bodies[document.header.id] = document.as_json()
        copies.append((copy, body))
    return copies


class Inbox:
    """The use cases of the broker's news about the gateway's copies and directory replicas."""

    def __init__(
        self,
        uow: UnitOfWork,
        notifier: Notifier,
        polls: InboxWatch,
        access: AccessNews | None = None,
    ) -> None:
        self._uow = uow
        self._notifier = notifier
        # Wakes the long polls of a changed inbox, on every gateway instance.
        self._polls = polls
        # Tells every gateway instance when a device or a base may call no more (or again).
        self._access = access

    async def routed(self, envelope: Envelope, routed: RoutedCopies) -> None:
        """Put an upload's copies in their devices' inboxes, and keep the upload's decision
        when it came with them, in one transaction. No progress is reported for storing a
        copy: the terminal's download reports it (``delivered_at``)."""
        for routed_copy in routed.copies:
            if routed_copy.target.kind != "device" or not routed_copy.target.value:
                raise PermanentFailure(f"internet copy without a device: {routed_copy.target}")
        tenant = envelope.tenant or ""

        async def store(
            tx: Tx,
        ) -> tuple[list[tuple[InboxCopy, Json]], tuple[str, UploadRecord] | None]:
            copies = await _new_copies(tx, tenant, routed)
            if copies:
                await repo.add_new_copies(tx.db, copies)
            if routed.decided is None:
                return copies, None
            return copies, await _keep_decision(tx, envelope, routed.decided)

        # Run again at once on a conflict (MongoDB): the upload's wait may have stored it as
        # pending meanwhile (upload_answers.py).
        copies, decided = await self._uow.run(store, applying=envelope)
        if copies:
            latency = max(0.0, (_now() - routed.requested_at).total_seconds())
            delivered = DELIVERY_LATENCY.labels("internet")
            for _ in copies:
                delivered.observe(latency)
        for device_id in dict.fromkeys(copy.device_id for copy, _ in copies):
            self._polls.changed(device_id)
        if decided is not None:
            self._notifier.notify(*decided)

    async def routed_v1(self, envelope: Envelope, routed: DocumentRoutedV1) -> None:
        """A copy routed before an upgrade (an older version of the message)."""
        await self.routed(envelope, RoutedCopies.of(routed.upgraded()))

    async def withdrawn(self, envelope: Envelope, withdrawn: DocumentWithdrawn) -> None:
        async with self._uow(applying=envelope) as tx:
            row = await repo.copy(tx.db, withdrawn.delivery_id)
            if row is None:
                return
            require_same_tenant(envelope, _owned(row), "delivery")
            await repo.withdraw_copy(tx.db, withdrawn.delivery_id, withdrawn.reason)
        self._polls.changed(row.device_id)

    async def decided(self, envelope: Envelope, decided: UploadDecided) -> None:
        async def keep(tx: Tx) -> tuple[str, UploadRecord]:
            return await _keep_decision(tx, envelope, decided)

        # Run again at once on a conflict, as routed() is.
        key, record = await self._uow.run(keep, applying=envelope)
        self._notifier.notify(key, record)

    async def completed_v1(
        self, envelope: Envelope, completed: DocumentCompletedV1 | DocumentCompletedV2
    ) -> None:
        """A completion published before an upgrade (an older version of the event)."""
        await self.completed(envelope, completed.upgraded())

    async def completed(self, envelope: Envelope, completed: DocumentCompleted) -> None:
        if not envelope.tenant:
            raise PermanentFailure("document.completed without a tenant")
        row = CompletedDocument(
            id=repo.completed_key(envelope.tenant, completed.document_id),
            tenant=envelope.tenant,
            state="completed",
            completed_at=envelope.time.isoformat(),
            result=completed.model_dump(mode="json"),
        )
        await self._keep_entry(envelope, row, online=completed.mode == "online")

    async def returned(self, envelope: Envelope, returned: DocumentReturned) -> None:
        """A document taken back after it was accepted: an entry of the base's results."""
        if not envelope.tenant:
            raise PermanentFailure("document.returned without a tenant")
        key = repo.completed_key(envelope.tenant, returned.document_id)
        row = returns.returned_entry(envelope.tenant, key, envelope.time, returned)
        await self._keep_entry(envelope, row, online=returned.mode == "online")

    async def _keep_entry(
        self, envelope: Envelope, row: CompletedDocument, *, online: bool
    ) -> None:
        """Keep an entry of the base's results; an online base is sent it by webhook."""
        async with self._uow(applying=envelope) as tx:
            await repo.keep_completed(tx.db, row)
            # Online documents go back by themselves; offline ones wait to be loaded.
            pushed = online and await webhooks.enqueue(tx.db, envelope, row)
        if pushed:
            self._notifier.notify(webhooks.WAKE_KEY)

    async def result_refused(self, envelope: Envelope, refused: ResultRefused) -> None:
        refusal = {"result_id": refused.result_id, "code": refused.code, "params": refused.params}
        async with self._uow(applying=envelope) as tx:
            row = await repo.copy(tx.db, refused.delivery_id)
            if row is not None:
                require_same_tenant(envelope, _owned(row), "delivery")
            await repo.refuse_result(tx.db, refused.delivery_id, refused.result_id, refusal)
            if row is not None and reopened_by(row, refused.result_id):
                await repo.reopen_copy(tx.db, refused.delivery_id, refusal, expect=row.state)
            else:
                row = None
        if row is not None:  # the terminal's waiting poll shows the refusal now
            self._polls.changed(row.device_id)

    async def device_changed(self, envelope: Envelope, changed: DeviceChanged) -> None:
        doc = {
            **changed.device.model_dump(mode="json"),
            "credential_hash": changed.credential_hash,
            "revision": changed.revision,
        }
        replaced_by = changed.replaced_by if envelope.tenant == changed.device.tenant else None
        async with self._uow(applying=envelope) as tx:
            kept = await repo.keep_device(tx.db, doc)
            if kept and replaced_by is not None:
                # With the retirement itself: a poll it wakes is told "replaced", whichever of
                # this and device.replaced (which moves the waiting copies) comes first.
                await repo.keep_replacement(tx.db, changed.device.tenant, doc["id"], replaced_by)
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
                known = await repo.device(tx.db, device_id)
                if known is not None:
                    require_same_tenant(envelope, _owned(known), "delivery")
            await repo.keep_replacement(tx.db, tenant, replaced.old_device, replaced.new_device)
            await repo.move_waiting_copies(tx.db, tenant, replaced.old_device, replaced.new_device)
        for device_id in (replaced.old_device, replaced.new_device):  # both inboxes changed
            self._polls.changed(device_id)
        if self._access is not None:  # the old device's polls now learn it was replaced
            await self._access.device_changed(replaced.old_device)

    async def tenant_changed(self, envelope: Envelope, changed: TenantChanged) -> None:
        doc = repo.tenant_copy(changed.model_dump())
        async with self._uow(applying=envelope) as tx:
            await repo.keep_tenant(tx.db, doc)
        if self._access is not None:
            await self._access.tenant_changed(changed.tenant)

    async def applied_before(self, payload: Payload) -> None:
        """A message found applied already (a redelivery): the instance that applied it may
        have stopped between its commit and its announcement, so the inboxes it changes are
        announced again (the held answers of the others forgotten; harmless when they were).
        This covers a crash only before the message's acknowledgement: the announcement is
        published in the background and acknowledgements go in groups, so after one that went
        first nothing comes again, and held answers are bounded by their age alone."""
        for device_id in await self._inboxes_changed_by(payload):
            self._polls.changed(device_id)

    async def _inboxes_changed_by(self, payload: Payload) -> list[str]:
        if isinstance(payload, DeviceReplaced):
            return [payload.old_device, payload.new_device]
        if isinstance(payload, DocumentRoutedV1):
            payload = RoutedCopies.of(payload.upgraded())
        if isinstance(payload, RoutedCopies):
            copies = [c.delivery_id for c in payload.copies]
        elif isinstance(payload, (DocumentWithdrawn, ResultRefused)):
            copies = [payload.delivery_id]
        else:
            return []
        async with self._uow() as tx:  # where the copies are now (moved to a replacement)
            rows = await repo.copies(tx.db, copies)
        return list(dict.fromkeys(row.device_id for row in rows.values()))


# The terminal's side of the inbox (api/terminal.py): what a device sees and does with its copies.

OPEN = (CopyState.DELIVERED, CopyState.DOWNLOADED, CopyState.IN_PROGRESS)
WITHDRAWN = frozenset((CopyState.WITHDRAWN, CopyState.WITHDRAWAL_SEEN))
# What a poll reads, in the inbox's stored words (worked out once, not on every poll).
_POLLED = repo.stored_words((*OPEN, CopyState.WITHDRAWN))


class Polled:
    """A device's inbox as a poll sees it: its open copies and its withdrawals not yet seen."""

    __slots__ = ("news", "open", "withdrawn")

    def __init__(self, rows: list[PolledCopy]) -> None:
        self.open = [r for r in rows if r.state in OPEN]
        self.withdrawn = [r for r in rows if r.state is CopyState.WITHDRAWN]
        self.news = News(
            open=len(self.open),
            unacknowledged=any(r.state is CopyState.DELIVERED for r in self.open),
            withdrawn=bool(self.withdrawn),
        )


async def poll(rt: Runtime, device_id: str) -> Polled:
    """The device's inbox, in one query."""
    return Polled(await repo.polled_copies(rt.store, device_id, _POLLED))


def _changed(rt: Runtime, device: DeviceCopy) -> None:
    """The device's inbox was changed by its own terminal (a transaction committed): the news
    that every writer of the inbox gives (:meth:`InboxWatch.changed`)."""
    gateway_parts(rt).polls.changed(device.id)


async def own_copy(rt: Runtime, device: DeviceCopy, delivery_id: str) -> InboxCopy:
    """The device's own copy; another device's answers as one that does not exist."""
    return _own(await repo.copy(rt.store, delivery_id), device)


def _own(row: InboxCopy | None, device: DeviceCopy) -> InboxCopy:
    if row is None or row.device_id != device.id:
        raise Refusal("not_found", 404)
    return row


async def document_of(rt: Runtime, row: InboxCopy) -> Json:
    """The copy's whole document, for its download."""
    if row.state in WITHDRAWN:
        raise Refusal("document_withdrawn", 410, reason=row.withdrawn_reason)
    document = await repo.copy_document(rt.store, row.id)
    if document is None:
        raise Refusal("not_found", 404)
    return document


# The states an acknowledgement has already moved a copy to, or past.
_ACKNOWLEDGED = frozenset(
    (CopyState.DOWNLOADED, CopyState.IN_PROGRESS, CopyState.DONE, CopyState.WITHDRAWAL_SEEN)
)


async def acknowledge_copy(rt: Runtime, row: InboxCopy, device: DeviceCopy) -> CopyState:
    """The terminal has the document (or has seen its withdrawal); the copy's new state. An
    acknowledgement sent again (the answer was lost) changes nothing and answers the state the
    copy has: seen withdrawn, or downloaded and perhaps worked on since."""
    if row.state is CopyState.WITHDRAWN:
        if await repo.change_copy_state(
            rt.store, row.id, CopyState.WITHDRAWAL_SEEN, expect=CopyState.WITHDRAWN
        ):
            _changed(rt, device)
        return CopyState.WITHDRAWAL_SEEN
    if row.state in _ACKNOWLEDGED:
        return row.state
    if not await _download_together(rt, [row], device):
        return await _acknowledged_since(rt, row, device)
    return CopyState.DOWNLOADED


async def acknowledge_copies(
    rt: Runtime, device: DeviceCopy, delivery_ids: Sequence[str]
) -> dict[str, CopyState | Refusal]:
    """Several acknowledgements at once (each id once): each copy's answer as
    :func:`acknowledge_copy` gives it, or the refusal :func:`own_copy` gives for an id that is
    not the device's. The copies downloaded now are moved in one transaction, told to the
    others in one message."""
    answers: dict[str, CopyState | Refusal] = {}
    delivered: list[InboxCopy] = []
    rows = await repo.copies(rt.store, delivery_ids)  # one read for the whole batch
    for delivery_id in delivery_ids:
        try:
            row = _own(rows.get(delivery_id), device)
        except Refusal as refusal:
            answers[delivery_id] = refusal
            continue
        if row.state is CopyState.DELIVERED:
            delivered.append(row)
        else:  # withdrawn, or acknowledged before: as one acknowledgement answers it
            answers[delivery_id] = await acknowledge_copy(rt, row, device)
    if delivered:
        # The copies of one upload share its trace: their acknowledgement continues it (as one
        # copy's does), and copies of several uploads, which no one message can continue, none.
        trace = delivered[0].trace
        shared = trace if all(row.trace == trace for row in delivered) else None
        with tracing.continuing("terminal acknowledge", shared):
            moved = await _download_together(rt, delivered, device)
        for row in delivered:
            answers[row.id] = (
                CopyState.DOWNLOADED
                if row.id in moved
                else await _acknowledged_since(rt, row, device)
            )
    return {delivery_id: answers[delivery_id] for delivery_id in delivery_ids}


async def _download_together(
    rt: Runtime, rows: Sequence[InboxCopy], device: DeviceCopy
) -> set[str]:
    """Move delivered copies to downloaded in one transaction that tells the others in one
    message (the single form for one copy); the ids of those that moved (the others changed
    since they were read)."""

    async def downloaded(tx: Tx) -> tuple[set[str], datetime | None]:
        moved = [
            row
            for row in rows
            if await repo.change_copy_state(
                tx.db, row.id, CopyState.DOWNLOADED, expect=CopyState.DELIVERED
            )
        ]
        if not moved:
            return set(), None
        envelope = await tx.emit(_downloads(moved, device), device.tenant)
        return {row.id for row in moved}, envelope.time

    moved, told_at = await rt.uow.run(downloaded)
    if told_at is not None:  # some moved
        _changed(rt, device)
        # The download tells the others of this contact (presence.py).
        gateway_parts(rt).presence.told(device.id, told_at)
    return moved


def _downloads(rows: Sequence[InboxCopy], device: DeviceCopy) -> Payload:
    """Downloaded copies as routing learns them: one message for both steps of each, as the
    copy was delivered when it was stored."""
    if len(rows) == 1:
        row = rows[0]
        return DeliveryProgressed(
            delivery_id=row.id,
            channel="internet",
            state=CopyState.DOWNLOADED.value,
            by=device.id,
            delivered_at=_delivered_at(row),
        )
    return DeliveriesProgressed(
        channel="internet",
        by=device.id,
        copies=[
            ProgressedCopy(
                delivery_id=row.id,
                state=CopyState.DOWNLOADED.value,
                delivered_at=_delivered_at(row),
            )
            for row in rows
        ],
    )


def _delivered_at(row: InboxCopy) -> datetime | None:
    return datetime.fromisoformat(row.routed_at) if row.routed_at else None


async def _acknowledged_since(rt: Runtime, row: InboxCopy, device: DeviceCopy) -> CopyState:
    """The answer for a delivered copy that changed before its acknowledgement moved it
    (withdrawn, or acknowledged meanwhile)."""
    now = await repo.copy(rt.store, row.id)
    if now is None:
        return row.state
    if now.state is CopyState.WITHDRAWN:  # the withdrawal is what the terminal now sees
        return await acknowledge_copy(rt, now, device)
    return now.state


async def record_result(
    rt: Runtime,
    row: InboxCopy,
    device: DeviceCopy,
    result_id: str,
    *,
    final: bool,
    lines: list[FactLine],
) -> tuple[ResultRecord, bool]:
    """Take a terminal's result once; the record and whether it had been taken before."""
    delivery_id = row.id
    previous = await repo.result(rt.store, delivery_id, result_id)
    if previous is not None:  # the same result sent again: applied once already
        return previous, True
    if row.state in WITHDRAWN:
        raise Refusal("document_withdrawn", 410, reason=row.withdrawn_reason or "")
    if row.state is CopyState.DONE:
        raise Refusal("document_already_finished", 409)
    record = ResultRecord(
        id=repo.result_key(delivery_id, result_id),
        delivery_id=delivery_id,
        result_id=result_id,
        final=final,
        lines=len(lines),
        status="received",
        received_at=_now().isoformat(),
    )

    async def received(tx: Tx) -> None:
        await repo.add_result(tx.db, record)
        await repo.take_result_into_copy(tx.db, delivery_id, result_id, final=final)
        await tx.emit(
            ResultSubmitted(
                result_id=result_id,
                delivery_id=delivery_id,
                channel="internet",
                final=final,
                lines=lines,
                user=device.id,
            ),
            device.tenant,
        )

    try:
        await rt.uow.run(received)
    except DuplicateKeyError:  # sent twice at the same moment: the other one was applied
        return await repo.result(rt.store, delivery_id, result_id) or record, True
    _changed(rt, device)  # the copy is in progress or done now
    return record, False


async def result_of(
    rt: Runtime, device: DeviceCopy, delivery_id: str, result_id: str
) -> ResultRecord:
    """What became of a result the device sent for its own copy."""
    await own_copy(rt, device, delivery_id)
    record = await repo.result(rt.store, delivery_id, result_id)
    if record is None:
        raise Refusal("not_found", 404)
    return record


# Documents the terminal starts itself (shared/created_documents.py): no copy in the inbox,
# only the finished document, taken once.


async def record_created(
    rt: Runtime, device: DeviceCopy, body: CreatedDocument
) -> tuple[ResultRecord, bool]:
    """Take a document started on the terminal once; the record and whether it was taken
    before."""
    delivery_id = delivery_id_of(body.document_id)
    previous = await repo.result(rt.store, delivery_id, body.result_id)
    if previous is not None:
        return previous, True
    record = ResultRecord(
        id=repo.result_key(delivery_id, body.result_id),
        delivery_id=delivery_id,
        result_id=body.result_id,
        final=True,
        device_id=device.id,
        lines=len(body.lines),
        status="received",
        received_at=_now().isoformat(),
    )

    async def received(tx: Tx) -> None:
        await repo.add_result(tx.db, record)
        await tx.emit(submission(body, "internet", device.id, device.mode), device.tenant)

    try:
        await rt.uow.run(received)
    except DuplicateKeyError:  # sent twice at the same moment: the other one was applied
        return await repo.result(rt.store, delivery_id, body.result_id) or record, True
    return record, False


async def created_result(
    rt: Runtime, device: DeviceCopy, document_id: str, result_id: str
) -> ResultRecord:
    """What became of a document this device started; another device's answers as unknown."""
    record = await repo.result(rt.store, delivery_id_of(document_id), result_id)
    if record is None or (record.device_id or device.id) != device.id:
        raise Refusal("not_found", 404)
    return record
