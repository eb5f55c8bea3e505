"""What a user logged in on a LAN terminal does with documents: list and open them, take one
(locking a shared document, joining a collective one), release it, send results and finish it,
and send a document they started on the terminal. Each change goes through
:class:`~services.lan_writer.copy_changes.CopyChanges`; the rules are those of locks.py."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import replace

from services.lan_writer import locks, result_merging
from services.lan_writer import repository as repo
from services.lan_writer.auth import LanUser
from services.lan_writer.copy_changes import CopyChanges, check_access
from services.lan_writer.repository import LanCopy, SentResult
from shared.clock import now_iso
from shared.contracts.directory import BarcodeSettings
from shared.contracts.documents import FactLine
from shared.contracts.results import DeliveryProgressed
from shared.created_documents import CreatedDocument, delivery_id_of, submission
from shared.errors import Refusal
from shared.metrics import LAN_LOCKS
from shared.outbox import Tx, UnitOfWork
from shared.storage import DuplicateKeyError, Store


class UserActions:
    def __init__(self, changes: CopyChanges, store: Store, uow: UnitOfWork) -> None:
        self._changes = changes
        self._store = store
        self._uow = uow

    # What users see.

    async def visible(self, user: LanUser) -> list[LanCopy]:
        return await repo.open_copies(self._store, user.tenant, user.assignee_keys)

    async def copy_for(self, user: LanUser, delivery_id: str) -> LanCopy:
        copy = await repo.copy(self._store, delivery_id)
        if copy is None:
            raise Refusal("not_found", 404)
        check_access(copy, user)
        return copy

    async def open(self, user: LanUser, delivery_id: str) -> LanCopy:
        """A document to work on, with its lines: a withdrawn one says why it is gone."""
        copy = await self.copy_for(user, delivery_id)
        if copy.state == "withdrawn":
            raise Refusal("document_withdrawn", 410, reason=copy.lock.withdrawn_reason)
        return copy

    async def barcode_settings(self, user: LanUser) -> BarcodeSettings:
        return await repo.barcode_settings(self._store, user.tenant)

    # What users do.

    async def take(self, user: LanUser, delivery_id: str) -> tuple[LanCopy, bool]:
        """Lock (or join) the document; the second value says whether this call took it."""

        async def decide(tx: Tx, copy: LanCopy) -> LanCopy | None:
            after = locks.take(copy.lock, user.login, now_iso())
            if after is copy.lock:
                return None
            await tx.emit(
                DeliveryProgressed(
                    delivery_id=copy.id, channel="lan", state="in_progress", by=user.login
                ),
                user.tenant,
            )
            return replace(copy, lock=after)

        try:
            copy, taken = await self._changes.by_user(user, delivery_id, decide)
        except Refusal as refusal:
            if refusal.code == "document_taken":
                LAN_LOCKS.labels("contended").inc()
            raise
        if taken:
            LAN_LOCKS.labels("joined" if len(copy.lock.holders) > 1 else "taken").inc()
        return copy, taken

    async def release(self, user: LanUser, delivery_id: str) -> LanCopy:
        async def decide(tx: Tx, copy: LanCopy) -> LanCopy | None:
            before = copy.lock
            after = locks.release(before, user.login)
            dropped = locks.lines_dropped_by_release(before, user.login)
            await result_merging.drop_lines(tx, copy, dropped)
            if after.state == "free":
                await tx.emit(
                    DeliveryProgressed(
                        delivery_id=copy.id, channel="lan", state="released", by=user.login
                    ),
                    user.tenant,
                )
            return replace(copy, lock=after)

        copy, _ = await self._changes.by_user(user, delivery_id, decide)
        LAN_LOCKS.labels("released").inc()
        return copy

    async def submit(
        self, user: LanUser, delivery_id: str, result_id: str, final: bool, lines: list[FactLine]
    ) -> SentResult:
        """Record a user's result (``final``: the user finished) and pass it to routing; a
        result sent again applies once."""
        key = repo.result_key(delivery_id, user.login, result_id)
        previous = await repo.sent_result(self._store, key)
        if previous is not None:
            return previous

        async def decide(tx: Tx, copy: LanCopy) -> LanCopy | None:
            after, complete = locks.submit(copy.lock, user.login, final)
            sent = result_merging.sent_result(
                copy, user.login, result_id, final=final, completes=complete
            )
            await result_merging.send(tx, sent, lines)
            # A new result supersedes the user's refused one.
            refusals = {u: r for u, r in copy.refusals.items() if u != user.login}
            return replace(copy, lock=after, refusals=refusals)

        # The same result sent twice at once: the other call recorded it.
        with suppress(DuplicateKeyError):
            await self._changes.by_user(user, delivery_id, decide)
        record = await repo.sent_result(self._store, key)
        assert record is not None
        return record

    # Documents a user starts on the terminal (shared/created_documents.py): nothing of them is
    # kept here but the send itself; the document is the user's until sent, routing's after.

    async def record_created(self, user: LanUser, body: CreatedDocument) -> SentResult:
        """Take a document started on the terminal once; the stored send."""
        delivery_id = delivery_id_of(body.document_id)
        key = repo.result_key(delivery_id, user.login, body.result_id)
        previous = await repo.sent_result(self._store, key)
        if previous is not None:
            return previous
        record = SentResult(
            id=key,
            delivery_id=delivery_id,
            tenant=user.tenant,
            login=user.login,
            result_id=body.result_id,
            final=True,
            completes=True,
            received_at=now_iso(),
            created=True,  # no copy in the LAN base: a refusal only marks this record
        )
        sent = submission(body, "lan", user.login, "online").model_copy(update={"result_id": key})

        async def received(tx: Tx) -> None:
            await repo.record_result(tx.db, record)
            await tx.emit(sent, user.tenant)

        with suppress(DuplicateKeyError):  # sent twice at the same moment: the other one applied
            await self._uow.run(received)
        stored = await repo.sent_result(self._store, key)
        if stored is None:
            raise Refusal("storage_unavailable", 503)
        return stored

    async def created_result(self, user: LanUser, document_id: str, result_id: str) -> SentResult:
        key = repo.result_key(delivery_id_of(document_id), user.login, result_id)
        record = await repo.sent_result(self._store, key)
        if record is None or record.tenant != user.tenant:
            raise Refusal("not_found", 404)
        return record
