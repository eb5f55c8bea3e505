"""The storage port's contract, run against every adapter reachable (see conftest.py)."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pytest
from pymongo import ASCENDING, AsyncMongoClient

from services.gateway import repository as gateway_repository
from services.lan_writer import repository as lan_writer_repository
from services.registry import repository as registry_repository
from services.routing import repository as routing_repository
from shared import outbox
from shared.catalog import repository as catalog_repository
from shared.outbox_relay import SCAN_FLOOR
from shared.storage import (
    Collection,
    DuplicateKeyError,
    Index,
    JsonText,
    StorageError,
    Store,
    Where,
)
from shared.storage.mongo import find_filter
from shared.storage.sqlite import find_sql

if TYPE_CHECKING:
    from tests.contract.conftest import Target

ITEMS = Collection(
    "items",
    (
        Index(("kind",)),
        Index(("code",), unique=True),
        Index(("meta.group",)),
        Index(("tenant", "status")),
        Index(("rank",)),
    ),
)
# A PIN is unique among active devices only, as in the registry.
DEVICES = Collection("devices", (Index(("pin",), unique=True, where={"status": "active"}),))
JOBS = Collection("jobs", (Index(("state",)),))
COUNTERS = Collection("counters")
ATTEMPTS = Collection("attempts")
COLLECTIONS = (ITEMS, DEVICES, JOBS, COUNTERS, ATTEMPTS)

# What each service opens its store with: their queries must be served by an index.
SERVICE_COLLECTIONS: dict[str, Sequence[Collection]] = {
    "registry": registry_repository.COLLECTIONS,
    "gateway": gateway_repository.COLLECTIONS,
    "routing": routing_repository.COLLECTIONS,
    "lan_writer": lan_writer_repository.COLLECTIONS,
    "outbox": outbox.COLLECTIONS,
}

NESTED = {
    "id": "doc-1",
    "title": "Приходная накладная № 42 от «ООО Ромашка»",
    "amount": "1234.50",  # decimals travel as strings so that no digit is lost
    "header": {
        "warehouse": {"code": "СКЛ-1", "name": "Основной склад"},
        "confirmed": True,
        "closed": False,
        "comment": None,
    },
    "lines": [
        {"sku": "4601234567890", "qty": "12.000", "unit": "шт", "marks": ["0104601234567890"]},
        {"sku": "4609876543210", "qty": "0.125", "unit": "кг", "marks": []},
    ],
    "flags": [True, False, None],
    "empty": {},
    "count": 3,
    "ratio": 0.25,
}

ROWS = [
    {
        "id": "i1",
        "kind": "box",
        "code": "C1",
        "meta": {"group": "g1"},
        "tenant": "t1",
        "status": "active",
        "rank": 3,
        "flag": True,
        "note": "x",
    },
    {
        "id": "i2",
        "kind": "box",
        "code": "C2",
        "meta": {"group": "g2"},
        "tenant": "t1",
        "status": "retired",
        "rank": 1,
        "flag": False,
        "note": None,
    },
    # i3 has no "note" at all: a None match covers a missing field as well as a null one.
    {
        "id": "i3",
        "kind": "pallet",
        "code": "C3",
        "meta": {"group": "g1"},
        "tenant": "t2",
        "status": "active",
        "rank": 5,
        "flag": True,
    },
    {
        "id": "i4",
        "kind": "crate",
        "code": "C4",
        "meta": {"group": "g3"},
        "tenant": "t1",
        "status": "active",
        "rank": 2,
        "flag": False,
        "note": "y",
    },
    {
        "id": "i5",
        "kind": "pallet",
        "code": "C5",
        "meta": {"group": "g2"},
        "tenant": "t2",
        "status": "retired",
        "rank": 4,
        "flag": True,
        "note": "x",
    },
]

BAD_FIELDS = [
    "kind; DROP TABLE c_items",
    "kind') OR 1=1 --",
    "kind' OR '1'='1",
    'kind"',
    "$where",
    "meta.$ne",
    "kind[0]",
    "with space",
    "1kind",
    "kind.",
    ".kind",
    "meta..group",
    "",
    "поле",
]


@pytest.fixture
def collections() -> Sequence[Collection]:
    return COLLECTIONS


@pytest.fixture
async def rows(store: Store) -> list[dict[str, Any]]:
    for row in ROWS:
        await store.insert(ITEMS.name, row)
    return ROWS


def ids(docs: list[dict[str, Any]]) -> list[str]:
    return [d["id"] for d in docs]


# --- query plans -----------------------------------------------------------------------------


def sqlite_plan(path: Path, sql: str, params: Sequence[Any]) -> str:
    """EXPLAIN QUERY PLAN of the adapter's own SQL, on the same file, through stdlib sqlite3."""
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", list(params)).fetchall()
    return " | ".join(row[-1] for row in rows)


async def mongo_plan(
    target: Target,
    collection: str,
    where: Where,
    order_by: str | None,
    limit: int | None,
    above: tuple[str, int] | None = None,
) -> str:
    assert target.mongo is not None
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(target.mongo.url)
    query = find_filter(where)
    if above is not None:
        query[above[0]] = {"$gt": above[1]}
    try:
        cursor = client[target.database][collection].find(query)
        if order_by:
            cursor = cursor.sort(order_by, ASCENDING)
        if limit:
            cursor = cursor.limit(limit)
        explained = await cursor.explain()
    finally:
        await client.close()
    return json.dumps(explained["queryPlanner"]["winningPlan"], default=str)


