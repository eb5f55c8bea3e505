"""The catalogs of the accounting bases: the registry owns them (they are accounting reference
data of a tenant, as its users and devices are) and announces every change to the copies the
gateway and the LAN writer keep (docs/catalog.md).

A batch is all-or-nothing, in one transaction: its items are checked against the stored
catalog too (a barcode another item keeps, a cell of an unknown warehouse), every item that
really changes gets the next version, an item sent again unchanged gets none (so a repeated
call changes nothing and announces nothing), and the changes leave in ``catalog.changed``
messages bounded in bytes, through the outbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.catalog import chunks
from shared.catalog import repository as repo
from shared.catalog.batch import (
    MAX_ITEMS_PER_CALL,
    Batch,
    CatalogInvalid,
    Item,
    ItemError,
)
from shared.contracts.catalog import CatalogChanged
from shared.outbox import UnitOfWork
from shared.storage import Doc, StorageError

Ref = tuple[str, str]


class Catalogs:
    def __init__(
        self,
        uow: UnitOfWork,
        max_items: int = MAX_ITEMS_PER_CALL,
        message_bytes: int = chunks.MESSAGE_BYTES,
    ) -> None:
        self._uow = uow
        self.max_items = max_items
        self._message_bytes = message_bytes

    async def apply(self, tenant: str, batch: Batch) -> dict[str, Any]:
        store = batch.store
        upserts = list(batch.upserts())
        deletions = [(kind, item_id) for kind, ids in batch.deleted.items() for item_id in ids]
        touched: set[Ref] = {(kind, item["id"]) for kind, item in upserts}
        touched |= set(deletions)
        async with self._uow() as tx:
            head = await repo.head(tx.db, tenant, store)
            start = head["version"] if head else 0
            existing = await repo.items(tx.db, tenant, store, touched | _warehouses_named(batch))
            await self._check(tx.db, tenant, batch, existing, touched)
            rows = _changes(upserts, deletions, existing, start)
            if rows:
                await _move_barcodes(tx.db, tenant, store, rows, existing)
                await repo.put_items(tx.db, tenant, store, rows)
                version = rows[-1]["version"]
                if not await repo.set_head(tx.db, tenant, store, version, start if head else None):
                    raise StorageError("the catalog changed meanwhile; send the batch again")
                for body in chunks.payloads(store, rows, start + 1, version, self._message_bytes):
                    await tx.emit_json(CatalogChanged, body, tenant)
        return {
            "store": store,
            "version": rows[-1]["version"] if rows else start,
            "changed": len(rows),
            "unchanged": batch.size - len(rows),
        }

    async def _check(
        self, db: Any, tenant: str, batch: Batch, existing: dict[Ref, Doc], touched: set[Ref]
    ) -> None:
        errors: list[ItemError] = []
        given = {w["id"] for w in batch.warehouses}
        gone = set(batch.deleted["warehouse"])
        for position, cell in enumerate(batch.cells, start=1):
            warehouse = cell["warehouse"]
            stored = existing.get(("warehouse", warehouse))
            known = warehouse in given or (stored is not None and not stored["deleted"])
            if not known or warehouse in gone:
                errors.append(
                    ItemError(
                        "cell",
                        position,
                        cell["id"],
                        "warehouse",
                        "catalog_warehouse_unknown",
                        {"warehouse": warehouse},
                    )
                )
        claims = batch.claims
        owners = await repo.barcode_owners(db, tenant, batch.store, [c[3] for c in claims])
        for kind, position, item_id, code in claims:
            owner = owners.get(code)
            if owner is not None and owner != (kind, item_id) and owner not in touched:
                errors.append(
                    ItemError(
                        kind,
                        position,
                        item_id,
                        "barcode" if kind == "cell" else "barcodes",
                        "catalog_barcode_duplicate",
                        {"barcode": code, "other": owner[1]},
                    )
                )
        if errors:
            raise CatalogInvalid(errors)

    async def changes(
        self, tenant: str, store: str, since: int, limit: int
    ) -> CatalogChanged | None:
        """What changed after ``since``, for a copy catching up: one message's worth (None
        when nothing did)."""
        async with self._uow() as tx:
            head = await repo.head(tx.db, tenant, store)
            last = head["version"] if head else 0
            rows = await repo.page(tx.db, tenant, store, since, limit)
        if since >= last:
            return None
        run = list(next(chunks.cut(rows, self._message_bytes), []))
        complete = len(run) == len(rows) and len(rows) < limit
        end = last if complete or not run else run[-1]["version"]
        return chunks.message(store, run, since + 1, end)

    async def heads(self) -> list[dict[str, Any]]:
        async with self._uow() as tx:
            found = await repo.all_heads(tx.db)
        return [
            {"tenant": h["tenant"], "store": h["store"], "version": h["version"]} for h in found
        ]


def _warehouses_named(batch: Batch) -> set[Ref]:
    return {("warehouse", cell["warehouse"]) for cell in batch.cells}


def _changes(
    upserts: Sequence[tuple[str, Item]],
    deletions: Sequence[Ref],
    existing: dict[Ref, Doc],
    start: int,
) -> list[Doc]:
    """The rows that really change, each at the next version."""
    rows: list[Doc] = []
    version = start
    for kind, data in upserts:
        old = existing.get((kind, data["id"]))
        if old is not None and not old["deleted"] and chunks.data_of(old) == data:
            continue
        version += 1
        rows.append(chunks.item_row(kind, data["id"], version, data))
    for kind, item_id in deletions:
        old = existing.get((kind, item_id))
        if old is None or old["deleted"]:
            continue
        version += 1
        rows.append(chunks.item_row(kind, item_id, version, None))
    return rows


def _codes(row: Doc | None) -> set[str]:
    if row is None or row["deleted"]:
        return set()
    if row["kind"] == "product":
        return {b["barcode"] for b in chunks.data_of(row)["barcodes"]}
    if row["kind"] == "cell":
        barcode = chunks.data_of(row).get("barcode")
        return {barcode} if barcode else set()
    return set()


async def _move_barcodes(
    db: Any, tenant: str, store: str, rows: list[Doc], existing: dict[Ref, Doc]
) -> None:
    """Free the barcodes items lost, then claim the ones they gained: a barcode moving from
    one item to another in the same batch ends with the second."""
    claims: list[tuple[str, str, str]] = []
    for row in rows:
        kind, item_id = ref = (row["kind"], row["item_id"])
        old = existing.get(ref)
        if row["deleted"] or (old is not None and not old["deleted"]):
            had, has = _codes(old), _codes(row)
            for code in had - has:
                await repo.release_barcode(db, tenant, store, code, kind, item_id)
            claims.extend((code, kind, item_id) for code in has - had)
        else:  # a new item (or one back from deletion) frees nothing: it claims what it has
            claims.extend((code, kind, item_id) for code in _codes(row))
    await repo.claim_barcodes(db, tenant, store, claims)
