"""Which devices are online: when each was last seen, and how many were seen lately.

Every authenticated terminal call counts as a sighting, kept in memory. The stored
``last_seen`` (shown in the base's device list) is due at most every ``WRITE_EVERY`` per
device, so a chatty terminal does not turn each request into a write; the sightings due are
written together, every ``FLUSH_EVERY``, in one transaction (:meth:`Presence.take_due`,
``sightings.py``), not one transaction and one message per device. A gateway that dies loses
at most the sightings of the last ``FLUSH_EVERY``. The count of devices seen within
``ONLINE_WINDOW`` feeds the ``tsdx_devices_online`` gauge.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.gateway.records import DeviceCopy

ONLINE_WINDOW = timedelta(minutes=5)
WRITE_EVERY = timedelta(seconds=30)
FLUSH_EVERY = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class Due:
    """A sighting to be written: the device's ``last_seen`` and its base's event."""

    device_id: str
    tenant: str
    at: datetime


class Presence:
    def __init__(self) -> None:
        self._seen: dict[str, datetime] = {}
        self._written: dict[str, datetime] = {}
        self._due: dict[str, Due] = {}

    def seed(self, devices: Iterable[DeviceCopy]) -> None:
        """Start from the stored copies, so a restart does not forget who was online."""
        for device in devices:
            if device.last_seen:
                at = datetime.fromisoformat(device.last_seen)
                self._seen[device.id] = at
                self._written[device.id] = at

    def saw(self, device_id: str, tenant: str, at: datetime) -> bool:
        """Record a sighting; True when it makes the stored ``last_seen`` due (written with
        the next :meth:`take_due`)."""
        self._seen[device_id] = at
        due = self._due.get(device_id)
        if due is not None:  # already due: the write takes the latest moment
            self._due[device_id] = Due(device_id, tenant, at)
            return False
        written = self._written.get(device_id)
        if written is not None and at - written < WRITE_EVERY:
            return False
        self._written[device_id] = at
        self._due[device_id] = Due(device_id, tenant, at)
        return True

    def take_due(self) -> list[Due]:
        """The sightings due since the last call, to be written now."""
        due = list(self._due.values())
        self._due.clear()
        return due

    def put_back(self, due: Iterable[Due]) -> None:
        """Sightings whose write failed: due again, unless a newer one is due already."""
        for sighting in due:
            self._due.setdefault(sighting.device_id, sighting)

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
        return len(self._seen)