async def query_plan(
    target: Target,
    collection: str,
    where: Where,
    order_by: str | None = None,
    limit: int | None = None,
    above: tuple[str, int] | None = None,
) -> str:
    if target.path is not None:
        sql, params = find_sql(collection, where, order_by=order_by, limit=limit, above=above)
        return sqlite_plan(target.path, sql, params)
    return await mongo_plan(target, collection, where, order_by, limit, above)


def uses_index(target: Target, plan: str) -> bool:
    if target.path is not None:
        # "SEARCH t USING INDEX i (...)"; a scan in index order also reads "USING INDEX".
        return "USING INDEX" in plan or "USING COVERING INDEX" in plan
    return "IXSCAN" in plan and "COLLSCAN" not in plan


async def index_names(target: Target, collection: str) -> set[str]:
    if target.path is not None:
        with closing(sqlite3.connect(target.path)) as conn:
            found = conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?",
                (f"c_{collection}",),
            ).fetchall()
        # The primary key's own index is internal; only declared indexes are compared.
        return {name for (name,) in found if not name.startswith("sqlite_autoindex")}
    assert target.mongo is not None
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(target.mongo.url)
    try:
        info = await client[target.database][collection].index_information()
    finally:
        await client.close()
    return set(info) - {"_id_"}


def declared_index_names(target: Target, collection: Collection) -> set[str]:
    if target.path is not None:
        return {f"{collection.name}_{index.name}" for index in collection.indexes}
    return {index.name for index in collection.indexes}


# --- round trip --------------------------------------------------------------------------------


async def test_insert_then_get_returns_the_same_nested_json(store: Store) -> None:
    sent = copy.deepcopy(NESTED)
    await store.insert(ITEMS.name, sent)

    got = await store.get(ITEMS.name, "doc-1")

    assert got == NESTED
    assert sent == NESTED  # the caller's document is not altered
    assert got is not None
    assert got["amount"] == "1234.50" and Decimal(got["amount"]) == Decimal("1234.50")
    assert got["header"]["confirmed"] is True and got["header"]["closed"] is False
    assert got["flags"] == [True, False, None] and got["flags"][0] is True
    assert got["title"] == "Приходная накладная № 42 от «ООО Ромашка»"


async def test_json_text_is_kept_as_that_json_or_as_its_text(target: Target, store: Store) -> None:
    body = orjson.dumps(NESTED)
    await store.insert(ITEMS.name, {"id": "raw-1", "body": JsonText(body), "n": 1})

    got = await store.get(ITEMS.name, "raw-1")

    assert got is not None and got["n"] == 1
    if target.adapter == "sqlite":  # embedded as the JSON it is
        assert got["body"] == NESTED
    else:  # BSON keeps it as its text
        assert got["body"] == body.decode()


async def test_get_of_an_unknown_id_is_none(store: Store) -> None:
    assert await store.get(ITEMS.name, "nobody") is None


# --- unique indexes ----------------------------------------------------------------------------


async def test_a_duplicate_id_is_refused_and_changes_nothing(store: Store) -> None:
    await store.insert(ITEMS.name, ROWS[0])

    with pytest.raises(DuplicateKeyError):
        await store.insert(ITEMS.name, {**ROWS[0], "code": "C-other", "kind": "changed"})

    assert await store.get(ITEMS.name, "i1") == ROWS[0]
    assert await store.count(ITEMS.name) == 1


async def test_a_declared_unique_index_refuses_duplicates(store: Store) -> None:
    await store.insert(ITEMS.name, ROWS[0])
    await store.insert(ITEMS.name, ROWS[1])

    with pytest.raises(DuplicateKeyError):
        await store.insert(ITEMS.name, {**ROWS[2], "code": "C1"})
    with pytest.raises(DuplicateKeyError):
        await store.update(ITEMS.name, "i2", {"code": "C1"})
    with pytest.raises(DuplicateKeyError):
        await store.put(ITEMS.name, {**ROWS[1], "code": "C1"})

    assert await store.get(ITEMS.name, "i1") == ROWS[0]
    assert await store.get(ITEMS.name, "i2") == ROWS[1]
    assert await store.count(ITEMS.name) == 2


@pytest.mark.needs("partial_indexes")
async def test_a_partial_unique_index_binds_active_documents_only(store: Store) -> None:
    await store.insert(DEVICES.name, {"id": "d1", "pin": "1234", "status": "active"})

    with pytest.raises(DuplicateKeyError):
        await store.insert(DEVICES.name, {"id": "d2", "pin": "1234", "status": "active"})
    # Retired devices may share the PIN with an active one and with each other.
    await store.insert(DEVICES.name, {"id": "d3", "pin": "1234", "status": "retired"})
    await store.insert(DEVICES.name, {"id": "d4", "pin": "1234", "status": "retired"})
    with pytest.raises(DuplicateKeyError):
        await store.update(DEVICES.name, "d3", {"status": "active"})

    retired = await store.update(
        DEVICES.name, "d1", {"status": "retired"}, expect={"status": "active"}
    )
    assert retired is True
    assert await store.update(DEVICES.name, "d3", {"status": "active"})
    active = await store.find(DEVICES.name, {"pin": "1234", "status": "active"})
    assert ids(active) == ["d3"]
    assert await store.get(DEVICES.name, "d2") is None
    assert await store.count(DEVICES.name) == 3


