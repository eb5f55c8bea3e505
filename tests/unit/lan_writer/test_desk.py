"""The LAN desk as use cases (routing's copies, users taking and releasing, operators'
actions): a real SQLite store of its own, no HTTP, no broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.lan_writer import repository as repo
from services.lan_writer.auth import LanUser
from services.lan_writer.desk import LanDesk
from services.lan_writer.operator_desk import OperatorDesk
from shared.contracts import wrap
from shared.contracts.documents import Document, DocumentHeader, Target
from shared.contracts.uploads import DeliverySettings, DocumentRouted
from shared.errors import Refusal
from shared.messaging.consumer import PermanentFailure
from shared.outbox import UnitOfWork
from shared.storage import Store
from tests.support.stores import service_store

TENANT = "sklad"
IVANOV = LanUser(TENANT, "ivanov", "Иванов", ("Кладовщики",), None)
PETROV = LanUser(TENANT, "petrov", "Петров", ("Кладовщики",), None)
SIDOROV = LanUser(TENANT, "sidorov", "Сидоров", (), None)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with service_store(tmp_path, "lan_writer", repo.COLLECTIONS) as s:
        yield s


@pytest.fixture
def desk(store: Store) -> LanDesk:
    return LanDesk(store, UnitOfWork(store, None))


def _routed(delivery_id: str, target: Target, *, collective: bool = False) -> DocumentRouted:
    return DocumentRouted(
        delivery_id=delivery_id,
        request_id=f"req-{delivery_id}",
        process="picking",
        version=1,
        channel="lan",
        target=target,
        settings=DeliverySettings(collective=collective),
        document=Document(header=DocumentHeader(accounting_type="Заказ клиента", id="d-1")),
        requested_at=datetime.now(UTC),
    )


async def _store_copy(desk: LanDesk, routed: DocumentRouted) -> None:
    await desk.routed(wrap(routed, TENANT), routed)


async def test_a_group_copy_is_seen_by_its_members_only(desk: LanDesk) -> None:
    await _store_copy(desk, _routed("c-1", Target(kind="group", value="Кладовщики")))
    assert [r["id"] for r in await desk.visible(IVANOV)] == ["c-1"]
    assert await desk.visible(SIDOROV) == []
    with pytest.raises(Refusal) as refused:
        await desk.row_for(SIDOROV, "c-1")
    assert refused.value.code == "not_found"


async def test_the_same_copy_delivered_twice_is_stored_once(desk: LanDesk, store: Store) -> None:
    routed = _routed("c-1", Target(kind="user", value="ivanov"))
    await _store_copy(desk, routed)
    await _store_copy(desk, routed)
    assert len(await store.find(repo.DOCUMENTS.name)) == 1


async def test_a_copy_for_an_unusable_target_is_refused_for_good(desk: LanDesk) -> None:
    with pytest.raises(PermanentFailure):
        await _store_copy(desk, _routed("c-1", Target(kind="user", value=None)))


async def test_one_user_takes_a_document_and_the_next_is_refused_until_release(
    desk: LanDesk,
) -> None:
    await _store_copy(desk, _routed("c-1", Target(kind="group", value="Кладовщики")))
    row, taken = await desk.take(IVANOV, "c-1")
    assert taken and [h["login"] for h in row["holders"]] == ["ivanov"]
    with pytest.raises(Refusal) as refused:
        await desk.take(PETROV, "c-1")
    assert refused.value.code == "document_taken"
    await desk.release(IVANOV, "c-1")
    _, taken = await desk.take(PETROV, "c-1")
    assert taken


async def test_an_operator_frees_a_document_a_user_left_locked(desk: LanDesk, store: Store) -> None:
    await _store_copy(desk, _routed("c-1", Target(kind="user", value="ivanov")))
    await desk.take(IVANOV, "c-1")
    row = await OperatorDesk(desk, store).force_release("c-1", "терминал разряжен")
    assert row["state"] == "free"
    assert row["released"]["holders"] == ["ivanov"]
