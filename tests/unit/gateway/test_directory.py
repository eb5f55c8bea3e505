"""How the gateway shows the registry's devices, without I/O."""

from __future__ import annotations

from services.gateway.directory import barcodes_view, last_seen_of
from tests.support.gateway_copies import a_device, a_tenant


def test_the_gateways_own_sighting_wins_over_the_registrys() -> None:
    device = {"id": "dev-1", "last_seen": "2026-12-01T09:00:00+00:00"}
    copy = a_device(last_seen="2026-12-01T10:00:00+00:00")
    assert last_seen_of(device, copy) == "2026-12-01T10:00:00+00:00"


def test_without_a_sighting_here_the_registrys_is_shown() -> None:
    device = {"id": "dev-1", "last_seen": "2026-12-01T09:00:00+00:00"}
    assert last_seen_of(device, None) == "2026-12-01T09:00:00+00:00"
    assert last_seen_of(device, a_device()) == "2026-12-01T09:00:00+00:00"
    assert last_seen_of({"id": "dev-1"}, None) is None


def test_a_base_without_barcode_settings_gets_the_defaults() -> None:
    assert barcodes_view(None) == barcodes_view(a_tenant(barcodes={}))


def test_a_bases_own_barcode_settings_are_shown() -> None:
    defaults = barcodes_view(None)
    field = next(k for k, v in defaults.items() if isinstance(v, str))
    own = barcodes_view(a_tenant(barcodes={**defaults, field: "~"}))
    assert own[field] == "~" and own != defaults