# --- find and count ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        pytest.param({"kind": "box"}, {"i1", "i2"}, id="indexed-field"),
        pytest.param({"kind": "barrel"}, set(), id="no-match"),
        pytest.param({"meta.group": "g1"}, {"i1", "i3"}, id="dotted-nested-field"),
        pytest.param({"kind": ["box", "crate"]}, {"i1", "i2", "i4"}, id="list-is-any-of"),
        pytest.param({"kind": []}, set(), id="empty-list-matches-nothing"),
        pytest.param({"id": ["i1", "i5", "zz"]}, {"i1", "i5"}, id="ids-any-of"),
        pytest.param(
            {"note": None},
            {"i2", "i3"},
            id="none-is-null-or-missing",
            marks=pytest.mark.needs("null_semantics"),
        ),
        pytest.param({"note": ["y", None]}, {"i2", "i3", "i4"}, id="any-of-with-none"),
        pytest.param({"flag": True}, {"i1", "i3", "i5"}, id="boolean-true"),
        pytest.param({"flag": False}, {"i2", "i4"}, id="boolean-false"),
        pytest.param({"tenant": "t1", "status": "active"}, {"i1", "i4"}, id="compound-index"),
        pytest.param({"meta.group": "g2", "flag": True}, {"i5"}, id="nested-and-boolean"),
        pytest.param({}, {"i1", "i2", "i3", "i4", "i5"}, id="everything"),
    ],
)
async def test_find_and_count_match_by_equality(
    store: Store, rows: list[dict[str, Any]], where: Where, expected: set[str]
) -> None:
    found = await store.find(ITEMS.name, where)

    assert set(ids(found)) == expected
    assert len(found) == len(expected)
    by_id = {row["id"]: row for row in rows}
    assert all(doc == by_id[doc["id"]] for doc in found)
    assert await store.count(ITEMS.name, where) == len(expected)


@pytest.mark.parametrize(
    ("where", "order_by", "descending", "limit", "expected"),
    [
        pytest.param(None, "rank", False, None, ["i2", "i4", "i1", "i5", "i3"], id="ascending"),
        pytest.param(None, "rank", True, None, ["i3", "i5", "i1", "i4", "i2"], id="descending"),
        pytest.param(None, "rank", False, 2, ["i2", "i4"], id="ascending-limit"),
        pytest.param(None, "rank", True, 2, ["i3", "i5"], id="descending-limit"),
        pytest.param(None, "id", True, 3, ["i5", "i4", "i3"], id="by-id"),
        pytest.param(None, "meta.group", True, 1, ["i4"], id="by-nested-field"),
        pytest.param({"tenant": "t1"}, "rank", True, 2, ["i1", "i4"], id="where-order-limit"),
        pytest.param(None, "rank", False, 0, [], id="limit-zero-is-nothing"),
    ],
)
async def test_find_orders_and_limits(
    store: Store,
    rows: list[dict[str, Any]],
    where: Where | None,
    order_by: str,
    descending: bool,
    limit: int | None,
    expected: list[str],
) -> None:
    found = await store.find(
        ITEMS.name, where, order_by=order_by, descending=descending, limit=limit
    )

    assert ids(found) == expected


@pytest.mark.parametrize(
    ("where", "above", "limit", "expected"),
    [
        pytest.param(None, ("rank", 3), None, ["i5", "i3"], id="above"),
        pytest.param({"tenant": "t1"}, ("rank", 1), None, ["i4", "i1"], id="where-and-above"),
        pytest.param({"tenant": "t1"}, ("rank", 1), 1, ["i4"], id="a-page"),
        pytest.param(None, ("rank", 5), None, [], id="nothing-above-the-top"),
        pytest.param(None, ("rank", 0), None, ["i2", "i4", "i1", "i5", "i3"], id="all"),
    ],
)
async def test_find_above_a_value_pages_in_order(
    store: Store,
    rows: list[dict[str, Any]],
    where: Where | None,
    above: tuple[str, int],
    limit: int | None,
    expected: list[str],
) -> None:
    found = await store.find(ITEMS.name, where, above=above, order_by="rank", limit=limit)

    assert ids(found) == expected


@pytest.mark.parametrize("above", [("rank; --", 1), ("rank", True), ("rank", 1.5), ("rank", None)])
async def test_a_bad_lower_bound_is_refused_before_any_query(
    store: Store, rows: list[dict[str, Any]], above: Any
) -> None:
    with pytest.raises(ValueError):
        await store.find(ITEMS.name, above=above)


@pytest.mark.needs("query_plans")
async def test_a_catalog_page_is_served_by_its_index_in_order(target: Target) -> None:
    await target.open(registry_repository.COLLECTIONS)
    where = {"tenant": "t", "store": ""}

    plan = await query_plan(
        target, catalog_repository.ITEMS.name, where, "version", 100, ("version", 5)
    )

    assert uses_index(target, plan), plan
    assert "TEMP B-TREE" not in plan, plan


async def test_count_of_an_empty_collection_is_zero(store: Store) -> None:
    assert await store.count(ITEMS.name) == 0
    assert await store.find(ITEMS.name, {"kind": "box"}) == []


# --- compare-and-set ---------------------------------------------------------------------------


JOB = {"id": "j1", "state": "queued", "owner": None, "attempts": 0, "payload": {"lines": 3}}


