"""What operators do with LAN documents: list and open them, free a document a user left
locked, give it to someone else. Each change goes through
:class:`~services.lan_writer.copy_changes.CopyChanges`, like the users' own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from services.lan_writer import locks, result_merging
from services.lan_writer import repository as repo
from services.lan_writer.copy_changes import CopyChanges
from services.lan_writer.repository import LanCopy
from shared.clock import now_iso
from shared.contracts.documents import Target
from shared.contracts.results import DeliveryProgressed
from shared.errors import Refusal
from shared.logging import get_logger
from shared.metrics import LAN_LOCKS
from shared.outbox import Tx
from shared.storage import Store

log = get_logger("tsdx.lan_writer")

# Whom an operator may give a document to (a PIN is an internet-channel notion).
REASSIGNABLE = ("user", "group", "everyone", "device")


class OperatorActions:
    def __init__(self, changes: CopyChanges, store: Store) -> None:
        self._changes = changes
        self._store = store

    async def copies(self, tenant: str, states: Sequence[str] = ()) -> list[LanCopy]:
        return await repo.copies_of(self._store, tenant, states)

    async def copy(self, delivery_id: str) -> LanCopy:
        copy = await repo.copy(self._store, delivery_id)
        if copy is None:
            raise Refusal("not_found", 404)
        return copy

    async def force_release(self, delivery_id: str, reason: str) -> LanCopy:
        async def decide(tx: Tx, copy: LanCopy) -> LanCopy | None:
            before = copy.lock
            after = locks.force_release(before, reason)
            await result_merging.drop_lines(tx, copy, before.logins)
            await tx.emit(
                DeliveryProgressed(
                    delivery_id=copy.id, channel="lan", state="released", by="operator"
                ),
                copy.tenant,
            )
            released = {"reason": reason, "at": now_iso(), "holders": list(before.logins)}
            return replace(copy, lock=after, released=released)

        copy, _ = await self._changes.by_operator(delivery_id, decide)
        LAN_LOCKS.labels("force_released").inc()
        log.info("lan.lock_force_released", delivery_id=delivery_id, **dict(copy.released or {}))
        return copy

    async def reassign(self, delivery_id: str, target: Target) -> LanCopy:
        if target.kind not in REASSIGNABLE:
            raise Refusal("target_not_allowed_on_channel", 422, target=target.kind, channel="lan")
        if target.kind != "everyone" and not target.value:
            raise Refusal("target_incomplete", 422, target=target.kind)
        assignee = repo.assignee_key(target)

        async def decide(tx: Tx, copy: LanCopy) -> LanCopy | None:
            locks.check_reassignable(copy.lock)
            if copy.assignee == assignee:
                return None
            reassigned = {"from": copy.assignee, "at": now_iso()}
            return replace(copy, assignee=assignee, reassigned=reassigned)

        copy, _ = await self._changes.by_operator(delivery_id, decide)
        return copy
