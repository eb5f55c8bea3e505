"""Devices online: last sightings, throttled writes of last_seen, the five-minute window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.gateway.presence import ONLINE_WINDOW, WRITE_EVERY, Presence
from tests.support.gateway_copies import a_device

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def test_the_first_sighting_is_written_then_writes_are_spaced() -> None:
    presence = Presence()
    assert presence.saw("d1", T0) is True
    assert presence.saw("d1", T0 + timedelta(seconds=1)) is False
    assert presence.saw("d1", T0 + WRITE_EVERY) is True


def test_devices_seen_within_the_window_are_online() -> None:
    presence = Presence()
    presence.saw("d1", T0)
    presence.saw("d2", T0 + timedelta(minutes=3))
    assert presence.online(T0 + timedelta(minutes=1)) == 2
    assert presence.online(T0 + ONLINE_WINDOW + timedelta(seconds=1)) == 1
    assert presence.online(T0 + timedelta(minutes=9)) == 0


def test_a_forgotten_device_is_written_again_when_it_returns() -> None:
    presence = Presence()
    presence.saw("d1", T0)
    presence.online(T0 + timedelta(minutes=10))
    assert presence.saw("d1", T0 + timedelta(minutes=10)) is True


def test_seeding_from_stored_copies_keeps_who_was_online() -> None:
    presence = Presence()
    presence.seed([a_device(id="d1", last_seen=T0.isoformat()), a_device(id="d2", last_seen=None)])
    assert presence.online(T0 + timedelta(minutes=1)) == 1
    # Written at T0 already, so a sighting right after does not write again.
    assert presence.saw("d1", T0 + timedelta(seconds=5)) is False
