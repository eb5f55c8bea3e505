"""The registry's catalogs on real SQLite: versions, tombstones, barcodes moving between
products, all-or-nothing batches, and the changes leaving in messages bounded in bytes that a
copy applies in any order to the same result, serving terminals only what has no gap below."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from services.registry.catalog import Catalogs
from shared.catalog import chunks
from shared.catalog import repository as repo
from shared.catalog.batch import CatalogInvalid, read_batch
from shared.catalog.replica import apply_changes
from shared.catalog.sync import SyncQuery, page
from shared.contracts.catalog import CatalogChanged
from shared.outbox import COLLECTIONS as OUTBOX_COLLECTIONS
from shared.outbox import OUTBOX, UnitOfWork, stored_envelope
from shared.storage.sqlite import SQLiteStore
from tests.support.catalog import product


async def sync_page(copy: SQLiteStore, tenant: str, query: SyncQuery) -> dict[str, Any]:
    """The page as a terminal reads it (its items are stored JSON until it is written)."""
    body: dict[str, Any] = orjson.loads(orjson.dumps(await page(copy, tenant, query)))
    return body


async def _store(path: Path, collections: Any) -> SQLiteStore:
    store = SQLiteStore(path)
    await store.open([*OUTBOX_COLLECTIONS, *collections])
    return store


@pytest.fixture
async def owner(tmp_path: Path) -> Any:
    store = await _store(tmp_path / "registry.db", repo.OWNER_COLLECTIONS)
    yield store
    await store.close()


async def sent(store: SQLiteStore) -> list[CatalogChanged]:
    """The catalog messages in the outbox, taken out of it."""
    rows = await store.find(OUTBOX.name, order_by="seq")
    for row in rows:
        await store.delete(OUTBOX.name, row["id"])
    return [CatalogChanged.model_validate(stored_envelope(r)["payload"]) for r in rows]


async def test_changes_leave_in_bounded_messages_a_copy_applies_in_any_order(
    owner: SQLiteStore, tmp_path: Path
) -> None:
    catalogs = Catalogs(UnitOfWork(owner, None), message_bytes=4000)
    await catalogs.apply("t", read_batch({"products": [product(n, box=6) for n in range(1, 41)]}))
    await catalogs.apply(
        "t",
        read_batch(
            {
                "products": [product(2, name="Переименован")],
                "delete": {"products": ["p-3"]},
            }
        ),
    )
    messages = await sent(owner)
    assert len(messages) >= 5
    assert all(len(orjson.dumps(m.model_dump(mode="json"))) <= 4000 for m in messages)

    copy = await _store(tmp_path / "copy.db", repo.COPY_COLLECTIONS)
    shuffled = messages[:]
    random.Random(7).shuffle(shuffled)
    for message in shuffled:
        async with copy.transaction() as db:
            await apply_changes(db, "t", message)
    assert (await repo.coverage(copy, "t", "")).version == 42
    rows = await repo.page(copy, "t", "", 0, 100)
    live = {r["item_id"]: r for r in rows if not r["deleted"]}
    assert len(live) == 39 and chunks.data_of(live["p-2"])["name"] == "Переименован"
    assert [r["item_id"] for r in rows if r["deleted"]] == ["p-3"]
    # A message applied again (redelivered, or late) changes nothing.
    async with copy.transaction() as db:
        assert await apply_changes(db, "t", messages[0]) == 0
    await copy.close()


async def test_a_barcode_moves_between_products_in_one_batch_but_not_across_batches(
    owner: SQLiteStore,
) -> None:
    catalogs = Catalogs(UnitOfWork(owner, None))
    await catalogs.apply("t", read_batch({"products": [product(1), product(2)]}))
    taken = {**product(2), "barcodes": [{"barcode": "4600000000001"}]}  # p-1's
    with pytest.raises(CatalogInvalid) as caught:
        await catalogs.apply("t", read_batch({"products": [taken]}))
    assert [(e.item_id, e.code) for e in caught.value.errors] == [
        ("p-2", "catalog_barcode_duplicate")
    ]
    moved = await catalogs.apply(
        "t", read_batch({"products": [{**product(1), "barcodes": []}, taken]})
    )
    assert moved == {"store": "", "version": 4, "changed": 2, "unchanged": 0}
    owners = await repo.barcode_owners(owner, "t", "", ["4600000000001", "4600000000002"])
    assert owners == {"4600000000001": ("product", "p-2")}
    # A deleted product frees its barcodes.
    await catalogs.apply("t", read_batch({"delete": {"products": ["p-2"]}}))
    assert await repo.barcode_owners(owner, "t", "", ["4600000000001"]) == {}


async def test_a_refused_batch_changes_nothing_and_sends_nothing(owner: SQLiteStore) -> None:
    catalogs = Catalogs(UnitOfWork(owner, None))
    await catalogs.apply("t", read_batch({"warehouses": [{"id": "wh", "name": "Склад"}]}))
    await sent(owner)
    batch = read_batch(
        {
            "products": [product(1)],
            "cells": [{"id": "c-1", "warehouse": "nowhere"}],
        }
    )
    with pytest.raises(CatalogInvalid) as caught:
        await catalogs.apply("t", batch)
    assert [(e.item_id, e.code) for e in caught.value.errors] == [
        ("c-1", "catalog_warehouse_unknown")
    ]
    assert await sent(owner) == []
    head = await repo.head(owner, "t", "")
    assert head is not None and head["version"] == 1
    assert await repo.page(owner, "t", "", 1, 10) == []


async def test_a_copy_catches_up_page_by_page_from_the_owner(
    owner: SQLiteStore, tmp_path: Path
) -> None:
    catalogs = Catalogs(UnitOfWork(owner, None), message_bytes=3000)
    await catalogs.apply("t", read_batch({"products": [product(n) for n in range(1, 31)]}))
    await catalogs.apply("t", read_batch({"delete": {"products": ["p-1"]}}))
    copy = await _store(tmp_path / "copy.db", repo.COPY_COLLECTIONS)
    since, pages = 0, 0
    while (changed := await catalogs.changes("t", "", since, limit=8)) is not None:
        async with copy.transaction() as db:
            await apply_changes(db, "t", changed)
        since, pages = changed.last, pages + 1
    assert pages >= 4
    assert (await repo.coverage(copy, "t", "")).version == 31
    assert await catalogs.heads() == [{"tenant": "t", "store": "", "version": 31}]
    await copy.close()


async def test_a_copy_serves_nothing_beyond_a_gap_and_resets_a_terminal_ahead_of_it(
    owner: SQLiteStore, tmp_path: Path
) -> None:
    catalogs = Catalogs(UnitOfWork(owner, None))
    await catalogs.apply("t", read_batch({"products": [product(1), product(2)]}))
    await catalogs.apply("t", read_batch({"products": [product(3)]}))
    first, second = await sent(owner)
    copy = await _store(tmp_path / "copy.db", repo.COPY_COLLECTIONS)

    async with copy.transaction() as db:
        await apply_changes(db, "t", second)  # the later message arrives first
    page = await sync_page(copy, "t", SyncQuery(since=0))
    assert (page["version"], page["head"], page["products"]) == (0, 0, [])

    async with copy.transaction() as db:
        await apply_changes(db, "t", first)
    page = await sync_page(copy, "t", SyncQuery(since=0))
    assert [p["id"] for p in page["products"]] == ["p-1", "p-2", "p-3"]
    assert (page["version"], page["more"], page["reset"]) == (3, False, False)

    ahead = await sync_page(copy, "t", SyncQuery(since=7))
    assert ahead["reset"] is True and len(ahead["products"]) == 3
    assert (await sync_page(copy, "other", SyncQuery(since=0)))["products"] == []
    await copy.close()