async def test_update_with_a_met_expectation_sets_the_changes(store: Store) -> None:
    await store.insert(JOBS.name, JOB)

    changed = await store.update(
        JOBS.name,
        "j1",
        {"state": "taken", "owner": "терминал-7", "lease": {"until": "2025-01-01T00:00:00Z"}},
        expect={"state": "queued", "owner": None, "payload.lines": 3},
    )

    assert changed is True
    assert await store.get(JOBS.name, "j1") == {
        **JOB,
        "state": "taken",
        "owner": "терминал-7",
        "lease": {"until": "2025-01-01T00:00:00Z"},
    }


async def test_update_without_expectation_sets_the_changes(store: Store) -> None:
    await store.insert(JOBS.name, JOB)

    assert await store.update(JOBS.name, "j1", {"attempts": 1, "owner": None}) is True

    assert await store.get(JOBS.name, "j1") == {**JOB, "attempts": 1}


@pytest.mark.parametrize(
    "expect",
    [
        pytest.param({"state": "taken"}, id="other-value"),
        pytest.param({"state": "queued", "owner": "someone"}, id="one-of-two-unmet"),
        pytest.param({"payload.lines": 4}, id="nested-unmet"),
        pytest.param({"state": ["taken", "done"]}, id="none-of-the-list"),
    ],
)
async def test_update_with_an_unmet_expectation_changes_nothing(
    store: Store, expect: Where
) -> None:
    await store.insert(JOBS.name, JOB)

    changed = await store.update(JOBS.name, "j1", {"state": "done", "owner": "w"}, expect=expect)

    assert changed is False
    assert await store.get(JOBS.name, "j1") == JOB


async def test_update_of_an_unknown_id_is_false_and_creates_nothing(store: Store) -> None:
    assert await store.update(JOBS.name, "nobody", {"state": "taken"}) is False
    assert await store.update(JOBS.name, "nobody", {"state": "x"}, expect={"state": None}) is False

    assert await store.get(JOBS.name, "nobody") is None
    assert await store.count(JOBS.name) == 0


async def test_an_expectation_cannot_retarget_the_update(store: Store) -> None:
    await store.insert(JOBS.name, JOB)
    await store.insert(JOBS.name, {**JOB, "id": "j2"})

    assert await store.update(JOBS.name, "j1", {"state": "taken"}, expect={"id": "j2"}) is True
    assert await store.delete(JOBS.name, "j2", expect={"id": "j1"}) is True

    assert await store.get(JOBS.name, "j1") == {**JOB, "state": "taken"}
    assert await store.get(JOBS.name, "j2") is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({}, "at least one change", id="empty"),
        pytest.param({"id": "j9"}, "cannot change the id", id="id"),
        pytest.param({"state": "x", "id": "j9"}, "cannot change the id", id="id-among-others"),
    ],
)
async def test_update_refuses_bad_changes(
    store: Store, changes: dict[str, Any], message: str
) -> None:
    await store.insert(JOBS.name, JOB)

    with pytest.raises(ValueError, match=message):
        await store.update(JOBS.name, "j1", changes)

    assert await store.get(JOBS.name, "j1") == JOB
    assert await store.get(JOBS.name, "j9") is None


async def test_only_one_of_fifty_concurrent_takers_wins(target: Target, store: Store) -> None:
    other = await target.open(COLLECTIONS)  # a second connection to the same data
    await store.insert(JOBS.name, JOB)

    async def take(n: int) -> bool:
        db = store if n % 2 else other
        return await db.update(
            JOBS.name, "j1", {"state": "taken", "owner": f"w{n}"}, expect={"state": "queued"}
        )

    outcomes = await asyncio.gather(*(take(n) for n in range(50)))

    assert outcomes.count(True) == 1
    winner = outcomes.index(True)
    assert await store.get(JOBS.name, "j1") == {**JOB, "state": "taken", "owner": f"w{winner}"}


async def test_a_counter_incremented_by_twenty_read_then_cas_loops_ends_at_twenty(
    target: Target, store: Store
) -> None:
    other = await target.open(COLLECTIONS)
    await store.insert(COUNTERS.name, {"id": "c", "n": 0})
    # Every task reads before any writes, so the first round is sure to collide.
    all_read = asyncio.Barrier(20)
    conflicts = 0

    async def increment(n: int) -> None:
        nonlocal conflicts
        db = store if n % 2 else other
        first = True
        for _ in range(1000):
            doc = await db.get(COUNTERS.name, "c")
            assert doc is not None
            if first:
                await all_read.wait()
                first = False
            if await db.update(COUNTERS.name, "c", {"n": doc["n"] + 1}, expect={"n": doc["n"]}):
                return
            conflicts += 1
        raise AssertionError("the counter was never incremented")

    await asyncio.gather(*(increment(n) for n in range(20)))

    assert await store.get(COUNTERS.name, "c") == {"id": "c", "n": 20}
    assert conflicts >= 19  # the CAS did refuse stale reads


# --- put and delete ----------------------------------------------------------------------------


async def test_put_inserts_then_wholly_replaces(store: Store) -> None:
    await store.put(JOBS.name, JOB)
    assert await store.get(JOBS.name, "j1") == JOB

    replacement = {"id": "j1", "state": "done", "result": {"ok": True}}
    await store.put(JOBS.name, replacement)

    assert await store.get(JOBS.name, "j1") == replacement  # fields not in it are gone
    assert await store.count(JOBS.name) == 1
    assert ids(await store.find(JOBS.name, {"state": "done"})) == ["j1"]
    assert await store.find(JOBS.name, {"state": "queued"}) == []


