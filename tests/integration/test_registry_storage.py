"""The registry's device rules on its real storage (SQLite), without a broker.

Which PIN a device gets is random; here the proposals are scripted, so that each rule (unique
among active devices, kept while blocked, cooling off after retirement) is checked exactly.
The 10,000-device case checks that PIN look-ups stay served by the (tenant, pin) partial index.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from services.registry import repository as repo
from services.registry.device_life import DeviceLife
from services.registry.pairing import Pairing, PinIssuer
from services.registry.tenants import Tenants
from shared.errors import Refusal
from shared.outbox import COLLECTIONS as OUTBOX_COLLECTIONS
from shared.outbox import OUTBOX, UnitOfWork, stored_envelope
from shared.settings import Settings
from shared.storage import Store, open_store
from shared.storage.sqlite import find_sql


class ScriptedPins:
    """Proposes the PINs it is given, in order, then falls back to an endless fresh series."""

    def __init__(self) -> None:
        self.next: list[str] = []
        self._fresh = iter(range(100_000, 10**9))

    def __call__(self, held: int, base_length: int) -> Iterator[str]:
        queued, self.next = self.next, []
        yield from queued
        for n in self._fresh:
            yield str(n)


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(store="sqlite", data_dir=tmp_path / "data", **overrides)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(
        settings_for(tmp_path), "registry", [*OUTBOX_COLLECTIONS, *repo.COLLECTIONS]
    )
    yield opened
    await opened.close()


@pytest.fixture
def proposals() -> ScriptedPins:
    return ScriptedPins()


class Devices:
    """Pairing and the life cycle over one store and one PIN issuer, as the registry wires them."""

    def __init__(self, store: Store, pin_issuer: PinIssuer) -> None:
        uow = UnitOfWork(store, None)
        self.pairing = Pairing(store, uow, pin_issuer)
        self.life = DeviceLife(store, uow, pin_issuer)


def devices_with(
    store: Store, tmp_path: Path, proposals: ScriptedPins | None = None, **overrides: Any
) -> Devices:
    settings = settings_for(tmp_path, **overrides)
    if proposals is None:
        return Devices(store, PinIssuer(settings))
    return Devices(store, PinIssuer(settings, propose=proposals))


@pytest.fixture
def devices(store: Store, tmp_path: Path, proposals: ScriptedPins) -> Devices:
    return devices_with(store, tmp_path, proposals)


@pytest.fixture
async def base(store: Store) -> dict[str, Any]:
    return await Tenants(store, UnitOfWork(store, None)).create("Склад", "sklad")


async def pair(devices: Devices, base: dict[str, Any], hw: str | None = None) -> dict[str, Any]:
    paired = await devices.pairing.pair(
        base["connection_code"], hw or uuid.uuid4().hex, "EDA50", "", "online"
    )
    device: dict[str, Any] = paired["device"]
    return device


async def pair_with_pin(
    devices: Devices, proposals: ScriptedPins, base: dict[str, Any], pins: Iterable[str]
) -> dict[str, Any]:
    proposals.next = list(pins)
    return await pair(devices, base)


async def test_a_pin_held_by_an_active_device_is_not_issued_again(
    devices: Devices, proposals: ScriptedPins, base: dict[str, Any]
) -> None:
    first = await pair_with_pin(devices, proposals, base, ["5546"])

    second = await pair_with_pin(devices, proposals, base, ["5546", "7001"])

    assert (first["pin"], second["pin"]) == ("5546", "7001")


async def test_a_blocked_device_keeps_its_pin_and_gets_it_back(
    devices: Devices, proposals: ScriptedPins, base: dict[str, Any]
) -> None:
    blocked = await pair_with_pin(devices, proposals, base, ["5546"])
    await devices.life.block("sklad", blocked["id"])

    other = await pair_with_pin(devices, proposals, base, ["5546", "7001"])
    back = await devices.life.unblock("sklad", blocked["id"])

    assert other["pin"] == "7001"
    assert back["device"]["pin"] == "5546"
    assert back["device"]["status"] == "active"


async def test_a_retired_pin_cools_off_before_it_is_issued_again(
    devices: Devices, proposals: ScriptedPins, base: dict[str, Any]
) -> None:
    retired = await pair_with_pin(devices, proposals, base, ["5546"])
    await devices.life.retire("sklad", retired["id"])

    successor = await pair_with_pin(devices, proposals, base, ["5546", "7001"])

    assert successor["pin"] == "7001"
    assert await devices.pairing.resolve_pin("sklad", "5546") is None


async def test_once_the_cooling_off_is_over_the_pin_may_be_issued_again(
    store: Store, tmp_path: Path, proposals: ScriptedPins, base: dict[str, Any]
) -> None:
    devices = devices_with(store, tmp_path, proposals, pin_cooldown_days=0)
    retired = await pair_with_pin(devices, proposals, base, ["5546"])
    await devices.life.retire("sklad", retired["id"])

    successor = await pair_with_pin(devices, proposals, base, ["5546"])

    assert successor["pin"] == "5546"


async def test_a_retired_terminal_joining_again_is_the_same_device_with_a_new_pin(
    devices: Devices, proposals: ScriptedPins, base: dict[str, Any]
) -> None:
    first = await pair_with_pin(devices, proposals, base, ["5546"])
    await devices.life.retire("sklad", first["id"])

    proposals.next = ["5546", "7001"]
    again = await pair(devices, base, first["hardware_id"])

    assert again["id"] == first["id"]
    assert (again["pin"], again["status"]) == ("7001", "active")


async def test_unblocking_when_the_pin_was_taken_meanwhile_issues_a_new_one(
    store: Store, devices: Devices, proposals: ScriptedPins, base: dict[str, Any]
) -> None:
    blocked = await pair_with_pin(devices, proposals, base, ["5546"])
    await devices.life.block("sklad", blocked["id"])
    # Another active device holding the same PIN (as a second registry replica might make).
    intruder = {**(await store.get(repo.DEVICES.name, blocked["id"]) or {})}
    intruder.update(id="intruder", hardware_id="hw-x", credential_hash="x" * 64, status="active")
    await store.put(repo.DEVICES.name, intruder)

    proposals.next = ["5546", "7001"]
    back = await devices.life.unblock("sklad", blocked["id"])

    assert (back["device"]["pin"], back["device"]["status"]) == ("7001", "active")


async def test_replacing_hands_the_pin_over_and_cools_off_the_new_devices_own(
    devices: Devices, proposals: ScriptedPins, base: dict[str, Any]
) -> None:
    old = await pair_with_pin(devices, proposals, base, ["5546"])
    new = await pair_with_pin(devices, proposals, base, ["7001"])

    replaced = await devices.life.replace("sklad", old["id"], new["id"])
    later = await pair_with_pin(devices, proposals, base, ["7001", "5546", "8002"])

    assert replaced["new"]["device"]["pin"] == "5546"
    assert replaced["old"]["device"]["status"] == "retired"
    assert (await devices.pairing.resolve_pin("sklad", "5546") or {})["id"] == new["id"]
    assert later["pin"] == "8002"


async def test_a_blocked_terminal_cannot_pair_again(devices: Devices, base: dict[str, Any]) -> None:
    device = await pair(devices, base)
    await devices.life.block("sklad", device["id"])

    with pytest.raises(Refusal) as refused:
        await pair(devices, base, device["hardware_id"])

    assert refused.value.code == "device_blocked"


async def test_each_change_is_announced_with_the_next_revision(
    store: Store, devices: Devices, base: dict[str, Any]
) -> None:
    device = await pair(devices, base)
    await devices.life.update("sklad", device["id"], "Второй", None)
    await devices.life.block("sklad", device["id"])

    events = [stored_envelope(row) for row in await store.find(OUTBOX.name, order_by="seq")]
    changes = [e["payload"] for e in events if e["type"] == "device.changed"]
    assert [(c["revision"], c["device"]["status"], c["device"]["name"]) for c in changes] == [
        (1, "active", "EDA50"),
        (2, "active", "Второй"),
        (3, "blocked", "Второй"),
    ]


# --- many devices ------------------------------------------------------------------------------

MANY = 10_000


def plan(path: Path, where: dict[str, Any]) -> str:
    sql, params = find_sql(repo.DEVICES.name, where, limit=1)
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    return " | ".join(row[-1] for row in rows)


@pytest.mark.slow
async def test_ten_thousand_devices_get_distinct_pins_and_pin_lookups_stay_indexed(
    store: Store, tmp_path: Path, base: dict[str, Any]
) -> None:
    devices = devices_with(store, tmp_path)  # the real, random PIN policy

    issued = [(await pair(devices, base))["pin"] for _ in range(MANY)]

    assert len(set(issued)) == MANY
    # Half of the 9000 four-digit PINs, then five digits.
    assert sum(len(pin) == 4 for pin in issued) == 4500
    assert all(len(pin) == 5 for pin in issued[4500:])
    path = settings_for(tmp_path).data_dir / "tsdx_registry.sqlite3"
    by_pin = plan(path, repo.active_pin_query("sklad", issued[-1]))
    assert "USING INDEX devices_ix_u_tenant_pin_status_active" in by_pin, by_pin
    by_hardware = plan(path, {"tenant": "sklad", "hardware_id": "hw"})
    assert "USING INDEX devices_ix_u_tenant_hardware_id" in by_hardware, by_hardware
    assert (await devices.pairing.resolve_pin("sklad", issued[-1]) or {})["pin"] == issued[-1]
