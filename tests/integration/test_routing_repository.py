"""Routing's repository on real SQLite: typed records in and out, process records per scope in
the row shape earlier versions wrote, units of work done whole or not at all, upload requests
decided once, document bodies and facts beside the master record, and master records of earlier
versions that still hold them themselves."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.routing import repository as repo
from services.routing.processes import BusinessProcess
from shared.contracts.carried import CarriedDocument
from shared.contracts.documents import DocumentHeader, DocumentLine, FactLine, Target
from shared.contracts.uploads import UploadDecided
from shared.settings import Settings
from shared.storage import DuplicateKeyError, Session, Store, open_store
from shared.storage.sqlite import find_sql

DOCUMENT = CarriedDocument(
    header=DocumentHeader(accounting_type="Заказ поставщику", id="d-1", number="00-1"),
    lines=[DocumentLine(line_no=1, product_id="p-1", planned_qty=2).model_dump(mode="json")],
)
FACTS = {"copy-1:": [FactLine(line_no=1, product_id="p-1", quantity=2)]}
MASTER = repo.DocumentRecord(
    id="t:d-1",
    tenant="t",
    document_id="d-1",
    process="receipt",
    process_snapshot=None,
    request_id="r-1",
    channel="lan",
    target=Target(kind="group", value="Кладовщики"),
    version=1,
    state="queued",
    uploaded_at="2026-01-01T00:00:00+00:00",
)

RECEIPT = BusinessProcess(
    id="receipt",
    name="Приёмка",
    source_type="Приходный ордер на товары",
    terminal_type="Приёмка",
    result_type="Приходный ордер на товары",
)


def _copy(delivery_id: str, *, version: int = 1, state: str = "routed") -> repo.CopyRecord:
    return repo.CopyRecord(
        id=delivery_id,
        tenant="t",
        document_key="t:d-1",
        request_id="r-1",
        channel="lan",
        target=Target(kind="user", value="ivanov"),
        copy="own",
        mode="online",
        version=version,
        state=state,
        routed_at="2026-01-01T00:00:00+00:00",
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await open_store(Settings(data_dir=tmp_path), "routing", repo.COLLECTIONS)
    yield s
    await s.close()


async def test_a_master_record_reads_back_as_it_was_written(store: Store) -> None:
    await repo.put_document(store, MASTER)
    assert await repo.document(store, "t:d-1") == MASTER
    await repo.set_document_state(store, "t:d-1", "completed")
    assert await repo.mark_loaded(store, "t:d-1", state="loaded", from_state="completed")
    loaded = await repo.document(store, "t:d-1")
    assert loaded is not None and loaded.state == "loaded"
    # Only a completed document is marked loaded.
    assert not await repo.mark_loaded(store, "t:d-1", state="loaded", from_state="completed")
    assert await repo.document(store, "t:other") is None


async def test_copies_are_read_by_document_and_version(store: Store) -> None:
    await repo.add_copy(store, _copy("c-1"))
    await repo.add_copy(store, _copy("c-2", version=2))
    assert [c.id for c in await repo.copies_of(store, "t:d-1")] == ["c-1", "c-2"]
    assert await repo.copies_of(store, "t:d-1", 2) == [_copy("c-2", version=2)]
    await repo.withdraw_copy(store, "c-1", state="withdrawn", reason="replaced")
    assert await repo.copy_states(store, "t:d-1", 1) == ["withdrawn"]
    assert await repo.copy_states(store, "t:d-1", 2) == ["routed"]
    assert await repo.copy_states(store, "t:d-1", 3) == []
    withdrawn = await repo.copy_of(store, "c-1")
    assert withdrawn is not None
    assert (withdrawn.state, withdrawn.withdrawn_reason) == ("withdrawn", "replaced")
    assert withdrawn.document_id == "d-1"
    with pytest.raises(DuplicateKeyError):  # a delivery id is one copy
        await repo.add_copy(store, _copy("c-2"))


async def test_an_upload_request_is_decided_once_and_keeps_its_decision(store: Store) -> None:
    assert await repo.request(store, "t", "r-1") is None
    decided = UploadDecided(
        request_id="r-1",
        process="receipt",
        channel="lan",
        target=Target(kind="everyone"),
        outcome="refused",
        code="no_users",
        requested_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    await repo.record_decision(store, "t", "r-1", decided)
    accepted = decided.model_copy(update={"outcome": "accepted", "code": None})
    with pytest.raises(DuplicateKeyError):
        await repo.record_decision(store, "t", "r-1", accepted)
    record = await repo.request(store, "t", "r-1")
    assert record is not None and record.decision == decided  # the first decision stands
    assert await repo.request(store, "other", "r-1") is None  # another base's id is its own


async def test_journey_steps_come_back_in_order_and_are_found_by_their_fields(
    store: Store,
) -> None:
    steps = [
        repo.JourneyStep(
            id=f"t:d-1:{seq}",
            tenant="t",
            document_key="t:d-1",
            document_id="d-1",
            at=at,
            seq=seq,
            step=step,
            service="routing",
            details={"number": "00-1"},
        )
        for seq, (at, step) in enumerate([("2026-01-02", "routed"), ("2026-01-01", "requested")])
    ]
    await repo.add_steps(store, steps)
    assert [s.step for s in await repo.steps_of(store, "t:d-1")] == ["requested", "routed"]
    assert await repo.stored_steps(store, ["t:d-1:0", "t:d-1:9"]) == {"t:d-1:0"}
    assert len(await repo.steps_matching(store, "t", ("number",), "00-1")) == 2
    assert await repo.steps_matching(store, "other", ("number",), "00-1") == []


async def test_a_new_copy_or_step_with_a_taken_id_is_refused_not_written_over(
    store: Store,
) -> None:
    await repo.add_new_copies(store, [_copy("copy-1")])
    step = repo.JourneyStep(
        id="m-1:1",
        tenant="t",
        document_key="t:d-1",
        document_id="d-1",
        at="2026-01-01",
        seq=1,
        step="requested",
        service="accounting",
    )
    await repo.add_steps(store, [step])

    with pytest.raises(DuplicateKeyError):
        await repo.add_new_copies(store, [_copy("copy-1", version=2, state="withdrawn")])
    with pytest.raises(DuplicateKeyError):
        await repo.add_steps(store, [replace(step, step="routed", service="routing")])

    assert await repo.copies(store, ["copy-1"]) == {"copy-1": _copy("copy-1")}
    assert await repo.steps_of(store, "t:d-1") == [step]


async def test_a_new_version_starts_with_its_body_and_no_facts(store: Store) -> None:
    await repo.start_body(
        store, "t", MASTER.id, DOCUMENT.model_dump(mode="json"), first_version=True
    )
    assert await store.get(repo.DOCUMENT_FACTS.name, MASTER.id) is None  # none to clear
    assert await repo.facts_of(store, MASTER.id) == {}
    await repo.save_facts(store, MASTER, FACTS)
    assert await repo.body_of(store, MASTER.id) == DOCUMENT
    assert await repo.facts_of(store, MASTER.id) == FACTS
    await repo.start_body(store, "t", MASTER.id, DOCUMENT.model_dump(mode="json"))  # uploaded again
    assert await repo.facts_of(store, MASTER.id) == {}


async def test_a_master_record_of_an_earlier_version_is_read_as_it_is(store: Store) -> None:
    # As an earlier version wrote it: the document and its facts inside the master record.
    await store.put(
        repo.DOCUMENTS.name,
        {
            **MASTER.row(),
            "document": DOCUMENT.model_dump(mode="json"),
            "facts": {k: [f.model_dump(mode="json") for f in v] for k, v in FACTS.items()},
        },
    )
    assert await repo.document(store, MASTER.id) == MASTER
    assert await repo.body_of(store, MASTER.id) == DOCUMENT
    assert await repo.facts_of(store, MASTER.id) == FACTS
    # Its next facts are kept beside it, and read from there.
    await repo.save_facts(store, MASTER, {})
    assert await repo.facts_of(store, MASTER.id) == {}


async def test_no_body_anywhere_is_none(store: Store) -> None:
    assert await repo.body_of(store, "t:none") is None
    assert await repo.facts_of(store, "t:none") == {}


async def test_a_process_record_reads_back_under_its_scope_only(store: Store) -> None:
    saved = await repo.save_process(store, repo.ALL_TENANTS, RECEIPT, "shipped")
    assert (saved.scope, saved.process, saved.origin) == ("*", RECEIPT, "shipped")
    assert await repo.process_record(store, repo.ALL_TENANTS, "receipt") == saved
    assert await repo.process_record(store, "t", "receipt") is None  # no fallback to defaults

    own = await repo.save_process(store, "t", RECEIPT.model_copy(update={"enabled": False}))
    assert own.origin == "operator"  # a write is the operator's unless said otherwise
    assert await repo.processes_of(store, "t") == [own]
    assert await repo.processes_of(store, repo.ALL_TENANTS) == [saved]
    assert await repo.processes_of(store, "other") == []
    assert sorted(r.scope for r in await repo.all_process_records(store)) == ["*", "t"]


async def test_a_process_record_is_deleted_from_its_scope_alone(store: Store) -> None:
    await repo.save_process(store, repo.ALL_TENANTS, RECEIPT)
    await repo.save_process(store, "t", RECEIPT)
    assert await repo.delete_process(store, "t", "receipt")
    assert not await repo.delete_process(store, "t", "receipt")  # already gone
    assert await repo.process_record(store, "t", "receipt") is None
    assert await repo.process_record(store, repo.ALL_TENANTS, "receipt") is not None


async def test_a_process_row_keeps_the_shape_earlier_versions_wrote(store: Store) -> None:
    saved = await repo.save_process(store, "t", RECEIPT)
    row = await store.get(repo.PROCESSES.name, "t:receipt")
    assert row == {
        "id": "t:receipt",
        "tenant": "t",
        "name": "Приёмка",
        "origin": "operator",
        "updated_at": saved.updated_at,
        "process": RECEIPT.model_dump(mode="json"),
    }
    # Found by its name too, which the row keeps beside the process.
    assert await repo.find_process(store, "t", "Приёмка") == RECEIPT


async def test_a_process_found_again_after_an_edit_is_the_edited_one(store: Store) -> None:
    # Found processes are checked once per stored form: an edit must not find the old one.
    await repo.save_process(store, "t", RECEIPT)
    assert await repo.find_process(store, "t", "receipt") == RECEIPT
    edited = RECEIPT.model_copy(update={"enabled": False, "terminal_type": "Приёмка 2"})
    await repo.save_process(store, "t", edited)
    assert await repo.find_process(store, "t", "receipt") == edited
    assert await repo.find_process(store, "t", "Приёмка") == edited
    await repo.save_process(store, "t", RECEIPT)
    assert await repo.find_process(store, "t", "receipt") == RECEIPT


async def test_a_process_row_without_an_origin_is_a_shipped_one(store: Store) -> None:
    # Rows written before origins were kept.
    row = {
        "id": "*:receipt",
        "tenant": "*",
        "name": RECEIPT.name,
        "updated_at": "2026-01-01T00:00:00+00:00",
        "process": RECEIPT.model_dump(mode="json"),
    }
    await store.put(repo.PROCESSES.name, row)
    record = await repo.process_record(store, repo.ALL_TENANTS, "receipt")
    assert record is not None and record.origin == "shipped"
    assert record.updated_at == "2026-01-01T00:00:00+00:00"


async def test_a_unit_of_work_gives_its_result_once_committed(store: Store) -> None:
    async def save_two(db: Session) -> list[str]:
        first = await repo.save_process(db, "t", RECEIPT)
        second = await repo.save_process(db, "u", RECEIPT)
        return [first.id, second.id]

    assert await repo.in_one_transaction(store, save_two) == ["t:receipt", "u:receipt"]
    assert len(await repo.all_process_records(store)) == 2


async def test_a_unit_of_work_that_fails_changes_nothing(store: Store) -> None:
    await repo.save_process(store, "t", RECEIPT)

    async def half_done(db: Session) -> None:
        await repo.save_process(db, "u", RECEIPT)
        await repo.delete_process(db, "t", "receipt")
        raise LookupError("refused halfway")

    with pytest.raises(LookupError, match="refused halfway"):
        await repo.in_one_transaction(store, half_done)
    assert [r.id for r in await repo.all_process_records(store)] == ["t:receipt"]


def _plan(data_dir: Path, collection: str, where: dict[str, object]) -> str:
    [path] = data_dir.glob("*routing*.sqlite3")
    sql, params = find_sql(collection, where)
    with closing(sqlite3.connect(path)) as conn:
        return " | ".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))


@pytest.mark.parametrize(
    "where", [{"document_key": "t:d-1"}, {"document_key": "t:d-1", "version": 1}]
)
async def test_a_documents_copies_are_found_by_index_with_or_without_their_version(
    store: Store, tmp_path: Path, where: dict[str, object]
) -> None:
    # One index serves both: the key alone is its leading field.
    plan = _plan(tmp_path, repo.DELIVERIES.name, where)
    assert "USING INDEX deliveries_ix_document_key_version" in plan
