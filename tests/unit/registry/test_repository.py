"""The registry's repository on real SQLite: rows come back as the records written, revisions
guard concurrent changes, and the store's own rows are never handed out as dicts."""

from __future__ import annotations

import dataclasses
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from services.registry import repository as repo
from services.registry.repository import Device, Group, KnownDevice, Membership, Tenant, User
from shared.storage import DuplicateKeyError, Store
from shared.storage.sqlite import find_sql

TENANT = Tenant(
    id="sklad",
    name="Склад",
    api_key_hash="k" * 64,
    connection_code_hash="c" * 64,
    status="active",
    revision=1,
    created_at="2026-12-01T08:00:00+00:00",
)
DEVICE = Device(
    id="d1",
    tenant="sklad",
    hardware_id="hw-1",
    model="EDA50",
    name="ТСД",
    mode="online",
    pin="5546",
    status="active",
    credential_hash="h" * 64,
    revision=1,
)


async def test_a_tenant_is_read_back_as_written_by_id_key_and_code(store: Store) -> None:
    await repo.insert_tenant(store, TENANT)

    assert await repo.tenant(store, "sklad") == TENANT
    assert await repo.tenant_by_api_key_hash(store, "k" * 64) == TENANT
    assert await repo.tenant_by_connection_code_hash(store, "c" * 64) == TENANT
    assert await repo.tenants(store) == [TENANT]
    assert await repo.tenant(store, "nobody") is None


async def test_a_second_tenant_with_the_same_api_key_is_refused_by_the_store(store: Store) -> None:
    await repo.insert_tenant(store, TENANT)
    with pytest.raises(DuplicateKeyError):
        await repo.insert_tenant(
            store, dataclasses.replace(TENANT, id="other", connection_code_hash="x")
        )
    assert [t.id for t in await repo.tenants(store)] == ["sklad"]


async def test_a_revision_is_written_only_over_the_revision_it_was_made_from(store: Store) -> None:
    await repo.insert_tenant(store, TENANT)
    renamed = dataclasses.replace(TENANT, name="Новый", revision=2)
    stale = dataclasses.replace(TENANT, name="Устаревший", revision=2)

    assert await repo.revise_tenant(store, TENANT, renamed)
    assert not await repo.revise_tenant(store, TENANT, stale)
    assert await repo.tenant(store, "sklad") == renamed


async def test_a_device_is_found_by_id_pin_hardware_id_and_credential(store: Store) -> None:
    await repo.put_device(store, DEVICE)

    assert await repo.device_by_id(store, "d1") == DEVICE
    assert await repo.active_device_by_pin(store, "sklad", "5546") == DEVICE
    assert await repo.device_by_hardware_id(store, "sklad", "hw-1") == DEVICE
    assert await repo.device_by_credential_hash(store, "h" * 64) == DEVICE
    assert await repo.active_device_by_pin(store, "other", "5546") is None


async def test_blocked_devices_hold_their_pin_but_are_not_found_by_it(store: Store) -> None:
    blocked = dataclasses.replace(DEVICE, status="blocked", revision=2)
    await repo.put_device(store, DEVICE)
    assert await repo.revise_device(store, DEVICE, blocked)

    assert await repo.active_device_by_pin(store, "sklad", "5546") is None
    assert await repo.blocked_device_by_pin(store, "sklad", "5546") == blocked
    assert await repo.count_pin_holders(store, "sklad") == 1
    assert await repo.devices_of(store, "sklad", "blocked") == [blocked]
    assert await repo.active_devices(store, "sklad") == []


async def test_two_active_devices_of_a_base_cannot_hold_one_pin(store: Store) -> None:
    await repo.put_device(store, DEVICE)
    twin = dataclasses.replace(DEVICE, id="d2", hardware_id="hw-2", credential_hash="g" * 64)
    with pytest.raises(DuplicateKeyError):
        await repo.put_device(store, twin)
    assert await repo.devices_of(store, "sklad") == [DEVICE]


async def test_a_row_written_before_the_records_had_optional_fields_reads_them_as_none(
    store: Store,
) -> None:
    # An old row: no retired_at, replaced_by or replaces; a field the record does not name.
    row = {k: v for k, v in DEVICE.row().items() if k not in {"retired_at", "replaced_by"}}
    await repo.insert_devices(store, [{**row, "legacy": True}])

    assert await repo.device_by_id(store, "d1") == DEVICE


async def test_a_known_device_and_its_bases(store: Store) -> None:
    entry = KnownDevice(
        id=repo.known_device_key("sklad", "d1"),
        tenant="sklad",
        device_id="d1",
        last_used_at="2026-12-05T09:00:00+00:00",
    )
    await repo.put_known_device(store, entry)

    assert await repo.known_devices_of(store, "sklad") == [entry]
    assert await repo.known_device(store, "sklad", "d1") == entry
    assert await repo.bases_knowing(store, "d1") == [entry]
    await repo.drop_known_device(store, entry)
    assert await repo.known_devices_of(store, "sklad") == []


async def test_users_groups_and_memberships_by_their_keys(store: Store) -> None:
    ivanov = User(id=repo.user_key("sklad", "ivanov"), tenant="sklad", login="ivanov", name="И")
    group = Group(id=repo.group_key("sklad", "Приёмка"), tenant="sklad", name="Приёмка")
    member = Membership(
        id=repo.membership_key("sklad", "Приёмка", "ivanov"),
        tenant="sklad",
        group="Приёмка",
        login="ivanov",
    )
    await repo.insert_user(store, ivanov)
    await repo.insert_group(store, group)
    await repo.put_membership(store, member)

    assert await repo.user(store, "sklad", "ivanov") == ivanov
    assert await repo.users_of(store, "sklad") == [ivanov]
    assert await repo.groups_of(store, "sklad") == [group]
    assert await repo.members_of(store, "sklad", "Приёмка") == [member]
    assert await repo.memberships_of(store, "sklad", "ivanov") == [member]
    with pytest.raises(DuplicateKeyError):
        await repo.insert_user(store, dataclasses.replace(ivanov, name="Другой"))
    await repo.delete_membership(store, "sklad", "Приёмка", "ivanov")
    assert await repo.members_of(store, "sklad", "Приёмка") == []


async def test_pin_look_ups_are_served_by_the_partial_index(tmp_path: Path, store: Store) -> None:
    sql, params = find_sql(repo.DEVICES.name, repo.active_pin_query("sklad", "5546"), limit=1)
    with closing(sqlite3.connect(tmp_path / "tsdx_registry.sqlite3")) as conn:
        plan = " | ".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    assert "USING INDEX devices_ix_u_tenant_pin_status_active" in plan, plan
