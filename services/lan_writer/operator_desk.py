"""What operators do with LAN documents: list and open them, free a document a user left
locked, give it to someone else. Each change goes through the desk's compare-and-set
(:meth:`LanDesk.change`), like the users' own."""

from __future__ import annotations

from typing import Any

from services.lan_writer import locks, result_sends
from services.lan_writer import repository as repo
from services.lan_writer.desk import REASSIGNABLE, CopyNotStored, Decide, LanDesk, log
from services.lan_writer.locks import Lock
from shared.clock import now_iso
from shared.contracts.documents import Target
from shared.contracts.results import DeliveryProgressed
from shared.errors import Refusal
from shared.metrics import LAN_LOCKS
from shared.outbox import Tx
from shared.storage import Doc, Store


class OperatorDesk:
    def __init__(self, desk: LanDesk, store: Store) -> None:
        self._desk = desk
        self._store = store

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
            await result_sends.drop_lines(tx, row, before.logins)
            await tx.emit(
                DeliveryProgressed(
                    delivery_id=row["id"], channel="lan", state="released", by="operator"
                ),
                row["tenant"],
            )
            released = {"reason": reason, "at": now_iso(), "holders": list(before.logins)}
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
                "reassigned": {"from": row["assignee"], "at": now_iso()},
            }

        row, _ = await self._operator_change(delivery_id, decide)
        return row

    async def _operator_change(self, delivery_id: str, decide: Decide) -> tuple[Doc, bool]:
        try:
            return await self._desk.change(delivery_id, decide)
        except CopyNotStored:
            raise Refusal("not_found", 404) from None
