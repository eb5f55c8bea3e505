"""The storage port's contract for transactions under contention and for what a store does when
it opens: upgrades of older data and indexes kept in step with the code."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from contextlib import closing
from typing import TYPE_CHECKING, Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure, PyMongoError

from shared.storage import (
    Collection,
    Index,
    Migration,
    Session,
    Store,
    StoreTooNew,
    TransactionConflict,
    retrying,
)
from shared.storage.schema import SCHEMA, SCHEMA_ID, stored_version

if TYPE_CHECKING:
    from tests.contract.conftest import Target

COUNTERS = Collection("counters")
ITEMS = Collection("items", (Index(("code",), unique=True),))
COLLECTIONS = (COUNTERS, ITEMS)


@pytest.fixture
def collections() -> Sequence[Collection]:
    return COLLECTIONS


# --- transactions under contention -------------------------------------------------------------


async def _increment(store: Store, counter: str, ran: list[str]) -> int:
    async def work(tx: Session) -> int:
        ran.append(counter)
        doc = await tx.get(COUNTERS.name, counter)
        assert doc is not None
        # A plain read-then-write: only the transaction keeps concurrent increments apart.
        await tx.update(COUNTERS.name, counter, {"n": doc["n"] + 1})
        return int(doc["n"]) + 1

    return await store.run_transaction(work)


@pytest.mark.needs("transactions", "concurrent_transactions")
async def test_overlapping_transactions_on_one_document_lose_no_update(
    target: Target, store: Store
) -> None:
    other = await target.open(COLLECTIONS)  # a second connection, as another replica has
    await store.insert(COUNTERS.name, {"id": "c", "n": 0})
    ran: list[str] = []

    results = await asyncio.gather(
        *(_increment(store if n % 2 else other, "c", ran) for n in range(12))
    )

    assert await store.get(COUNTERS.name, "c") == {"id": "c", "n": 12}
    assert sorted(results) == list(range(1, 13))  # each committed once, on a fresh read
    assert len(ran) >= 12  # conflicting units (MongoDB) ran again, whole


@pytest.mark.needs("transactions", "concurrent_transactions")
async def test_overlapping_transactions_on_different_documents_all_commit_once(
    target: Target, store: Store
) -> None:
    other = await target.open(COLLECTIONS)
    for n in range(10):
        await store.insert(COUNTERS.name, {"id": f"c{n}", "n": 0})

    async def write(n: int) -> None:
        async def work(tx: Session) -> None:
            doc = await tx.get(COUNTERS.name, f"c{n}")
            assert doc is not None
            await tx.update(COUNTERS.name, f"c{n}", {"n": doc["n"] + 1})
            await tx.insert(ITEMS.name, {"id": f"i{n}", "code": f"C{n}"})

        await (store if n % 2 else other).run_transaction(work)

    await asyncio.gather(*(write(n) for n in range(10)))

    for n in range(10):
        assert await store.get(COUNTERS.name, f"c{n}") == {"id": f"c{n}", "n": 1}
    assert await store.count(ITEMS.name) == 10


def _inject_commit_failures(target: Target, store: Store, failure: str, times: int) -> list[int]:
    """Make the adapter's own commit step fail ``times`` times as its database would, then
    commit for real. Returns the list that counts commit calls."""
    calls: list[int] = []
    real = store._commit  # type: ignore[attr-defined]

    def native_error() -> Exception:
        if target.path is not None:
            # What SQLite says when another process kept the write lock past the wait.
            return sqlite3.OperationalError("database is locked")
        if failure == "transient":
            return OperationFailure(
                "WriteConflict error: this operation conflicted with another operation",
                112,
                {"errorLabels": ["TransientTransactionError"], "code": 112},
            )
        return PyMongoError(
            "connection lost during commit", error_labels=["UnknownTransactionCommitResult"]
        )

    async def failing(*args: Any) -> None:
        calls.append(1)
        if len(calls) <= times:
            raise native_error()
        await real(*args)

    store._commit = failing  # type: ignore[attr-defined]
    return calls


async def _insert_and_count_runs(store: Store, ran: list[int]) -> str:
    async def work(tx: Session) -> str:
        ran.append(1)
        await tx.insert(ITEMS.name, {"id": "i1", "code": "C1"})
        return "done"

    return await store.run_transaction(work)


@pytest.mark.needs("transactions")
async def test_a_transient_transaction_error_reruns_the_whole_unit_of_work(
    target: Target, store: Store
) -> None:
    calls = _inject_commit_failures(target, store, "transient", times=2)
    ran: list[int] = []

    assert await _insert_and_count_runs(store, ran) == "done"

    assert len(ran) == 3 and len(calls) == 3  # twice aborted, run whole again each time
    assert await store.find(ITEMS.name) == [{"id": "i1", "code": "C1"}]  # nothing twice


@pytest.mark.needs("transactions")
async def test_conflicts_beyond_the_bound_end_in_transaction_conflict_and_change_nothing(
    target: Target, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retrying, "FIRST_PAUSE_SECONDS", 0.0)
    _inject_commit_failures(target, store, "transient", times=retrying.MAX_ATTEMPTS)
    ran: list[int] = []

    with pytest.raises(TransactionConflict):
        await _insert_and_count_runs(store, ran)

    assert len(ran) == retrying.MAX_ATTEMPTS
    assert await store.count(ITEMS.name) == 0


@pytest.mark.needs("transactions")
async def test_an_unknown_commit_result_retries_the_commit_only(
    target: Target, store: Store
) -> None:
    if target.path is not None:
        pytest.skip("SQLite knows whether its own commit happened: no unknown commit result")
    calls = _inject_commit_failures(target, store, "unknown", times=2)
    ran: list[int] = []

    assert await _insert_and_count_runs(store, ran) == "done"

    assert len(ran) == 1 and len(calls) == 3  # the work ran once, the commit thrice
    assert await store.find(ITEMS.name) == [{"id": "i1", "code": "C1"}]


# --- indexes kept in step ------------------------------------------------------------------------


async def _index_names(target: Target, collection: str) -> set[str]:
    if target.path is not None:
        with closing(sqlite3.connect(target.path)) as conn:
            found = conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?",
                (f"c_{collection}",),
            ).fetchall()
        return {name for (name,) in found if not name.startswith("sqlite_autoindex")}
    assert target.mongo is not None
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(target.mongo.url)
    try:
        return set(await client[target.database][collection].index_information()) - {"_id_"}
    finally:
        await client.close()


async def _add_foreign_index(target: Target, collection: str) -> str:
    """An index an operator made by hand: never tsdx's to drop."""
    if target.path is not None:
        with closing(sqlite3.connect(target.path)) as conn:
            conn.execute(
                f'CREATE INDEX "by_hand_note" ON "c_{collection}" (json_extract(doc, \'$.note\'))'
            )
            conn.commit()
        return "by_hand_note"
    assert target.mongo is not None
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(target.mongo.url)
    try:
        await client[target.database][collection].create_index("note", name="by_hand_note")
    finally:
        await client.close()
    return "by_hand_note"