async def test_put_many_inserts_and_replaces_each_document(store: Store) -> None:
    await store.insert(JOBS.name, {"id": "j1", "state": "old", "extra": 1})
    await store.put_many(
        JOBS.name, [{"id": "j1", "state": "new"}, {"id": "j2", "state": "new", "n": [1, 2]}]
    )
    await store.put_many(JOBS.name, [])

    assert await store.get(JOBS.name, "j1") == {"id": "j1", "state": "new"}
    assert await store.get(JOBS.name, "j2") == {"id": "j2", "state": "new", "n": [1, 2]}
    assert await store.count(JOBS.name) == 2


@pytest.mark.needs("transactions")
async def test_put_many_breaking_a_unique_index_rolls_its_transaction_back(
    store: Store,
) -> None:
    await store.insert(ITEMS.name, {"id": "a", "code": "C1"})
    with pytest.raises(DuplicateKeyError):
        async with store.transaction() as db:
            await db.put_many(ITEMS.name, [{"id": "b", "code": "C2"}, {"id": "c", "code": "C1"}])

    assert await store.get(ITEMS.name, "b") is None
    assert await store.get(ITEMS.name, "c") is None
    assert await store.count(ITEMS.name) == 1


async def test_insert_many_inserts_each_new_document(store: Store) -> None:
    await store.insert_many(
        JOBS.name, [{"id": "j1", "state": "new"}, {"id": "j2", "state": "new", "n": [1, 2]}]
    )
    await store.insert_many(JOBS.name, [])

    assert await store.get(JOBS.name, "j1") == {"id": "j1", "state": "new"}
    assert await store.get(JOBS.name, "j2") == {"id": "j2", "state": "new", "n": [1, 2]}
    assert await store.count(JOBS.name) == 2


async def test_insert_many_refuses_a_taken_id_and_never_overwrites(store: Store) -> None:
    await store.insert(JOBS.name, {"id": "j1", "state": "old"})

    with pytest.raises(DuplicateKeyError):
        await store.insert_many(JOBS.name, [{"id": "j1", "state": "new"}])

    assert await store.get(JOBS.name, "j1") == {"id": "j1", "state": "old"}
    assert await store.count(JOBS.name) == 1


@pytest.mark.needs("transactions")
async def test_insert_many_with_a_taken_id_rolls_its_transaction_back(store: Store) -> None:
    await store.insert(JOBS.name, {"id": "j2", "state": "old"})
    with pytest.raises(DuplicateKeyError):
        async with store.transaction() as db:
            await db.insert_many(
                JOBS.name, [{"id": "j1", "state": "new"}, {"id": "j2", "state": "new"}]
            )

    assert await store.get(JOBS.name, "j1") is None
    assert await store.get(JOBS.name, "j2") == {"id": "j2", "state": "old"}
    assert await store.count(JOBS.name) == 1


@pytest.mark.needs("transactions")
async def test_insert_many_breaking_a_unique_index_rolls_its_transaction_back(
    store: Store,
) -> None:
    await store.insert(ITEMS.name, {"id": "a", "code": "C1"})
    with pytest.raises(DuplicateKeyError):
        async with store.transaction() as db:
            await db.insert_many(ITEMS.name, [{"id": "b", "code": "C2"}, {"id": "c", "code": "C1"}])

    assert await store.get(ITEMS.name, "b") is None
    assert await store.count(ITEMS.name) == 1


async def test_delete_without_expectation(store: Store) -> None:
    await store.insert(JOBS.name, JOB)

    assert await store.delete(JOBS.name, "j1") is True
    assert await store.get(JOBS.name, "j1") is None
    assert await store.delete(JOBS.name, "j1") is False


async def test_delete_with_expectation(store: Store) -> None:
    await store.insert(JOBS.name, JOB)

    assert await store.delete(JOBS.name, "j1", expect={"state": "taken"}) is False
    assert await store.get(JOBS.name, "j1") == JOB

    assert await store.delete(JOBS.name, "j1", expect={"state": "queued", "owner": None}) is True
    assert await store.get(JOBS.name, "j1") is None


# --- transactions ------------------------------------------------------------------------------


@pytest.mark.needs("transactions", "concurrent_transactions")
async def test_a_committed_transaction_makes_all_its_writes_visible(
    target: Target, store: Store
) -> None:
    other = await target.open(COLLECTIONS)
    await store.insert(JOBS.name, {**JOB, "id": "old"})

    async with store.transaction() as tx:
        await tx.insert(ITEMS.name, ROWS[0])
        await tx.insert(JOBS.name, JOB)
        assert await tx.update(ITEMS.name, "i1", {"status": "retired"}, expect={"status": "active"})
        await tx.put(COUNTERS.name, {"id": "c", "n": 1})
        assert await tx.delete(JOBS.name, "old")
        # Inside, the transaction reads its own writes; outside, nothing shows before commit.
        assert await tx.get(ITEMS.name, "i1") == {**ROWS[0], "status": "retired"}
        assert await tx.count(JOBS.name) == 1
        assert await other.get(ITEMS.name, "i1") is None
        assert await other.get(JOBS.name, "old") is not None

    for db in (store, other):
        assert await db.get(ITEMS.name, "i1") == {**ROWS[0], "status": "retired"}
        assert await db.get(JOBS.name, "j1") == JOB
        assert await db.get(COUNTERS.name, "c") == {"id": "c", "n": 1}
        assert await db.get(JOBS.name, "old") is None


