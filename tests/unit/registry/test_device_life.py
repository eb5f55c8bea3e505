"""A paired device's life as use cases: look-ups, block, unblock, retire, rename, replace.
No HTTP, no broker; the events stay in the outbox."""

from __future__ import annotations

import pytest

from services.registry.device_life import DeviceLife, changed_settings
from services.registry.known_devices import KnownDevices
from services.registry.pairing import Pairing
from services.registry.repository import Device
from shared.errors import Refusal
from shared.outbox import OUTBOX, stored_envelope
from shared.security import hash_token
from shared.storage import Store
from tests.unit.registry.steps import decided, pair, remember


async def test_a_blocked_device_is_refused_until_unblocked_and_keeps_its_pin(
    pairing: Pairing, device_life: DeviceLife, base: dict[str, str]
) -> None:
    paired = await pairing.pair(base["connection_code"], "hw-1", "EDA50", "ТСД", "online")
    device = paired["device"]
    credential_hash = hash_token(paired["credential"])

    blocked = await device_life.block("sklad", device["id"])
    assert blocked["device"]["status"] == "blocked"
    with pytest.raises(Refusal) as refused:
        await pairing.authenticate(credential_hash)
    assert refused.value.code == "unauthorized"
    assert await pairing.resolve_pin("sklad", device["pin"]) is None

    back = await device_life.unblock("sklad", device["id"])
    assert (back["device"]["status"], back["device"]["pin"]) == ("active", device["pin"])
    assert (await pairing.authenticate(credential_hash))["device"]["status"] == "active"


async def test_blocking_twice_changes_nothing_the_second_time(
    pairing: Pairing, device_life: DeviceLife, base: dict[str, str]
) -> None:
    device = await pair(pairing, base, "hw-1")
    first = await device_life.block("sklad", device["id"])
    second = await device_life.block("sklad", device["id"])
    assert first == second
    assert second["revision"] == 2


async def test_a_retired_device_cannot_be_changed_and_its_pin_misses(
    pairing: Pairing, device_life: DeviceLife, base: dict[str, str]
) -> None:
    device = await pair(pairing, base, "hw-1")
    retired = await device_life.retire("sklad", device["id"])
    assert retired["device"]["status"] == "retired"
    assert await device_life.retire("sklad", device["id"]) == retired
    for change in (
        device_life.block("sklad", device["id"]),
        device_life.unblock("sklad", device["id"]),
        device_life.update("sklad", device["id"], "Новое имя", None),
    ):
        with pytest.raises(Refusal) as refused:
            await change
        assert (refused.value.code, refused.value.status) == ("device_retired", 409)
    assert await pairing.resolve_pin("sklad", device["pin"]) is None


async def test_renaming_and_switching_mode_are_announced_once_each(
    store: Store, pairing: Pairing, device_life: DeviceLife, base: dict[str, str]
) -> None:
    device = await pair(pairing, base, "hw-1")
    renamed = await device_life.update("sklad", device["id"], "Приёмка", "offline")
    same = await device_life.update("sklad", device["id"], "Приёмка", None)

    assert (renamed["device"]["name"], renamed["device"]["mode"]) == ("Приёмка", "offline")
    assert same == renamed  # nothing new: no revision, no event
    events = [stored_envelope(row) for row in await store.find(OUTBOX.name, order_by="seq")]
    revisions = [e["payload"]["revision"] for e in events if e["type"] == "device.changed"]
    assert revisions == [1, 2]


async def test_another_bases_device_is_as_unknown_as_a_missing_one(
    pairing: Pairing, device_life: DeviceLife, base: dict[str, str], other_base: dict[str, str]
) -> None:
    device = await pair(pairing, base, "hw-1")
    assert await device_life.get("mira", device["id"]) is None
    with pytest.raises(Refusal) as refused:
        await device_life.block("mira", device["id"])
    assert (refused.value.code, refused.value.status) == ("device_not_found", 404)
    assert (await device_life.get("sklad", device["id"]) or {})["status"] == "active"


async def test_the_list_shows_active_then_blocked_then_retired(
    pairing: Pairing, device_life: DeviceLife, base: dict[str, str]
) -> None:
    retired = await pair(pairing, base, "hw-1")
    blocked = await pair(pairing, base, "hw-2")
    active = await pair(pairing, base, "hw-3")
    await device_life.retire("sklad", retired["id"])
    await device_life.block("sklad", blocked["id"])

    listed = [d["id"] for d in await device_life.list_all("sklad")]
    only_blocked = [d["id"] for d in await device_life.list_all("sklad", "blocked")]
    available = [d["id"] for d in await device_life.available("sklad")]

    assert listed == [active["id"], blocked["id"], retired["id"]]
    assert only_blocked == [blocked["id"]]
    assert available == [active["id"]]


async def test_the_list_of_an_unknown_base_is_refused(device_life: DeviceLife) -> None:
    with pytest.raises(Refusal) as refused:
        await device_life.list_all("nobody")
    assert (refused.value.code, refused.value.status) == ("tenant_not_found", 404)


async def test_a_replacement_takes_the_old_devices_pin_and_place_in_the_list(
    pairing: Pairing,
    device_life: DeviceLife,
    known_devices: KnownDevices,
    base: dict[str, str],
) -> None:
    old = await pair(pairing, base, "hw-1")
    new = await pair(pairing, base, "hw-2")
    await remember(known_devices, "sklad", decided([("device", old["id"])]))

    replaced = await device_life.replace("sklad", old["id"], new["id"])

    assert replaced["new"]["device"]["pin"] == old["pin"]
    assert replaced["old"]["device"]["status"] == "retired"
    assert [d["id"] for d in await known_devices.known("sklad")] == [new["id"]]


async def test_a_replacement_is_refused_for_the_same_device_or_an_inactive_successor(
    pairing: Pairing, device_life: DeviceLife, base: dict[str, str]
) -> None:
    old = await pair(pairing, base, "hw-1")
    new = await pair(pairing, base, "hw-2")
    with pytest.raises(Refusal) as same:
        await device_life.replace("sklad", old["id"], old["id"])
    assert (same.value.code, same.value.status) == ("replace_same_device", 422)
    await device_life.block("sklad", new["id"])
    with pytest.raises(Refusal) as inactive:
        await device_life.replace("sklad", old["id"], new["id"])
    assert (inactive.value.code, inactive.value.status) == ("device_not_active", 409)
    assert (await device_life.get("sklad", old["id"]) or {})["status"] == "active"


def _device(name: str = "ТСД", mode: str = "online") -> Device:
    return Device(
        id="d1",
        tenant="sklad",
        hardware_id="hw-1",
        model="EDA50",
        name=name,
        mode=mode,  # type: ignore[arg-type]
        pin="5546",
        status="active",
        credential_hash="h" * 64,
        revision=1,
    )


@pytest.mark.parametrize(
    ("name", "mode", "expected"),
    [
        (None, None, {}),
        ("ТСД", "online", {}),  # as it is: no change
        ("Приёмка", None, {"name": "Приёмка"}),
        (None, "offline", {"mode": "offline"}),
        ("Приёмка", "offline", {"name": "Приёмка", "mode": "offline"}),
    ],
)
def test_only_settings_that_differ_are_changed(
    name: str | None, mode: str | None, expected: dict[str, str]
) -> None:
    assert changed_settings(_device(), name, mode) == expected  # type: ignore[arg-type]