def _named(target: Target, collection: str, index: Index) -> str:
    return f"{collection}_{index.name}" if target.path is not None else index.name


OLD_CODE = Index(("code",), unique=True)
NEW_CODE = Index(("code", "tenant"), unique=True)


@pytest.mark.needs("named_indexes")
async def test_a_changed_index_replaces_the_old_one_and_foreign_indexes_stay(
    target: Target,
) -> None:
    old = Collection("items", (OLD_CODE,))
    first = await target.open([old])
    await first.insert("items", {"id": "i1", "code": "C1", "tenant": "t1"})
    foreign = await _add_foreign_index(target, "items")
    await first.close()

    # The new release: one code per tenant, no longer one code overall.
    new = Collection("items", (NEW_CODE,))
    again = await asyncio.gather(*(target.open([new]) for _ in range(3)))  # replicas at once

    assert await _index_names(target, "items") == {_named(target, "items", NEW_CODE), foreign}
    await again[0].insert("items", {"id": "i2", "code": "C1", "tenant": "t2"})  # old one refused
    assert await again[1].count("items") == 2


async def test_reopening_with_the_same_declaration_changes_no_index(target: Target) -> None:
    await target.open([ITEMS])
    before = await _index_names(target, "items")

    await asyncio.gather(*(target.open([ITEMS]) for _ in range(3)))

    assert await _index_names(target, "items") == before


# --- upgrades ------------------------------------------------------------------------------------


def _step(version: int, description: str, apply: Callable[[Session], Awaitable[None]]) -> Migration:
    return Migration(version, description, apply)