@pytest.mark.needs("transactions")
async def test_an_exception_inside_a_transaction_rolls_back_every_write(store: Store) -> None:
    await store.insert(ITEMS.name, ROWS[1])
    await store.insert(JOBS.name, JOB)

    with pytest.raises(RuntimeError, match="handler failed"):
        async with store.transaction() as tx:
            await tx.insert(ITEMS.name, ROWS[0])
            assert await tx.update(ITEMS.name, "i2", {"status": "active"})
            assert await tx.delete(JOBS.name, "j1")
            await tx.put(COUNTERS.name, {"id": "c", "n": 1})
            assert await tx.get(ITEMS.name, "i1") == ROWS[0]
            raise RuntimeError("handler failed")

    assert await store.get(ITEMS.name, "i1") is None
    assert await store.get(ITEMS.name, "i2") == ROWS[1]
    assert await store.get(JOBS.name, "j1") == JOB
    assert await store.get(COUNTERS.name, "c") is None
    assert await store.count(ITEMS.name) == 1


@pytest.mark.needs("transactions")
async def test_a_duplicate_key_inside_a_transaction_rolls_it_all_back(store: Store) -> None:
    await store.insert(ITEMS.name, ROWS[0])

    with pytest.raises(DuplicateKeyError):
        async with store.transaction() as tx:
            await tx.insert(ITEMS.name, ROWS[1])
            assert await tx.update(ITEMS.name, "i1", {"note": "changed"})
            await tx.insert(ITEMS.name, {**ROWS[2], "code": "C1"})

    assert await store.get(ITEMS.name, "i2") is None
    assert await store.get(ITEMS.name, "i1") == ROWS[0]
    assert await store.count(ITEMS.name) == 1

    # The store is fine afterwards: the next transaction commits.
    async with store.transaction() as tx:
        await tx.insert(ITEMS.name, ROWS[1])
    assert await store.get(ITEMS.name, "i2") == ROWS[1]


@pytest.mark.parametrize("target", ["sqlite"], indirect=True)
async def test_sqlite_refuses_the_store_itself_inside_its_transaction(store: Store) -> None:
    # One connection serves the store: waiting for itself would hang; it is refused instead.
    async with asyncio.timeout(10):
        with pytest.raises(RuntimeError, match="use the session"):
            async with store.transaction() as tx:
                await tx.insert(JOBS.name, JOB)
                await store.get(JOBS.name, "j1")

    assert await store.get(JOBS.name, "j1") is None


# --- indexes serve the queries -----------------------------------------------------------------


@pytest.mark.needs("query_plans", "named_indexes")
@pytest.mark.parametrize(
    ("where", "order_by", "index"),
    [
        pytest.param({"kind": "box"}, None, "ix_kind", id="field"),
        pytest.param({"code": "C1"}, None, "ix_u_code", id="unique-field"),
        pytest.param({"meta.group": "g1"}, None, "ix_meta_group", id="dotted-field"),
        pytest.param({"kind": ["box", "crate"]}, None, "ix_kind", id="any-of"),
        pytest.param({"tenant": "t1", "status": "active"}, None, "ix_tenant_status", id="compound"),
        pytest.param({}, "rank", "ix_rank", id="order-by"),
    ],
)
async def test_a_find_on_an_indexed_field_uses_the_index(
    target: Target,
    store: Store,
    rows: list[dict[str, Any]],
    where: Where,
    order_by: str | None,
    index: str,
) -> None:
    plan = await query_plan(target, ITEMS.name, where, order_by=order_by, limit=10)

    assert uses_index(target, plan), plan
    assert index in plan, plan
    assert "TEMP B-TREE" not in plan, plan  # SQLite sorts nothing: the index is in order


@pytest.mark.needs("query_plans")
async def test_a_find_on_an_unindexed_field_scans(
    target: Target, store: Store, rows: list[dict[str, Any]]
) -> None:
    # The negative control: the plan check above can fail.
    plan = await query_plan(target, ITEMS.name, {"note": "x"})

    assert not uses_index(target, plan), plan


@pytest.mark.needs("query_plans", "named_indexes", "partial_indexes")
async def test_a_partial_index_serves_queries_that_name_its_condition(
    target: Target, store: Store
) -> None:
    plan = await query_plan(target, DEVICES.name, {"pin": "1234", "status": "active"})

    assert uses_index(target, plan), plan
    assert "ix_u_pin_status_active" in plan, plan


# Most steps have no number: a sparse index holds only those that do.
STEPS = Collection("steps", (Index(("number",)),))
SPARSE_STEPS = Collection("steps", (Index(("number",), sparse=True),))
STEP_ROWS: list[dict[str, Any]] = [
    {"id": "s1", "number": "N-1"},
    {"id": "s2"},
    {"id": "s3", "number": None},
    {"id": "s4", "number": "N-1"},
]


