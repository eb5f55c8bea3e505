"""The LAN base's repository on real SQLite: typed copies, sessions and sent results in and
out, a copy changed only as it was read (compare-and-set), and only its changed fields written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from services.lan_writer import repository as repo
from services.lan_writer.locks import Holder, Lock
from shared.contracts.directory import BarcodeSettings
from shared.settings import Settings
from shared.storage import DuplicateKeyError, Store, open_store

FREE = repo.LanCopy(
    id="c-1",
    tenant="sklad",
    document_id="d-1",
    request_id="r-1",
    process="picking",
    version=1,
    assignee="group:Кладовщики",
    settings={"terminal_type": "Подбор", "collective": False},
    document={"header": {"id": "d-1", "number": "17"}, "lines": []},
    lock=Lock(state="free", collective=False),
    revision=1,
    routed_at="2026-01-01T00:00:00+00:00",
)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await open_store(Settings(data_dir=tmp_path), "lan_writer", repo.COLLECTIONS)
    yield s
    await s.close()


async def test_a_copy_reads_back_as_it_was_written(store: Store) -> None:
    await repo.add_copy(store, FREE)
    assert await repo.copy(store, "c-1") == FREE
    worked_on = replace(
        FREE,
        id="c-9",
        lock=Lock("taken", True, (Holder("ivanov", "t0"),), ("petrov",), {"sidorov": "stale"}),
        refusals={"petrov": {"code": "lock_lost", "params": {}, "result_id": "r", "at": "t1"}},
        released={"reason": "stale", "at": "t1", "holders": ["sidorov"]},
    )
    await repo.add_copy(store, worked_on)
    assert await repo.copy(store, "c-9") == worked_on
    assert await repo.copy(store, "c-2") is None
    with pytest.raises(DuplicateKeyError):  # a delivery id is one copy
        await repo.add_copy(store, FREE)


async def test_a_copy_is_changed_only_as_it_was_read(store: Store) -> None:
    await repo.add_copy(store, FREE)
    taken = replace(
        FREE,
        lock=Lock(state="taken", collective=False, holders=(Holder("ivanov", "t0"),)),
        revision=2,
    )
    assert await repo.replace_copy(store, FREE, taken)
    assert await repo.copy(store, "c-1") == taken
    # Another change decided from the copy as it was before loses: nothing is written.
    other = replace(FREE, lock=Lock(state="taken", collective=False), revision=2)
    assert not await repo.replace_copy(store, FREE, other)
    assert await repo.copy(store, "c-1") == taken


async def test_only_the_changed_fields_are_written(store: Store) -> None:
    await repo.add_copy(store, FREE)
    # A field the record does not know (written by a later version) survives a change.
    await store.update(repo.DOCUMENTS.name, "c-1", {"note": "kept"})
    reassigned = replace(FREE, assignee="user:sidorov", revision=2)
    assert await repo.replace_copy(store, FREE, reassigned)
    row = await store.get(repo.DOCUMENTS.name, "c-1")
    assert row is not None and row["note"] == "kept" and row["assignee"] == "user:sidorov"


async def test_open_copies_are_those_of_the_users_assignees_not_done(store: Store) -> None:
    await repo.add_copy(store, FREE)
    await repo.add_copy(store, replace(FREE, id="c-2", assignee="user:petrov"))
    done = replace(FREE, id="c-3", lock=Lock(state="done", collective=False))
    await repo.add_copy(store, done)
    await repo.add_copy(store, replace(FREE, id="c-4", tenant="elsewhere"))
    keys = repo.keys_for("ivanov", ["Кладовщики"], None)
    assert [c.id for c in await repo.open_copies(store, "sklad", keys)] == ["c-1"]
    assert [c.id for c in await repo.copies_of(store, "sklad")] == ["c-1", "c-2", "c-3"]
    assert [c.id for c in await repo.copies_of(store, "sklad", ["done"])] == ["c-3"]


async def test_a_result_is_recorded_once_and_marked_when_refused(store: Store) -> None:
    sent = repo.SentResult(
        id=repo.result_key("c-1", "ivanov", "r-1"),
        delivery_id="c-1",
        tenant="sklad",
        login="ivanov",
        result_id="r-1",
        final=True,
        completes=True,
        received_at="2026-01-01T00:00:00+00:00",
    )
    await repo.record_result(store, sent)
    with pytest.raises(DuplicateKeyError):
        await repo.record_result(store, sent)
    assert await repo.sent_result(store, sent.id) == sent
    assert await repo.senders_of(store, "c-1") == {"ivanov"}
    await repo.mark_refused(store, sent.id, "lock_lost", {"reason": "—"})
    refused = await repo.sent_result(store, sent.id)
    assert refused == replace(sent, status="refused", code="lock_lost", params={"reason": "—"})


async def test_sessions_of_a_user_and_their_end(store: Store) -> None:
    session = repo.LanSession(
        id="hash-1",
        tenant="sklad",
        login="ivanov",
        name="Иванов",
        groups=("Кладовщики",),
        device_id=None,
        created_at="2026-01-01T00:00:00+00:00",
        expires_at="2026-01-01T12:00:00+00:00",
    )
    await repo.open_session(store, session)
    assert await repo.session(store, "hash-1") == session
    assert await repo.sessions_of(store, "sklad", "ivanov") == [session]
    assert await repo.sessions_of(store, "elsewhere", "ivanov") == []
    await repo.end_session(store, "hash-1")
    assert await repo.session(store, "hash-1") is None


async def test_barcode_settings_are_the_defaults_until_the_base_sets_its_own(store: Store) -> None:
    assert await repo.barcode_settings(store, "sklad") == BarcodeSettings()
    own = BarcodeSettings(weight_prefixes=["22"], gs_substitute="~")
    await repo.keep_barcode_settings(store, "sklad", 2, own)
    await repo.keep_barcode_settings(store, "sklad", 1, BarcodeSettings())  # older: ignored
    assert await repo.barcode_settings(store, "sklad") == own
