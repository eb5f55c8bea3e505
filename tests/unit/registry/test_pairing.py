"""Pairing and PINs as use cases (no HTTP, no broker), and the PIN issuer's pure rule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from services.registry.pairing import Pairing, still_cooling
from services.registry.repository import RetiredPin
from shared.errors import Refusal
from shared.security import connection_code_as_issued, hash_token, new_connection_code
from tests.unit.registry.steps import pair


async def test_pairing_gives_a_pin_and_a_credential_that_authenticates(
    pairing: Pairing, base: dict[str, str]
) -> None:
    paired = await pairing.pair(base["connection_code"], "hw-1", "EDA50", "ТСД 1", "online")
    device = paired["device"]
    assert device["tenant"] == "sklad"
    assert device["pin"].isdigit()
    found = await pairing.authenticate(hash_token(paired["credential"]))
    assert found["device"]["id"] == device["id"]
    assert found["revision"] == paired["revision"] == 1
    assert (await pairing.resolve_pin("sklad", device["pin"]) or {})["id"] == device["id"]


async def test_the_same_terminal_pairing_again_keeps_its_device_and_pin_with_a_new_credential(
    pairing: Pairing, base: dict[str, str]
) -> None:
    first = await pairing.pair(base["connection_code"], "hw-1", "EDA50", "ТСД", "online")
    again = await pairing.pair(base["connection_code"], "hw-1", "", "", "online")

    assert again["device"]["id"] == first["device"]["id"]
    assert again["device"]["pin"] == first["device"]["pin"]
    # An empty model or name keeps what the device had.
    assert (again["device"]["model"], again["device"]["name"]) == ("EDA50", "ТСД")
    assert again["revision"] == 2
    with pytest.raises(Refusal) as refused:
        await pairing.authenticate(hash_token(first["credential"]))
    assert refused.value.code == "unauthorized"


# The keys of the Latin letters, as the Russian layout types them.
_RUSSIAN_KEYS = str.maketrans("QWERTYUIOPASDFGHJKLZXCVBNM", "ЙЦУКЕНГШЩЗФЫВАПРОЛДЯЧСМИТЬ")


@pytest.mark.parametrize(
    "typed",
    [
        str.lower,
        lambda c: c.replace("-", ""),
        lambda c: " " + c.lower().replace("-", " "),
        lambda c: c.translate(_RUSSIAN_KEYS).lower(),
    ],
)
async def test_a_connection_code_typed_in_lower_case_or_without_dashes_pairs(
    pairing: Pairing, base: dict[str, str], typed: Callable[[str], str]
) -> None:
    paired = await pairing.pair(typed(base["connection_code"]), "hw-1", "EDA50", "ТСД", "online")
    assert paired["device"]["tenant"] == "sklad"


@pytest.mark.parametrize("typed", ["", "ABCD-EFGH-JKL", "abcd-efgh-jklm-n", "ABCD-EFGH-JKL0"])
def test_what_cannot_be_a_connection_code_is_left_as_typed(typed: str) -> None:
    assert connection_code_as_issued(typed) == typed


def test_a_connection_code_is_put_in_its_issued_form() -> None:
    assert connection_code_as_issued("abcd efgh-jklm") == "ABCD-EFGH-JKLM"
    # Typed on the same keys in the Russian layout, in either case.
    assert connection_code_as_issued("9383-НЙМД-ТСЛ9") == "9383-YQVL-NCK9"
    assert connection_code_as_issued("фисв уапр олдь") == "ABCD-EFGH-JKLM"
    code = new_connection_code()
    assert connection_code_as_issued(code) == code


async def test_a_wrong_connection_code_pairs_nothing(
    pairing: Pairing, base: dict[str, str]
) -> None:
    with pytest.raises(Refusal) as refused:
        await pairing.pair("000-000", "hw-1", "EDA50", "ТСД", "online")
    assert (refused.value.code, refused.value.status) == ("bad_connection_code", 403)
    assert await pairing.resolve_pin("sklad", "1000") is None


async def test_two_devices_of_a_base_never_share_a_pin(
    pairing: Pairing, base: dict[str, str]
) -> None:
    first = await pair(pairing, base, "hw-1")
    second = await pair(pairing, base, "hw-2")
    assert first["pin"] != second["pin"]


@pytest.mark.parametrize("text", ["", "12a4", "1234567890123", "١٢٣٤"])
async def test_what_cannot_be_a_pin_misses_without_a_look_up(
    pairing: Pairing, base: dict[str, str], text: str
) -> None:
    assert await pairing.resolve_pin("sklad", text) is None


async def test_a_pin_is_resolved_within_its_base_only(
    pairing: Pairing, base: dict[str, str], other_base: dict[str, str]
) -> None:
    device = await pair(pairing, base, "hw-1")
    assert await pairing.resolve_pin(other_base["tenant"], device["pin"]) is None


def test_a_given_up_pin_cools_off_until_its_moment() -> None:
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    row = RetiredPin(
        id="sklad:5546:d1",
        tenant="sklad",
        pin="5546",
        device_id="d1",
        until=(now + timedelta(days=1)).isoformat(),
    )
    assert still_cooling([row], now)
    assert not still_cooling([row], now + timedelta(days=1))
    assert not still_cooling([], now)
