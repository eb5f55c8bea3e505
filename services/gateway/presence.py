"""Which devices are online: when each was last seen, and how many were seen lately.

Every authenticated terminal call counts as a sighting, kept in memory. The stored
``last_seen`` (shown in the base's device list) is due at most every ``WRITE_EVERY`` per
device, so a chatty terminal does not turn each request into a write; the sightings due are
written together, every ``FLUSH_EVERY``, in one transaction (:meth:`Presence.take_due`,
``sightings.py``), not one transaction and one message per device. A gateway that dies loses
at most the sightings of the last ``FLUSH_EVERY``. The count of devices seen within
``ONLINE_WINDOW`` feeds the ``tsdx_devices_online`` gauge.

The other services learn of a sighting (``device.seen``) less often: a device's contact is
announced when the others know of none (its first sighting, or its first since it was out of
the online window), then only once it is ``announce_every`` newer than the last they were told
of (``TSDX_SIGHTING_PRECISION_SECONDS``, the last contact's precision on the dashboard). A
download (``delivery.progressed``, with the device and its time) tells them too
(:meth:`Presence.told`), so a terminal that takes documents needs no ``device.seen`` at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from services.gateway.records import DeviceCopy

ONLINE_WINDOW = timedelta(minutes=5)
WRITE_EVERY = timedelta(seconds=30)
FLUSH_EVERY = timedelta(seconds=1)
ANNOUNCE_EVERY = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Due:
    """A sighting to be written: the device's ``last_seen``, and, when ``announce``, its base's
    ``device.seen``."""

    device_id: str
    tenant: str
    at: datetime
    announce: bool = False


class Presence:
    def __init__(self, announce_every: timedelta = ANNOUNCE_EVERY) -> None:
        self._announce_every = announce_every
        self._seen: dict[str, datetime] = {}
        self._written: dict[str, datetime] = {}
        # The latest sighting the other services were told of (device.seen or a download).
        self._announced: dict[str, datetime] = {}
        self._due: dict[str, Due] = {}

    def seed(self, devices: Iterable[DeviceCopy]) -> None:
        """Start from the stored copies, so a restart does not forget who was online."""
        for device in devices:
            if device.last_seen:
                at = datetime.fromisoformat(device.last_seen)
                self._seen[device.id] = at
                self._written[device.id] = at
                self._announced[device.id] = at

    def saw(self, device_id: str, tenant: str, at: datetime) -> bool:
        """Record a sighting; True when it makes the stored ``last_seen`` due (written with
        the next :meth:`take_due`)."""
        self._seen[device_id] = at
        due = self._due.get(device_id)
        if due is not None:  # already due: the write (and its news) takes the latest moment
            self._due[device_id] = Due(device_id, due.tenant, at, due.announce)
            if due.announce:
                self._announced[device_id] = at
            return False
        written = self._written.get(device_id)
        if written is not None and at - written < WRITE_EVERY:
            return False
        self._written[device_id] = at
        announced = self._announced.get(device_id)
        announce = announced is None or at - announced >= self._announce_every
        if announce:
            self._announced[device_id] = at
        self._due[device_id] = Due(device_id, tenant, at, announce)
        return True

    def told(self, device_id: str, at: datetime) -> None:
        """The other services were told of the device's contact at ``at`` by another message
        (its download's ``delivery.progressed``): no ``device.seen`` needed for it."""
        announced = self._announced.get(device_id)
        if announced is None or at > announced:
            self._announced[device_id] = at

    def take_due(self) -> list[Due]:
        """The sightings due since the last call, to be written now."""
        due = list(self._due.values())
        self._due.clear()
        return due

    def put_back(self, due: Iterable[Due]) -> None:
        """Sightings whose write failed: due again, unless a newer one is due already (which
        then carries the failed one's news too)."""
        for sighting in due:
            newer = self._due.get(sighting.device_id)
            if newer is None:
                self._due[sighting.device_id] = sighting
            elif sighting.announce and not newer.announce:
                self._due[sighting.device_id] = replace(newer, announce=True)

    def last_seen(self, device_id: str) -> datetime | None:
        """The device's latest sighting here (within ``ONLINE_WINDOW``), written or not."""
        return self._seen.get(device_id)

    def online(self, now: datetime) -> int:
        """Devices seen within the window; older sightings are forgotten."""
        cutoff = now - ONLINE_WINDOW
        stale = [d for d, at in self._seen.items() if at < cutoff]
        for device_id in stale:
            del self._seen[device_id]
            self._written.pop(device_id, None)
            self._announced.pop(device_id, None)
        return len(self._seen)
