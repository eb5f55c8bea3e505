"""Devices online: last sightings, last_seen written in batches and spaced per device, the
five-minute window, and which sightings are announced to the other services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.gateway.presence import ANNOUNCE_EVERY, ONLINE_WINDOW, WRITE_EVERY, Due, Presence
from tests.support.gateway_copies import a_device

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def test_the_first_sighting_is_due_then_writes_are_spaced() -> None:
    presence = Presence()
    assert presence.saw("d1", "t1", T0) is True
    assert presence.take_due() == [Due("d1", "t1", T0, announce=True)]
    assert presence.saw("d1", "t1", T0 + timedelta(seconds=1)) is False
    assert presence.take_due() == []
    assert presence.saw("d1", "t1", T0 + WRITE_EVERY) is True
    assert presence.take_due() == [Due("d1", "t1", T0 + WRITE_EVERY)]


def test_the_sightings_of_many_devices_are_taken_together_once() -> None:
    presence = Presence()
    for n in range(5):
        presence.saw(f"d{n}", "t1" if n % 2 else "t2", T0 + timedelta(seconds=n))
    due = presence.take_due()
    assert {d.device_id: (d.tenant, d.at) for d in due} == {
        f"d{n}": ("t1" if n % 2 else "t2", T0 + timedelta(seconds=n)) for n in range(5)
    }
    assert presence.take_due() == []


def test_a_device_seen_again_before_the_write_is_written_with_its_latest_moment() -> None:
    presence = Presence()
    presence.saw("d1", "t1", T0)
    assert presence.saw("d1", "t1", T0 + timedelta(seconds=2)) is False
    assert presence.take_due() == [Due("d1", "t1", T0 + timedelta(seconds=2), announce=True)]


def test_a_failed_write_is_due_again_without_undoing_a_newer_sighting() -> None:
    presence = Presence()
    presence.saw("d1", "t1", T0)
    presence.saw("d2", "t1", T0)
    failed = presence.take_due()
    presence.saw("d1", "t1", T0 + WRITE_EVERY)  # due anew meanwhile, later
    presence.put_back(failed)
    # d1's newer sighting carries the failed one's news (its first, to be announced).
    assert sorted(presence.take_due(), key=lambda d: d.device_id) == [
        Due("d1", "t1", T0 + WRITE_EVERY, announce=True),
        Due("d2", "t1", T0, announce=True),
    ]


def test_the_latest_sighting_is_known_before_it_is_written() -> None:
    presence = Presence()
    assert presence.last_seen("d1") is None
    presence.saw("d1", "t1", T0)
    presence.take_due()
    presence.saw("d1", "t1", T0 + timedelta(seconds=7))
    assert presence.last_seen("d1") == T0 + timedelta(seconds=7)


def test_devices_seen_within_the_window_are_online() -> None:
    presence = Presence()
    presence.saw("d1", "t1", T0)
    presence.saw("d2", "t1", T0 + timedelta(minutes=3))
    assert presence.online(T0 + timedelta(minutes=1)) == 2
    assert presence.online(T0 + ONLINE_WINDOW + timedelta(seconds=1)) == 1
    assert presence.online(T0 + timedelta(minutes=9)) == 0


def test_a_forgotten_device_is_written_again_when_it_returns() -> None:
    presence = Presence()
    presence.saw("d1", "t1", T0)
    presence.take_due()
    presence.online(T0 + timedelta(minutes=10))
    assert presence.saw("d1", "t1", T0 + timedelta(minutes=10)) is True


def test_seeding_from_stored_copies_keeps_who_was_online() -> None:
    presence = Presence()
    presence.seed([a_device(id="d1", last_seen=T0.isoformat()), a_device(id="d2", last_seen=None)])
    assert presence.online(T0 + timedelta(minutes=1)) == 1
    # Written at T0 already, so a sighting right after does not write again.
    assert presence.saw("d1", "t1", T0 + timedelta(seconds=5)) is False
    assert presence.take_due() == []


def _announced(presence: Presence) -> list[tuple[str, datetime]]:
    return [(d.device_id, d.at) for d in presence.take_due() if d.announce]


def test_a_device_is_announced_when_first_seen_then_once_a_precision_later() -> None:
    presence = Presence()
    presence.saw("d1", "t1", T0)
    assert _announced(presence) == [("d1", T0)]
    # Written every 30 s, announced only once its contact is ANNOUNCE_EVERY newer.
    written = T0
    while written + WRITE_EVERY < T0 + ANNOUNCE_EVERY:
        written += WRITE_EVERY
        assert presence.saw("d1", "t1", written) is True
        assert _announced(presence) == []
    later = T0 + ANNOUNCE_EVERY
    presence.saw("d1", "t1", later)
    assert _announced(presence) == [("d1", later)]


def test_a_download_tells_the_others_so_no_sighting_is_announced_for_it() -> None:
    presence = Presence()
    presence.saw("d1", "t1", T0)
    presence.take_due()
    downloaded = T0 + ANNOUNCE_EVERY - timedelta(seconds=5)
    presence.told("d1", downloaded)
    presence.saw("d1", "t1", T0 + ANNOUNCE_EVERY)
    due = presence.take_due()
    assert [d.device_id for d in due] == ["d1"]  # its last_seen is still written
    assert not due[0].announce
    # An older message changes nothing: the others know of the later contact.
    presence.told("d1", T0)
    presence.saw("d1", "t1", downloaded + ANNOUNCE_EVERY)
    assert _announced(presence) == [("d1", downloaded + ANNOUNCE_EVERY)]


def test_a_device_back_after_the_online_window_is_announced_at_once() -> None:
    presence = Presence()
    presence.saw("d1", "t1", T0)
    presence.take_due()
    back = T0 + ONLINE_WINDOW + timedelta(minutes=1)
    presence.online(back)
    presence.saw("d1", "t1", back)
    assert _announced(presence) == [("d1", back)]


def test_a_precision_of_zero_announces_every_write() -> None:
    presence = Presence(timedelta(0))
    presence.saw("d1", "t1", T0)
    presence.take_due()
    presence.told("d1", T0 + WRITE_EVERY)
    presence.saw("d1", "t1", T0 + WRITE_EVERY)
    assert _announced(presence) == [("d1", T0 + WRITE_EVERY)]
