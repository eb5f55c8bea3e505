"""Which devices are online: when each was last seen, and how many were seen lately.

Every authenticated terminal call counts as a sighting. The stored ``last_seen`` (shown in the
base's device list) is written at most every ``WRITE_EVERY``, so a chatty terminal does not turn
each request into a write; the count of devices seen within ``ONLINE_WINDOW`` feeds the
``tsdx_devices_online`` gauge.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from services.gateway.records import DeviceCopy

ONLINE_WINDOW = timedelta(minutes=5)
WRITE_EVERY = timedelta(seconds=30)


class Presence:
    def __init__(self) -> None:
        self._seen: dict[str, datetime] = {}
        self._written: dict[str, datetime] = {}

    def seed(self, devices: Iterable[DeviceCopy]) -> None:
        """Start from the stored copies, so a restart does not forget who was online."""
        for device in devices:
            if device.last_seen:
                at = datetime.fromisoformat(device.last_seen)
                self._seen[device.id] = at
                self._written[device.id] = at

    def saw(self, device_id: str, at: datetime) -> bool:
        """Record a sighting; True when the stored ``last_seen`` should be written now."""
        self._seen[device_id] = at
        written = self._written.get(device_id)
        if written is not None and at - written < WRITE_EVERY:
            return False
        self._written[device_id] = at
        return True

    def online(self, now: datetime) -> int:
        """Devices seen within the window; older sightings are forgotten."""
        cutoff = now - ONLINE_WINDOW
        stale = [d for d, at in self._seen.items() if at < cutoff]
        for device_id in stale:
            del self._seen[device_id]
            self._written.pop(device_id, None)
        return len(self._seen)
