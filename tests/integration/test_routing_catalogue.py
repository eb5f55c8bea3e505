"""Business processes per tenant over a real SQLite store: scopes, overrides, checked changes.

Every refused change is shown to change nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.routing import repository as repo
from services.routing.catalogue import DEFAULTS, Catalogue
from services.routing.processes import BusinessProcess, default_processes
from shared.errors import Refusal
from shared.storage import Store
from shared.storage.sqlite import SQLiteStore

TENANT = "sklad"
OTHER = "magazin"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = SQLiteStore(tmp_path / "routing.sqlite3")
    await s.open(repo.COLLECTIONS)
    yield s
    await s.close()


@pytest.fixture
async def catalogue(store: Store) -> Catalogue:
    c = Catalogue(store, default_processes())
    await c.install_shipped()
    return c


def custom(**changes: Any) -> dict[str, Any]:
    return {
        "id": "receipt-by-order",
        "name": "Приёмка по ордеру",
        "source_type": "Приходный ордер на товары",
        "terminal_type": "Приёмка",
        "result_type": "Приходный ордер на товары",
        **changes,
    }


async def refused(call: Any) -> Refusal:
    with pytest.raises(Refusal) as caught:
        await call
    return caught.value


async def test_a_tenant_sees_the_defaults_and_its_own_processes(catalogue: Catalogue) -> None:
    shipped = {p.id for p in default_processes()}
    assert {p["id"] for p in await catalogue.list(TENANT)} == shipped
    assert all(p["scope"] == "default" and p["shipped"] for p in await catalogue.list(TENANT))

    await catalogue.put(TENANT, custom())
    mine = {p["id"]: p for p in await catalogue.list(TENANT)}
    assert set(mine) == shipped | {"receipt-by-order"}
    assert mine["receipt-by-order"]["scope"] == "tenant"
    assert not mine["receipt-by-order"]["shipped"]
    # Invisible to another tenant and to the defaults.
    assert "receipt-by-order" not in {p["id"] for p in await catalogue.list(OTHER)}
    assert "receipt-by-order" not in {p["id"] for p in await catalogue.list(DEFAULTS)}
    assert (await refused(catalogue.get(OTHER, "receipt-by-order"))).code == "process_not_found"


async def test_disabling_a_default_for_one_tenant_gives_it_its_own_copy(
    catalogue: Catalogue, store: Store
) -> None:
    disabled = await catalogue.set_enabled(TENANT, "picking", False)
    assert (disabled["enabled"], disabled["scope"]) == (False, "tenant")
    assert (await catalogue.get(OTHER, "picking"))["enabled"] is True
    assert (await catalogue.get(DEFAULTS, "picking"))["enabled"] is True
    found = await repo.find_process(store, TENANT, "picking")
    assert found is not None and not found.enabled

    # A tenant cannot delete a default; deleting its copy brings the default back.
    assert (await catalogue.delete(TENANT, "picking"))["deleted"] is True
    assert (await catalogue.get(TENANT, "picking"))["scope"] == "default"
    again = await refused(catalogue.delete(TENANT, "picking"))
    assert (again.code, again.status) == ("process_is_default", 409)


async def test_a_shipped_process_cannot_be_deleted_but_an_edit_survives_a_restart(
    catalogue: Catalogue, store: Store
) -> None:
    refusal = await refused(catalogue.delete(DEFAULTS, "picking"))
    assert (refusal.code, refusal.params) == ("process_is_shipped", {"process": "picking"})

    edited = (await catalogue.get(DEFAULTS, "picking"))["process"] | {"comment": "правка"}
    assert (await catalogue.put(DEFAULTS, edited))["origin"] == "operator"
    restarted = Catalogue(store, default_processes())
    written = await restarted.install_shipped()
    assert "picking" not in written and "purchase-receipt" in written
    assert (await restarted.get(DEFAULTS, "picking"))["process"]["comment"] == "правка"


async def test_a_bad_process_is_refused_and_nothing_changes(catalogue: Catalogue) -> None:
    before = await catalogue.list(TENANT)
    cases = [
        (custom(assign_to="robot"), "assign_to"),
        (custom(own_copy_per_user=True, collective=True), "exclude each other"),
        (custom(next_process="nowhere"), "next process “nowhere” is unknown"),
        # The next process must start from what this one produces.
        (custom(next_process="picking"), "starts from “Заказ клиента”"),
    ]
    for raw, detail in cases:
        refusal = await refused(catalogue.put(TENANT, raw))
        assert refusal.code == "process_invalid"
        assert detail in refusal.params["details"]
    assert await catalogue.list(TENANT) == before


async def test_a_change_that_breaks_a_follow_up_elsewhere_is_refused(catalogue: Catalogue) -> None:
    placement = (await catalogue.get(DEFAULTS, "storekeepers-placement"))["process"]
    refusal = await refused(catalogue.put(DEFAULTS, placement | {"source_type": "Другой"}))
    assert refusal.code == "process_invalid"
    assert "storekeepers-receipt" in refusal.params["details"]

    # A tenant's process that follows up with a default keeps that default from being deleted.
    await catalogue.put(DEFAULTS, custom(id="sorting", source_type="Сортировка"))
    await catalogue.put(
        TENANT, custom(id="before-sorting", result_type="Сортировка", next_process="sorting")
    )
    in_use = await refused(catalogue.delete(DEFAULTS, "sorting"))
    assert (in_use.code, in_use.status) == ("process_in_use", 409)
    assert in_use.params == {"process": "sorting", "by": "before-sorting", "tenant": TENANT}
    assert (await catalogue.get(TENANT, "sorting"))["scope"] == "default"


async def test_import_is_all_or_nothing_and_export_reads_back(catalogue: Catalogue) -> None:
    good = custom(id="a")
    broken = custom(id="b", source_type="")
    text = yaml.safe_dump({"processes": [good, broken]}, allow_unicode=True)
    refusal = await refused(catalogue.import_file(TENANT, text))
    assert refusal.code == "process_file_invalid"
    assert "processes[1].source_type" in refusal.params["details"]
    assert (await refused(catalogue.get(TENANT, "a"))).code == "process_not_found"

    text = yaml.safe_dump({"processes": [good, custom(id="b")]}, allow_unicode=True)
    assert await catalogue.import_file(TENANT, text) == {"imported": ["a", "b"], "count": 2}

    exported = await catalogue.export(TENANT, "json")
    assert exported["count"] == len(default_processes()) + 2
    # What is exported imports again, unchanged, into another tenant.
    await catalogue.import_file(OTHER, exported["text"])
    theirs = [p["process"] for p in await catalogue.list(OTHER)]
    ours = [p["process"] for p in await catalogue.list(TENANT)]
    assert theirs == ours
    assert BusinessProcess.model_validate(theirs[0])
