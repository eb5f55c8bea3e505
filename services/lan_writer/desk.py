"""The LAN base: documents written for users, groups, everyone or a device, and the changes
users, operators and routing make to them.

Every change of a document is a compare-and-set on its row (the ``revision`` and ``state`` it
was read with), committed in one transaction with the events it causes. Losing a race rolls
everything back, reads the row again and decides again: two users taking the same document at
the same moment can never both win.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress

from services.lan_writer import locks, result_sends
from services.lan_writer import repository as repo
from services.lan_writer.auth import LanUser
from services.lan_writer.locks import Lock
from shared.clock import now, now_iso
from shared.contracts import Envelope
from shared.contracts.directory import TenantChanged
from shared.contracts.documents import FactLine
from shared.contracts.results import DeliveryProgressed, ResultRefused
from shared.contracts.uploads import DocumentRouted, DocumentWithdrawn
from shared.created_documents import CreatedDocument, delivery_id_of, submission
from shared.errors import Refusal
from shared.logging import get_logger
from shared.messaging.consumer import PermanentFailure, require_same_tenant
from shared.metrics import DELIVERY_LATENCY, LAN_LOCKS
from shared.outbox import Tx, UnitOfWork
from shared.replicas import put_newer
from shared.storage import Doc, DuplicateKeyError, Store

log = get_logger("tsdx.lan_writer")

# Tries of one change under contention before the caller is asked to retry.
ATTEMPTS = 8
# Whom an operator may give a document to (a PIN is an internet-channel notion).
REASSIGNABLE = ("user", "group", "everyone", "device")

# Decides a change from the row as read inside the transaction: returns the changed fields
# (None: nothing to change) after writing or emitting whatever goes with it through ``tx``.
Decide = Callable[[Tx, Doc], Awaitable[Doc | None]]


# Whom a LAN copy can be for once routing resolved it (own copies arrive as "user").
LAN_TARGETS = ("user", "group", "everyone", "device")


class _LostRace(Exception):
    """The row changed between reading and writing it; the transaction is rolled back."""


class CopyNotStored(Exception):
    """A message names a copy this base has not stored (yet): worth retrying a little later."""


def _check_access(row: Doc, user: LanUser) -> None:
    """A user sees a document assigned to them (or their group, everyone, their device) or
    one they work or worked on; any other, like another tenant's, does not exist for them."""
    if row["tenant"] != user.tenant:
        raise Refusal("not_found", 404)
    if row["assignee"] not in user.assignee_keys and not Lock.of(row).involves(user.login):
        raise Refusal("not_found", 404)


def new_row(tenant: str, routed: DocumentRouted) -> Doc:
    return {
        "id": routed.delivery_id,
        "tenant": tenant,
        "document_id": routed.document.header.id,
        "request_id": routed.request_id,
        "process": routed.process,
        "version": routed.version,
        "assignee": repo.assignee_key(routed.target),
        "collective": routed.settings.collective,
        "settings": routed.settings.model_dump(mode="json"),
        "document": routed.document.model_dump(mode="json"),
        **Lock(state="free", collective=routed.settings.collective).changes(),
        "refusals": {},
        "revision": 1,
        "routed_at": now_iso(),
    }


