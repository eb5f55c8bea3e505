"""The LAN base: documents written for users, groups, everyone or a device, and the changes
users, operators and routing make to them.

Every change of a document is a compare-and-set on its row (the ``revision`` and ``state`` it
was read with), committed in one transaction with the events it causes. Losing a race rolls
everything back, reads the row again and decides again: two users taking the same document at
the same moment can never both win.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.lan_writer import locks
from services.lan_writer import repository as repo
from services.lan_writer.auth import LanUser
from services.lan_writer.locks import Lock
from shared.contracts import Envelope
from shared.contracts.documents import FactLine, Target
from shared.contracts.results import DeliveryProgressed, ResultRefused, ResultSubmitted
from shared.contracts.uploads import DocumentRouted, DocumentWithdrawn
from shared.errors import Refusal
from shared.logging import get_logger
from shared.messaging.consumer import PermanentFailure
from shared.metrics import LAN_LOCKS
from shared.outbox import Tx, UnitOfWork
from shared.storage import Doc, DuplicateKeyError, Store

log = get_logger("tsdx.lan_writer")

# Tries of one change under contention before the caller is asked to retry.
ATTEMPTS = 8
# Whom an operator may give a document to (a PIN is an internet-channel notion).
REASSIGNABLE = ("user", "group", "everyone", "device")

# Decides a change from the row as read inside the transaction: returns the changed fields
# (None: nothing to change) after writing or emitting whatever goes with it through ``tx``.
Decide = Callable[[Tx, Doc], Awaitable[Doc | None]]


class _LostRace(Exception):
    """The row changed between reading and writing it; the transaction is rolled back."""


class CopyNotStored(Exception):
    """A message names a copy this base has not stored (yet): worth retrying a little later."""


def _now() -> str:
    return datetime.now(UTC).isoformat()


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
        "routed_at": _now(),
    }


class LanBase:
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
            after = locks.take(before, user.login, _now())
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
            await _drop_lines(tx, row, locks.lines_dropped_by_release(before, user.login))
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
            sent = _Sent(row, user.login, result_id, final=final, completes=complete)
            await _send(tx, sent, lines)
            # A new result supersedes the user's refused one.
            refusals = {u: r for u, r in row["refusals"].items() if u != user.login}
            return {**after.changes(), "refusals": refusals}

        # The same result sent twice at once: the other call recorded it.
        with suppress(DuplicateKeyError):
            await self._user_change(user, delivery_id, decide)
        record = await self._store.get(repo.RESULTS.name, key)
        assert record is not None
        return record

    # What operators do.

    async def rows(self, tenant: str, states: list[str] | None = None) -> list[Doc]:
        where: dict[str, Any] = {"tenant": tenant}
        if states:
            where["state"] = states
        return await self._store.find(repo.DOCUMENTS.name, where, order_by="routed_at")

    async def get(self, delivery_id: str) -> Doc:
        row = await self._store.get(repo.DOCUMENTS.name, delivery_id)
        if row is None:
            raise Refusal("not_found", 404)
        return row

    async def force_release(self, delivery_id: str, reason: str) -> Doc:
        async def decide(tx: Tx, row: Doc) -> Doc | None:
            before = Lock.of(row)
            after = locks.force_release(before, reason)
            await _drop_lines(tx, row, before.logins)
            await tx.emit(
                DeliveryProgressed(
                    delivery_id=row["id"], channel="lan", state="released", by="operator"
                ),
                row["tenant"],
            )
            released = {"reason": reason, "at": _now(), "holders": list(before.logins)}
            return {**after.changes(), "released": released}

        row, _ = await self._operator_change(delivery_id, decide)
        LAN_LOCKS.labels("force_released").inc()
        log.info("lan.lock_force_released", delivery_id=delivery_id, **row["released"])
        return row

    async def reassign(self, delivery_id: str, target: Target) -> Doc:
        if target.kind not in REASSIGNABLE:
            raise Refusal("target_not_allowed_on_channel", 422, target=target.kind, channel="lan")
        if target.kind != "everyone" and not target.value:
            raise Refusal("target_incomplete", 422, target=target.kind)
        assignee = repo.assignee_key(target)

        async def decide(tx: Tx, row: Doc) -> Doc | None:
            locks.check_reassignable(Lock.of(row))
            if row["assignee"] == assignee:
                return None
            return {
                "assignee": assignee,
                "reassigned": {"from": row["assignee"], "at": _now()},
            }

        row, _ = await self._operator_change(delivery_id, decide)
        return row

    async def _operator_change(self, delivery_id: str, decide: Decide) -> tuple[Doc, bool]:
        try:
            return await self.change(delivery_id, decide)
        except CopyNotStored:
            raise Refusal("not_found", 404) from None

    # What routing tells.

    async def withdraw(self, envelope: Envelope, withdrawn: DocumentWithdrawn) -> None:
        async def decide(tx: Tx, row: Doc) -> Doc | None:
            _same_tenant(row, envelope)
            if row["state"] == "withdrawn":
                return None
            return {
                "state": "withdrawn",
                "withdrawn_reason": withdrawn.reason,
                "withdrawn_at": _now(),
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
            _same_tenant(row, envelope)
            now = _now()
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


def _same_tenant(row: Doc, envelope: Envelope) -> None:
    if row["tenant"] != envelope.tenant:
        raise PermanentFailure(f"copy {row['id']} belongs to another tenant")


@dataclass(frozen=True)
class _Sent:
    """One result passed on to routing, as recorded for the user who sent it."""

    row: Doc
    login: str
    result_id: str  # the terminal's id of the send
    final: bool  # the user finished
    completes: bool  # the document is done: routing gets it as final

    @property
    def key(self) -> str:
        return repo.result_key(self.row["id"], self.login, self.result_id)


async def _send(tx: Tx, sent: _Sent, lines: list[FactLine]) -> None:
    await tx.db.insert(
        repo.RESULTS.name,
        {
            "id": sent.key,
            "delivery_id": sent.row["id"],
            "tenant": sent.row["tenant"],
            "login": sent.login,
            "result_id": sent.result_id,
            "final": sent.final,
            "completes": sent.completes,
            "status": "sent",
            "received_at": _now(),
        },
    )
    await tx.emit(
        ResultSubmitted(
            result_id=sent.key,
            delivery_id=sent.row["id"],
            channel="lan",
            final=sent.completes,
            lines=lines,
            user=sent.login,
        ),
        sent.row["tenant"],
    )


async def _drop_lines(tx: Tx, row: Doc, logins: tuple[str, ...]) -> None:
    """Tell routing these users' lines no longer count: an empty send replaces their last one."""
    sent = {r["login"] for r in await tx.db.find(repo.RESULTS.name, {"delivery_id": row["id"]})}
    for login in logins:
        if login in sent:  # nothing to drop for a user who sent nothing
            result_id = f"dropped-{uuid.uuid4().hex}"
            await _send(tx, _Sent(row, login, result_id, final=False, completes=False), [])