async def test_a_sparse_index_finds_what_a_full_one_does(target: Target) -> None:
    store = await target.open([SPARSE_STEPS])
    for row in STEP_ROWS:
        await store.insert(SPARSE_STEPS.name, row)

    assert sorted(ids(await store.find(SPARSE_STEPS.name, {"number": "N-1"}))) == ["s1", "s4"]
    assert ids(await store.find(SPARSE_STEPS.name, {"number": "N-2"})) == []
    # Documents the index leaves out are still found by what they lack.
    assert sorted(ids(await store.find(SPARSE_STEPS.name, {"number": None}))) == ["s2", "s3"]
    assert await store.count(SPARSE_STEPS.name, {"number": ["N-1", None]}) == 4


@pytest.mark.needs("query_plans", "named_indexes", "partial_indexes")
async def test_a_sparse_index_serves_a_query_for_a_value(target: Target) -> None:
    await target.open([SPARSE_STEPS])

    plan = await query_plan(target, SPARSE_STEPS.name, {"number": "N-1"})

    assert uses_index(target, plan), plan
    assert "ix_s_number" in plan, plan


@pytest.mark.needs("named_indexes", "partial_indexes", "query_plans")
async def test_an_index_made_sparse_is_rebuilt_in_place_keeping_every_document(
    target: Target,
) -> None:
    old = await target.open([STEPS])
    for row in STEP_ROWS:
        await old.insert(STEPS.name, row)
    await old.close()

    upgraded = await target.open([SPARSE_STEPS])

    assert await index_names(target, SPARSE_STEPS.name) == declared_index_names(
        target, SPARSE_STEPS
    )
    assert await upgraded.count(SPARSE_STEPS.name) == len(STEP_ROWS)
    assert sorted(ids(await upgraded.find(SPARSE_STEPS.name, {"number": "N-1"}))) == ["s1", "s4"]
    assert "ix_s_number" in await query_plan(target, SPARSE_STEPS.name, {"number": "N-1"})


SERVICE_INDEXES = [
    pytest.param(service, collection, index, id=f"{service}.{collection.name}.{index.name}")
    for service, declared in SERVICE_COLLECTIONS.items()
    for collection in declared
    for index in collection.indexes
]


@pytest.mark.needs("query_plans")
@pytest.mark.parametrize(("service", "collection", "index"), SERVICE_INDEXES)
async def test_every_index_a_service_declares_serves_its_equality_query(
    target: Target, service: str, collection: Collection, index: Index
) -> None:
    await target.open(SERVICE_COLLECTIONS[service])
    where = {**{field: "x" for field in index.fields}, **index.where}

    plan = await query_plan(target, collection.name, where, limit=1)

    assert uses_index(target, plan), plan


@pytest.mark.needs("query_plans")
async def test_the_outbox_relay_reads_in_index_order(target: Target) -> None:
    await target.open(outbox.COLLECTIONS)

    # A scan's first page and the next ones, read above a seq.
    for above in (SCAN_FLOOR, 1_000):
        plan = await query_plan(
            target, outbox.OUTBOX.name, {}, order_by="seq", limit=200, above=("seq", above)
        )

        assert uses_index(target, plan), plan
        assert "TEMP B-TREE" not in plan, plan


# --- lifecycle ---------------------------------------------------------------------------------


async def test_ping_answers_while_open_and_not_after_close(store: Store) -> None:
    assert await store.ping() is True

    await store.close()

    assert await store.ping() is False
    with pytest.raises(StorageError):
        await store.get(ITEMS.name, "i1")


@pytest.mark.needs("named_indexes", "partial_indexes", "query_plans")
async def test_reopening_keeps_data_and_indexes(
    target: Target, store: Store, rows: list[dict[str, Any]]
) -> None:
    before = {c.name: await index_names(target, c.name) for c in COLLECTIONS}
    await store.close()

    again = await target.open(COLLECTIONS)
    twice = await target.open(COLLECTIONS)  # a second open while the first is still open

    for coll in COLLECTIONS:
        names = await index_names(target, coll.name)
        assert names == before[coll.name]
        assert declared_index_names(target, coll) <= names
    for db in (again, twice):
        assert await db.count(ITEMS.name) == len(rows)
        assert await db.get(ITEMS.name, "i1") == rows[0]
    with pytest.raises(DuplicateKeyError):
        await again.insert(ITEMS.name, {"id": "new", "code": "C1"})
    await twice.insert(DEVICES.name, {"id": "d1", "pin": "1", "status": "active"})
    with pytest.raises(DuplicateKeyError):
        await again.insert(DEVICES.name, {"id": "d2", "pin": "1", "status": "active"})
    assert uses_index(target, await query_plan(target, ITEMS.name, {"kind": "box"}))


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("field", BAD_FIELDS)
async def test_bad_field_names_are_refused_before_any_query(
    store: Store, rows: list[dict[str, Any]], field: str
) -> None:
    with pytest.raises(ValueError, match="bad field name"):
        await store.find(ITEMS.name, {field: "x"})
    with pytest.raises(ValueError, match="bad field name"):
        await store.count(ITEMS.name, {field: "x"})
    with pytest.raises(ValueError, match="bad field name"):
        await store.find(ITEMS.name, order_by=field)
    with pytest.raises(ValueError, match="bad field name"):
        await store.update(ITEMS.name, "i1", {"status": "x"}, expect={field: "x"})
    with pytest.raises(ValueError, match="bad field name"):
        await store.update(ITEMS.name, "i1", {field: "x"})
    with pytest.raises(ValueError, match="bad field name"):
        await store.delete(ITEMS.name, "i1", expect={field: "x"})

    assert await store.count(ITEMS.name) == len(rows)
    assert await store.get(ITEMS.name, "i1") == rows[0]