async def _split_names(tx: Session) -> None:
    # Idempotent: documents already split are left as they are.
    for doc in await tx.find(COUNTERS.name):
        if "name" in doc:
            first, _, last = doc["name"].partition(" ")
            await tx.put(
                COUNTERS.name, {"id": doc["id"], "first": first, "last": last, "n": doc["n"]}
            )


async def _add_flag(tx: Session) -> None:
    for doc in await tx.find(COUNTERS.name, {"flag": None}):
        await tx.update(COUNTERS.name, doc["id"], {"flag": False})


STEPS = (_step(2, "split name", _split_names), _step(3, "add flag", _add_flag))


async def _version(store: Store) -> int:
    return await stored_version(store)  # type: ignore[arg-type]


async def test_a_new_store_records_the_codes_schema_version(target: Target) -> None:
    store = await target.open(COLLECTIONS)
    assert await _version(store) == 1
    assert (await store.get(SCHEMA.name, SCHEMA_ID) or {}).get("version") == 1

    upgraded = await target.open(COLLECTIONS, STEPS)

    assert await _version(upgraded) == 3


@pytest.mark.parametrize(
    "replicas",
    [
        pytest.param(1, marks=pytest.mark.needs("transactions"), id="one-replica"),
        pytest.param(
            3,
            marks=pytest.mark.needs("transactions", "concurrent_transactions"),
            id="replicas-starting-together",
        ),
    ],
)
async def test_older_data_is_upgraded_step_by_step_and_each_step_commits_once(
    target: Target, replicas: int
) -> None:
    v1 = await target.open(COLLECTIONS)
    await v1.insert(COUNTERS.name, {"id": "a", "name": "Иван Петров", "n": 1})
    await v1.insert(COUNTERS.name, {"id": "b", "name": "Анна Смирнова", "n": 2})
    await v1.close()

    async def counted_flag(tx: Session) -> None:
        await _add_flag(tx)
        # Committed with the step: counts how many times the step took effect.
        done = await tx.get(ITEMS.name, "step-3")
        await tx.put(ITEMS.name, {"id": "step-3", "code": "S3", "n": (done or {"n": 0})["n"] + 1})

    steps = (STEPS[0], _step(3, "add flag", counted_flag))
    stores = await asyncio.gather(*(target.open(COLLECTIONS, steps) for _ in range(replicas)))

    assert await stores[0].get(COUNTERS.name, "a") == {
        "id": "a",
        "first": "Иван",
        "last": "Петров",
        "n": 1,
        "flag": False,
    }
    assert await stores[-1].count(COUNTERS.name, {"flag": False}) == 2
    assert await _version(stores[-1]) == 3
    assert (await stores[0].get(SCHEMA.name, SCHEMA_ID) or {}).get("description") == "add flag"
    assert (await stores[-1].get(ITEMS.name, "step-3") or {}).get("n") == 1


@pytest.mark.needs("transactions")
async def test_a_failing_step_leaves_the_data_at_the_version_before_it(target: Target) -> None:
    v1 = await target.open(COLLECTIONS)
    await v1.insert(COUNTERS.name, {"id": "a", "name": "Иван Петров", "n": 1})
    await v1.close()

    async def broken(tx: Session) -> None:
        await tx.update(COUNTERS.name, "a", {"n": 99})
        raise RuntimeError("step 3 failed")

    with pytest.raises(RuntimeError, match="step 3 failed"):
        await target.open(COLLECTIONS, (STEPS[0], _step(3, "broken", broken)))

    again = await target.open(COLLECTIONS, STEPS[:1])
    assert await _version(again) == 2
    assert (await again.get(COUNTERS.name, "a") or {}).get("n") == 1


async def test_a_store_newer_than_the_code_is_refused_and_left_alone(target: Target) -> None:
    newer = await target.open(COLLECTIONS, STEPS)
    await newer.insert(COUNTERS.name, {"id": "a", "first": "Иван", "n": 1, "flag": True})
    await newer.close()

    with pytest.raises(StoreTooNew, match="schema version 3, this release knows versions up to 1"):
        await target.open(COLLECTIONS)

    reopened = await target.open(COLLECTIONS, STEPS)
    assert await _version(reopened) == 3
    assert await reopened.count(COUNTERS.name) == 1


def test_migration_versions_must_follow_each_other() -> None:
    from shared.storage.schema import code_version

    assert code_version(()) == 1
    assert code_version(STEPS) == 3
    with pytest.raises(ValueError, match="without gaps"):
        code_version((STEPS[1],))