class LanDesk:
    def __init__(self, store: Store, uow: UnitOfWork) -> None:
        self._store = store
        self._uow = uow

    async def change(
        self, delivery_id: str, decide: Decide, *, applying: Envelope | None = None
    ) -> tuple[Doc, bool]:
        """Apply ``decide`` to the row; returns the row as it now is and whether it changed."""
        for _ in range(ATTEMPTS):
            try:
                async with self._uow(applying=applying) as tx:
                    row = await tx.db.get(repo.DOCUMENTS.name, delivery_id)
                    if row is None:
                        raise CopyNotStored(delivery_id)
                    changes = await decide(tx, row)
                    if not changes:
                        return row, False
                    changes["revision"] = row["revision"] + 1
                    if not await tx.db.update(
                        repo.DOCUMENTS.name,
                        delivery_id,
                        changes,
                        expect={"revision": row["revision"], "state": row["state"]},
                    ):
                        raise _LostRace
                    return {**row, **changes}, True
            except _LostRace:
                LAN_LOCKS.labels("race_lost").inc()
        raise Refusal("lan_busy", 409)

    async def _user_change(
        self, user: LanUser, delivery_id: str, decide: Decide
    ) -> tuple[Doc, bool]:
        async def checked(tx: Tx, row: Doc) -> Doc | None:
            _check_access(row, user)
            return await decide(tx, row)

        try:
            return await self.change(delivery_id, checked)
        except CopyNotStored:
            raise Refusal("not_found", 404) from None

    # What users see.

    async def visible(self, user: LanUser) -> list[Doc]:
        return await self._store.find(
            repo.DOCUMENTS.name,
            {
                "tenant": user.tenant,
                "assignee": user.assignee_keys,
                "state": list(repo.OPEN_STATES),
            },
            order_by="routed_at",
        )

    async def row_for(self, user: LanUser, delivery_id: str) -> Doc:
        row = await self._store.get(repo.DOCUMENTS.name, delivery_id)
        if row is None:
            raise Refusal("not_found", 404)
        _check_access(row, user)
        return row

    # What users do.

    async def take(self, user: LanUser, delivery_id: str) -> tuple[Doc, bool]:
        """Lock (or join) the document; the second value says whether this call took it."""

        async def decide(tx: Tx, row: Doc) -> Doc | None:
            before = Lock.of(row)
            after = locks.take(before, user.login, now_iso())
            if after is before:
                return None
            await tx.emit(
                DeliveryProgressed(
                    delivery_id=row["id"], channel="lan", state="in_progress", by=user.login
                ),
                user.tenant,
            )
            return after.changes()

        try:
            row, taken = await self._user_change(user, delivery_id, decide)
        except Refusal as refusal:
            if refusal.code == "document_taken":
                LAN_LOCKS.labels("contended").inc()
            raise
        if taken:
            LAN_LOCKS.labels("joined" if len(row["holders"]) > 1 else "taken").inc()
        return row, taken

    async def release(self, user: LanUser, delivery_id: str) -> Doc:
        async def decide(tx: Tx, row: Doc) -> Doc | None:
            before = Lock.of(row)
            after = locks.release(before, user.login)
            await result_sends.drop_lines(
                tx, row, locks.lines_dropped_by_release(before, user.login)
            )
            if after.state == "free":
                await tx.emit(
                    DeliveryProgressed(
                        delivery_id=row["id"], channel="lan", state="released", by=user.login
                    ),
                    user.tenant,
                )
            return after.changes()

        row, _ = await self._user_change(user, delivery_id, decide)
        LAN_LOCKS.labels("released").inc()
        return row

    async def submit(
        self, user: LanUser, delivery_id: str, result_id: str, final: bool, lines: list[FactLine]
    ) -> Doc:
        """Record a user's result and pass it to routing; a result sent again applies once."""
        key = repo.result_key(delivery_id, user.login, result_id)
        previous = await self._store.get(repo.RESULTS.name, key)
        if previous is not None:
            return previous

        async def decide(tx: Tx, row: Doc) -> Doc | None:
            after, complete = locks.submit(Lock.of(row), user.login, final)
            sent = result_sends.Sent(row, user.login, result_id, final=final, completes=complete)
            await result_sends.send(tx, sent, lines)
            # A new result supersedes the user's refused one.
            refusals = {u: r for u, r in row["refusals"].items() if u != user.login}
            return {**after.changes(), "refusals": refusals}

        # The same result sent twice at once: the other call recorded it.
        with suppress(DuplicateKeyError):
            await self._user_change(user, delivery_id, decide)
        record = await self._store.get(repo.RESULTS.name, key)
        assert record is not None
        return record

    # What routing tells.

    # Documents a user starts on the terminal (shared/created_documents.py): nothing of them is
    # kept here but the send itself; the document is the user's until sent, routing's after.

    async def record_created(self, user: LanUser, body: CreatedDocument) -> Doc:
        """Take a document started on the terminal once; the stored send."""
        delivery_id = delivery_id_of(body.document_id)
        key = repo.result_key(delivery_id, user.login, body.result_id)
        previous = await self._store.get(repo.RESULTS.name, key)
        if previous is not None:
            return previous
        record = {
            "id": key,
            "delivery_id": delivery_id,
            "tenant": user.tenant,
            "login": user.login,
            "result_id": body.result_id,
            "final": True,
            "completes": True,
            "created": True,  # no copy in the LAN base: a refusal only marks this record
            "status": "sent",
            "received_at": now_iso(),
        }
        sent = submission(body, "lan", user.login, "online").model_copy(update={"result_id": key})

        async def received(tx: Tx) -> None:
            await tx.db.insert(repo.RESULTS.name, record)
            await tx.emit(sent, user.tenant)

        with suppress(DuplicateKeyError):  # sent twice at the same moment: the other one applied
            await self._uow.run(received)
        stored = await self._store.get(repo.RESULTS.name, key)
        if stored is None:
            raise Refusal("storage_unavailable", 503)
        return stored

    async def created_result(self, user: LanUser, document_id: str, result_id: str) -> Doc:
        key = repo.result_key(delivery_id_of(document_id), user.login, result_id)
        record = await self._store.get(repo.RESULTS.name, key)
        if record is None or record["tenant"] != user.tenant:
            raise Refusal("not_found", 404)
        return record

    # ---- news from the broker (consumers.py) --------------------------------------------
    # A withdrawal or refusal naming a copy not stored yet raises and is retried: routing
    # emits a copy before anything about it, so the copy is on its way (or the message is
    # parked to look at).

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
            max(0.0, (now() - routed.requested_at).total_seconds())
        )
        log.info(
            "lan.document_written",
            delivery_id=routed.delivery_id,
            assignee=repo.assignee_key(target),
            collective=routed.settings.collective,
        )

    async def tenant_changed(self, envelope: Envelope, changed: TenantChanged) -> None:
        copy = {
            "id": changed.tenant,
            "revision": changed.revision,
            "barcodes": changed.barcodes.model_dump(),
        }
        async with self._uow(applying=envelope) as tx:
            await put_newer(tx.db, repo.TENANTS.name, copy)

    async def withdraw(self, envelope: Envelope, withdrawn: DocumentWithdrawn) -> None:
        async def decide(tx: Tx, row: Doc) -> Doc | None:
            require_same_tenant(envelope, row, "copy")
            if row["state"] == "withdrawn":
                return None
            return {
                "state": "withdrawn",
                "withdrawn_reason": withdrawn.reason,
                "withdrawn_at": now_iso(),
            }

        await self.change(withdrawn.delivery_id, decide, applying=envelope)

    async def result_refused(self, envelope: Envelope, refused: ResultRefused) -> None:
        record = await self._store.get(repo.RESULTS.name, refused.result_id)
        if record is None or record["delivery_id"] != refused.delivery_id:
            raise PermanentFailure(f"no LAN result {refused.result_id} for {refused.delivery_id}")
        if record.get("created"):  # a document started on the terminal has no copy here
            async with self._uow(applying=envelope) as tx:
                await tx.db.update(
                    repo.RESULTS.name,
                    record["id"],
                    {"status": "refused", "code": refused.code, "params": refused.params},
                )
            return

        async def decide(tx: Tx, row: Doc) -> Doc | None:
            require_same_tenant(envelope, row, "copy")
            now = now_iso()
            await tx.db.update(
                repo.RESULTS.name,
                record["id"],
                {"status": "refused", "code": refused.code, "params": refused.params},
            )
            after = locks.result_refused(Lock.of(row), record["login"], record["final"], now)
            refusal = {
                "result_id": record["result_id"],
                "code": refused.code,
                "params": refused.params,
                "at": now,
            }
            return {**after.changes(), "refusals": {**row["refusals"], record["login"]: refusal}}

        await self.change(refused.delivery_id, decide, applying=envelope)
