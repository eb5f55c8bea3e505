"""A base's barcode settings for its terminals end to end: set by the base with its API key,
validated, owned by the registry, and served to its terminals by the gateway (``/terminal/me``)
and by the LAN writer (``/lan/me``) from their copies.

Every service runs in its own process on a real RabbitMQ (one vhost per stack).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.test_gateway_terminal import paired
from tests.e2e.test_lan_base import Base, base
from tests.support.waiting import eventually
from tools.cli.stack import Stack

__all__ = ["base"]  # fixture used here

DEFAULTS = {
    "weight_prefixes": ["20", "21", "22", "23", "24", "25", "26", "27", "28", "29"],
    "item_digits": 5,
    "weight_digits": 5,
    "gs_substitute": "",
}
CHOSEN = {
    "weight_prefixes": ["21", "27"],
    "item_digits": 6,
    "weight_digits": 4,
    "gs_substitute": "~",
}

BAD = [
    pytest.param(
        {**CHOSEN, "weight_prefixes": ["19"]}, "weight_prefixes", id="prefix-out-of-20-29"
    ),
    pytest.param({**CHOSEN, "weight_prefixes": ["2"]}, "weight_prefixes", id="prefix-one-digit"),
    pytest.param(
        {**CHOSEN, "weight_prefixes": ["21", "21"]}, "each prefix once", id="prefix-twice"
    ),
    pytest.param({**CHOSEN, "item_digits": 5}, "must be 10", id="digits-not-10"),
    pytest.param({**CHOSEN, "weight_digits": 0}, "weight_digits", id="no-weight-digits"),
    pytest.param({**CHOSEN, "gs_substitute": "~~"}, "gs_substitute", id="two-characters"),
    pytest.param({**CHOSEN, "gs_substitute": "A"}, "gs_substitute", id="a-letter-codes-hold"),
    pytest.param({**CHOSEN, "gs_substitute": "%"}, "gs_substitute", id="a-sign-codes-hold"),
    pytest.param({**CHOSEN, "price_digits": 5}, "price_digits", id="unknown-field"),
]


def _api(stack: Stack, api_key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=stack.url("gateway"),
        headers={"Authorization": f"Bearer {api_key}", "Accept-Language": "en"},
    )


async def test_a_base_sets_its_barcode_settings_and_both_terminal_apis_serve_them(
    stack: Stack, tenant: dict[str, str], base: Base
) -> None:
    async with _api(stack, tenant["api_key"]) as api, paired(stack, tenant) as terminal:
        assert (await api.get("/api/v1/settings/barcodes")).json() == DEFAULTS
        assert (await terminal.me())["barcodes"] == DEFAULTS
        lan = await base.terminal("ivanov")
        assert (await lan.me())["barcodes"] == DEFAULTS

        answer = await api.put("/api/v1/settings/barcodes", json=CHOSEN)
        assert answer.status_code == 200, answer.text
        assert answer.json() == CHOSEN
        # The instance that took the change serves it at once; the LAN writer by the event.
        assert (await api.get("/api/v1/settings/barcodes")).json() == CHOSEN
        assert (await terminal.me())["barcodes"] == CHOSEN
        await eventually(lan.me, until=lambda me: me["barcodes"] == CHOSEN, what="LAN /me")


@pytest.mark.parametrize(("body", "named"), BAD)
async def test_bad_barcode_settings_are_refused_and_change_nothing(
    stack: Stack, tenant: dict[str, str], body: dict[str, Any], named: str
) -> None:
    async with _api(stack, tenant["api_key"]) as api:
        answer = await api.put("/api/v1/settings/barcodes", json=body)
        assert answer.status_code == 422
        refusal = answer.json()
        assert refusal["code"] == "validation_error"
        assert named in refusal["message"] + str(refusal.get("details", ""))
        assert (await api.get("/api/v1/settings/barcodes")).json() == DEFAULTS


async def test_barcode_settings_need_the_base_s_api_key(stack: Stack) -> None:
    async with _api(stack, "tsdx_not-a-key") as api:
        answer = await api.put("/api/v1/settings/barcodes", json=CHOSEN)
        assert (answer.status_code, answer.json()["code"]) == (401, "unauthorized")
