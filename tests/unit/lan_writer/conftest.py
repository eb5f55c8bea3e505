"""The LAN writer's use cases on a real SQLite store of their own, with no HTTP and no broker:
events go to the outbox and stay there (no relay), where the tests read them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.lan_writer import repository as repo
from services.lan_writer.auth import LanUser
from services.lan_writer.broker_news import BrokerNews
from services.lan_writer.copy_changes import CopyChanges
from services.lan_writer.operator_actions import OperatorActions
from services.lan_writer.user_actions import UserActions
from shared.contracts import wrap
from shared.contracts.documents import Document, DocumentHeader, DocumentLine, Target
from shared.contracts.uploads import DeliverySettings, DocumentRouted, RoutedCopy
from shared.outbox import OUTBOX, UnitOfWork, stored_envelope
from shared.storage import Store
from tests.support.stores import service_store

TENANT = "sklad"
IVANOV = LanUser(TENANT, "ivanov", "Иванов", ("Кладовщики",), None)
PETROV = LanUser(TENANT, "petrov", "Петров", ("Кладовщики",), None)
SIDOROV = LanUser(TENANT, "sidorov", "Сидоров", (), None)
GROUP = Target(kind="group", value="Кладовщики")


def routed(delivery_id: str, target: Target, *, collective: bool = False) -> DocumentRouted:
    """An upload's one LAN copy of document d-1, as routing sends it."""
    return DocumentRouted(
        request_id=f"req-{delivery_id}",
        process="picking",
        channel="lan",
        documents=[
            Document(
                header=DocumentHeader(accounting_type="Заказ клиента", id="d-1", number="17"),
                lines=[DocumentLine(line_no=1, product_id="p-1", planned_qty=3)],
            )
        ],
        copies=[
            RoutedCopy(
                delivery_id=delivery_id,
                document_id="d-1",
                version=1,
                target=target,
                settings=DeliverySettings(collective=collective),
            )
        ],
        requested_at=datetime.now(UTC),
    )


async def deliver(news: BrokerNews, copy: DocumentRouted, tenant: str = TENANT) -> None:
    """Store a routed copy as the broker brings it."""
    await news.routed(wrap(copy, tenant), copy)


async def emitted(store: Store, kind: str) -> list[dict[str, Any]]:
    """The payloads of the events of one type waiting in the outbox, in the order emitted."""
    rows = sorted(await store.find(OUTBOX.name), key=lambda r: r["seq"])
    return [stored_envelope(r)["payload"] for r in rows if stored_envelope(r)["type"] == kind]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with service_store(tmp_path, "lan_writer", repo.COLLECTIONS) as s:
        yield s


@pytest.fixture
def uow(store: Store) -> UnitOfWork:
    return UnitOfWork(store, None)


@pytest.fixture
def changes(uow: UnitOfWork) -> CopyChanges:
    return CopyChanges(uow)


@pytest.fixture
def users(changes: CopyChanges, store: Store, uow: UnitOfWork) -> UserActions:
    return UserActions(changes, store, uow)


@pytest.fixture
def operators(changes: CopyChanges, store: Store) -> OperatorActions:
    return OperatorActions(changes, store)


@pytest.fixture
def news(changes: CopyChanges, store: Store, uow: UnitOfWork) -> BrokerNews:
    return BrokerNews(changes, store, uow)
