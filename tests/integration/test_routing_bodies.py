"""Routing's document bodies and facts on real SQLite, beside the master record, and master
records of earlier versions that still hold them themselves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.routing import repository as repo
from shared.contracts.documents import Document, DocumentHeader, DocumentLine, FactLine
from shared.settings import Settings
from shared.storage import Store, open_store

DOCUMENT = Document(
    header=DocumentHeader(accounting_type="Заказ поставщику", id="d-1", number="00-1"),
    lines=[DocumentLine(line_no=1, product_id="p-1", planned_qty=2)],
)
FACTS = {"copy-1:": [FactLine(line_no=1, product_id="p-1", quantity=2)]}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await open_store(Settings(data_dir=tmp_path), "routing", repo.COLLECTIONS)
    yield s
    await s.close()


async def test_a_new_version_starts_with_its_body_and_no_facts(store: Store) -> None:
    master = {"id": "t:d-1", "tenant": "t"}
    await repo.start_body(store, "t", master["id"], DOCUMENT)
    await repo.save_facts(store, master, FACTS)
    assert await repo.body_of(store, master) == DOCUMENT
    assert await repo.facts_of(store, master) == FACTS
    await repo.start_body(store, "t", master["id"], DOCUMENT)  # uploaded again
    assert await repo.facts_of(store, master) == {}


async def test_a_master_record_of_an_earlier_version_is_read_as_it_is(store: Store) -> None:
    master = {
        "id": "t:d-1",
        "tenant": "t",
        "document": DOCUMENT.model_dump(mode="json"),
        "facts": {k: [f.model_dump(mode="json") for f in v] for k, v in FACTS.items()},
    }
    assert await repo.body_of(store, master) == DOCUMENT
    assert await repo.facts_of(store, master) == FACTS
    # Its next facts are kept beside it, and read from there.
    await repo.save_facts(store, master, {})
    assert await repo.facts_of(store, master) == {}


async def test_no_body_anywhere_is_none(store: Store) -> None:
    assert await repo.body_of(store, {"id": "t:none", "tenant": "t"}) is None