@pytest.mark.parametrize(
    "where",
    [
        pytest.param({"kind": {"$ne": "box"}}, id="operator-document"),
        pytest.param({"kind": [{"$gt": ""}]}, id="operator-in-list"),
        pytest.param({"amount": Decimal("1.5")}, id="decimal"),
    ],
)
async def test_values_other_than_json_scalars_are_refused(
    store: Store, rows: list[dict[str, Any]], where: Where
) -> None:
    with pytest.raises(ValueError, match="bad value"):
        await store.find(ITEMS.name, where)
    with pytest.raises(ValueError, match="bad value"):
        await store.delete(ITEMS.name, "i1", expect=where)

    assert await store.count(ITEMS.name) == len(rows)


async def test_a_negative_limit_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="bad limit"):
        await store.find(ITEMS.name, limit=-1)


@pytest.mark.parametrize("field", ["pin; DROP TABLE x", "$where", ""])
def test_an_index_on_a_bad_field_name_cannot_be_declared(field: str) -> None:
    with pytest.raises(ValueError, match="bad field name"):
        Index((field,))
    with pytest.raises(ValueError, match="bad field name"):
        Index(("pin",), where={field: "active"})


@pytest.mark.needs("transactions", "abort_on_any_connection")
async def test_a_transaction_cancelled_at_any_point_leaves_the_store_usable(store: Store) -> None:
    """A handler may be cancelled anywhere (a lost broker connection cancels its task): the
    transaction it was in is undone and the next one starts cleanly."""
    for steps in range(40):

        async def write(n: int = steps) -> None:
            async with store.transaction() as tx:
                await tx.insert(COUNTERS.name, {"id": f"c{n}", "value": n})
                await asyncio.Event().wait()  # never finishes on its own

        task = asyncio.create_task(write())
        for _ in range(steps):  # cancel after a different number of loop turns each time
            await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        async with store.transaction() as tx:
            await tx.insert(COUNTERS.name, {"id": f"ok{steps}", "value": steps})
    assert await store.count(COUNTERS.name, {"id": [f"c{n}" for n in range(40)]}) == 0
    assert await store.count(COUNTERS.name) == 40


# Attempts counted for guess limits: an atomic increment with an expiry, shared by every process.

MINUTE_MS = 60_000


@pytest.mark.needs("update_pipelines")
async def test_attempts_added_at_once_from_two_connections_each_get_their_own_count(
    target: Target, store: Store
) -> None:
    other = await target.open(COLLECTIONS)
    now = 1_000_000

    async def add(n: int) -> int:
        db = store if n % 2 else other
        return (await db.add_attempt(ATTEMPTS.name, "k", now_ms=now, window_ms=MINUTE_MS)).count

    counts = await asyncio.gather(*(add(n) for n in range(40)))

    assert sorted(counts) == list(range(1, 41))  # no two saw the same count: none was lost
    again = await store.add_attempt(ATTEMPTS.name, "k", now_ms=now + 1, window_ms=MINUTE_MS)
    assert (again.count, again.window_ends_ms) == (41, now + MINUTE_MS)
    other_key = await store.add_attempt(ATTEMPTS.name, "k2", now_ms=now, window_ms=MINUTE_MS)
    assert other_key.count == 1


@pytest.mark.needs("update_pipelines")
async def test_an_ended_window_starts_counting_over(store: Store) -> None:
    first = await store.add_attempt(ATTEMPTS.name, "k", now_ms=0, window_ms=MINUTE_MS)
    await store.add_attempt(ATTEMPTS.name, "k", now_ms=10, window_ms=MINUTE_MS)
    later = await store.add_attempt(ATTEMPTS.name, "k", now_ms=MINUTE_MS, window_ms=MINUTE_MS)
    assert (first.count, first.window_ends_ms) == (1, MINUTE_MS)
    assert (later.count, later.window_ends_ms) == (1, 2 * MINUTE_MS)


@pytest.mark.needs("update_pipelines")
async def test_an_attempt_is_taken_back_only_from_its_own_window(store: Store) -> None:
    first = await store.add_attempt(ATTEMPTS.name, "k", now_ms=0, window_ms=MINUTE_MS)
    await store.add_attempt(ATTEMPTS.name, "k", now_ms=1, window_ms=MINUTE_MS)
    assert await store.take_back_attempt(ATTEMPTS.name, "k", window_ends_ms=first.window_ends_ms)
    assert (await store.add_attempt(ATTEMPTS.name, "k", now_ms=2, window_ms=MINUTE_MS)).count == 2

    later = await store.add_attempt(ATTEMPTS.name, "k", now_ms=MINUTE_MS, window_ms=MINUTE_MS)
    # Taken back against the ended window: the new window keeps its count.
    assert not await store.take_back_attempt(
        ATTEMPTS.name, "k", window_ends_ms=first.window_ends_ms
    )
    assert not await store.take_back_attempt(ATTEMPTS.name, "nobody", window_ends_ms=0)
    nxt = await store.add_attempt(ATTEMPTS.name, "k", now_ms=MINUTE_MS + 1, window_ms=MINUTE_MS)
    assert (later.count, nxt.count) == (1, 2)
