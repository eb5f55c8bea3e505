"""The registry's devices as use cases (pairing, PINs, life cycle): no HTTP, no broker."""

from __future__ import annotations

import pytest

from services.registry.devices import Devices
from shared.errors import Refusal
from shared.security import hash_token


async def _pair(devices: Devices, base: dict[str, str], hardware_id: str) -> dict[str, object]:
    paired: dict[str, object] = await devices.pair(
        base["connection_code"], hardware_id, "EDA50", f"ТСД {hardware_id}", "online"
    )
    return paired


async def test_pairing_gives_a_pin_and_a_credential_that_authenticates(
    devices: Devices, base: dict[str, str]
) -> None:
    paired = await _pair(devices, base, "hw-1")
    device = paired["device"]
    assert isinstance(device, dict) and device["tenant"] == "sklad"
    assert device["pin"].isdigit()
    found = await devices.authenticate(hash_token(str(paired["credential"])))
    assert found["device"]["id"] == device["id"]
    assert (await devices.resolve_pin("sklad", device["pin"]) or {})["id"] == device["id"]


async def test_a_wrong_connection_code_pairs_nothing(
    devices: Devices, base: dict[str, str]
) -> None:
    with pytest.raises(Refusal) as refused:
        await devices.pair("000-000", "hw-1", "EDA50", "ТСД", "online")
    assert (refused.value.code, refused.value.status) == ("bad_connection_code", 403)
    assert await devices.list_all("sklad") == []


async def test_two_devices_of_a_base_never_share_a_pin(
    devices: Devices, base: dict[str, str]
) -> None:
    first = await _pair(devices, base, "hw-1")
    second = await _pair(devices, base, "hw-2")
    assert first["device"]["pin"] != second["device"]["pin"]  # type: ignore[index]


async def test_a_blocked_device_is_refused_until_unblocked(
    devices: Devices, base: dict[str, str]
) -> None:
    paired = await _pair(devices, base, "hw-1")
    device_id = paired["device"]["id"]  # type: ignore[index]
    credential_hash = hash_token(str(paired["credential"]))
    await devices.block("sklad", device_id)
    with pytest.raises(Refusal) as refused:
        await devices.authenticate(credential_hash)
    assert refused.value.code == "unauthorized"
    await devices.unblock("sklad", device_id)
    assert (await devices.authenticate(credential_hash))["device"]["status"] == "active"


async def test_a_replacement_takes_the_old_devices_pin(
    devices: Devices, base: dict[str, str]
) -> None:
    old = (await _pair(devices, base, "hw-1"))["device"]
    new = (await _pair(devices, base, "hw-2"))["device"]
    replaced = await devices.replace("sklad", old["id"], new["id"])  # type: ignore[index]
    assert replaced["new"]["device"]["pin"] == old["pin"]  # type: ignore[index]
    assert replaced["old"]["device"]["status"] == "retired"
