"""A device's view and record for other services, and the order of the device list: pure."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from services.registry.device_changes import (
    device_record,
    device_view,
    listing_order,
    public_device,
)
from services.registry.repository import Device

DEVICE = Device(
    id="d1",
    tenant="sklad",
    hardware_id="HONEYWELL-EDA50-V-16204B17A7",
    model="EDA50",
    name="Приёмка",
    mode="online",
    pin="5546",
    status="active",
    credential_hash="h" * 64,
    revision=3,
    created_at="2026-12-01T08:00:00+00:00",
    last_seen="2026-12-05T10:20:03.120455+00:00",
)


def test_the_public_view_leaves_the_credential_and_the_registrys_own_fields_out() -> None:
    assert public_device(DEVICE) == {
        "id": "d1",
        "tenant": "sklad",
        "pin": "5546",
        "name": "Приёмка",
        "model": "EDA50",
        "hardware_id": "HONEYWELL-EDA50-V-16204B17A7",
        "mode": "online",
        "status": "active",
        "last_seen": "2026-12-05T10:20:03.120455Z",
    }


def test_a_device_never_seen_has_no_last_contact() -> None:
    assert public_device(dataclasses.replace(DEVICE, last_seen=None))["last_seen"] is None


def test_the_gateways_record_carries_the_credential_hash_and_the_revision() -> None:
    record = device_record(DEVICE)
    assert record == {"device": public_device(DEVICE), "credential_hash": "h" * 64, "revision": 3}


def test_the_list_puts_active_then_blocked_then_retired_and_pins_in_numeric_order() -> None:
    devices = [
        dataclasses.replace(DEVICE, id="retired", status="retired", pin="1000"),
        dataclasses.replace(DEVICE, id="long", pin="10000"),
        dataclasses.replace(DEVICE, id="blocked", status="blocked", pin="2000"),
        dataclasses.replace(DEVICE, id="short", pin="9999"),
    ]
    ordered = [d.id for d in sorted(devices, key=listing_order)]
    assert ordered == ["short", "long", "blocked", "retired"]


def test_the_view_reads_the_stored_moment_as_a_moment() -> None:
    seen = device_view(DEVICE).last_seen
    assert seen == datetime(2026, 12, 5, 10, 20, 3, 120455, tzinfo=UTC)
