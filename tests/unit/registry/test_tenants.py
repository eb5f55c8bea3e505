"""Tenants (one per accounting base) as use cases on SQLite, and how a base's id is made."""

from __future__ import annotations

import pytest

from services.registry.pairing import Pairing
from services.registry.tenants import Tenants, tenant_id_for
from shared.contracts.directory import BarcodeSettings
from shared.errors import Refusal
from shared.outbox import OUTBOX, stored_envelope
from shared.security import hash_token
from shared.storage import Store
from tests.unit.registry.steps import pair


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Main Warehouse", "main-warehouse"),
        ("  Склад №2 / Zone B ", "2-zone-b"),
        ("a" * 80, "a" * 63),
    ],
)
def test_a_bases_id_is_its_name_as_a_slug(name: str, expected: str) -> None:
    assert tenant_id_for(name) == expected


def test_a_name_without_latin_letters_or_digits_gets_a_random_id() -> None:
    made = tenant_id_for("Склад")
    assert len(made) == 8 and made.isalnum()


async def test_a_new_base_authenticates_by_its_key_and_is_announced(
    store: Store, tenants: Tenants
) -> None:
    created = await tenants.create("Main Warehouse")

    assert created["tenant"] == "main-warehouse"
    record = await tenants.authenticate(hash_token(created["api_key"]))
    assert (record["tenant"], record["status"], record["revision"]) == (
        "main-warehouse",
        "active",
        1,
    )
    assert record["barcodes"] == BarcodeSettings().model_dump()
    events = [stored_envelope(row) for row in await store.find(OUTBOX.name, order_by="seq")]
    assert [(e["type"], e["tenant"]) for e in events] == [("tenant.changed", "main-warehouse")]


@pytest.mark.parametrize(
    ("name", "tenant_id", "details"),
    [
        ("   ", None, "name: must not be empty"),
        ("Склад", "Склад", "tenant: a-z, 0-9 and '-' only"),
    ],
)
async def test_a_bad_name_or_id_is_refused_and_creates_nothing(
    tenants: Tenants, name: str, tenant_id: str | None, details: str
) -> None:
    with pytest.raises(Refusal) as refused:
        await tenants.create(name, tenant_id)
    assert (refused.value.code, refused.value.params["details"]) == ("validation_error", details)
    assert await tenants.list_all() == []


async def test_an_id_is_taken_once(tenants: Tenants, base: dict[str, str]) -> None:
    with pytest.raises(Refusal) as refused:
        await tenants.create("Другой склад", "sklad")
    assert (refused.value.code, refused.value.status) == ("tenant_exists", 409)
    assert [t["name"] for t in await tenants.list_all()] == ["Склад на Ленина"]


async def test_the_list_counts_the_devices_holding_a_pin(
    tenants: Tenants, pairing: Pairing, base: dict[str, str]
) -> None:
    await pair(pairing, base, "hw-1")
    await pair(pairing, base, "hw-2")
    [listed] = await tenants.list_all()
    assert (listed["tenant"], listed["devices"], listed["status"]) == ("sklad", 2, "active")


async def test_a_rotated_key_replaces_the_old_one(tenants: Tenants, base: dict[str, str]) -> None:
    rotated = await tenants.rotate_api_key("sklad")

    assert rotated["revision"] == 2
    with pytest.raises(Refusal) as refused:
        await tenants.authenticate(hash_token(base["api_key"]))
    assert refused.value.code == "unauthorized"
    assert (await tenants.authenticate(hash_token(rotated["api_key"])))["revision"] == 2


async def test_a_rotated_connection_code_pairs_and_the_old_one_does_not(
    tenants: Tenants, pairing: Pairing, base: dict[str, str]
) -> None:
    rotated = await tenants.rotate_connection_code("sklad")

    with pytest.raises(Refusal) as refused:
        await pair(pairing, base, "hw-1")
    assert refused.value.code == "bad_connection_code"
    await pair(pairing, {**base, "connection_code": rotated["connection_code"]}, "hw-1")


async def test_barcode_settings_are_kept_with_the_next_revision(
    tenants: Tenants, base: dict[str, str]
) -> None:
    settings = BarcodeSettings.model_validate({"gs_substitute": "~"})

    changed = await tenants.set_barcodes("sklad", settings)

    assert (changed["revision"], changed["barcodes"]) == (2, settings.model_dump())
    record = await tenants.authenticate(hash_token(base["api_key"]))
    assert record["barcodes"]["gs_substitute"] == "~"


async def test_changing_an_unknown_base_is_refused(tenants: Tenants) -> None:
    with pytest.raises(Refusal) as refused:
        await tenants.rotate_api_key("nobody")
    assert (refused.value.code, refused.value.status) == ("tenant_not_found", 404)
