"""Which decisions are news to the registry's known-devices list (the accounting side's "pick
from the list", services/registry/known_devices.py).

The list keeps each base's devices its uploads reached, with the time of the latest use it
heard of. It needs to hear of a device's first use, and of later ones often enough to keep the
list in the order of use; it does not need every upload: at a hundred uploads a second to the
same few terminals, hearing of each would cost the registry and the broker a delivery per
upload for a list that changes by seconds. So a decision is news when one of the devices it
reached was not told to the list by this process within :data:`TOLD_FOR_SECONDS`; routing then
publishes it under its news key (``shared.messaging.topology.device_news_of``), the only key the
registry binds.

What is told is remembered once the decision's transaction committed (:meth:`DeviceNews.told`),
so a decision rolled back tells nothing and hides nothing. The memory is each process's own:
another routing instance, or this one after a restart, tells the list again, which only notes
what it has already (noting is idempotent). A device's time in the list is then at most
:data:`TOLD_FOR_SECONDS` behind its latest upload.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from time import monotonic

# How long the list is taken to know a device's use once told of it.
TOLD_FOR_SECONDS = 60.0
# Bound of the memory (a few MB): past it, the devices told longest ago are forgotten first;
# one forgotten before its time is only news again sooner (a note the list has already).
REMEMBERED_AT_MOST = 20_000


class DeviceNews:
    def __init__(
        self,
        told_for: float = TOLD_FOR_SECONDS,
        at_most: int = REMEMBERED_AT_MOST,
        clock: Callable[[], float] = monotonic,
    ) -> None:
        self._told_for = told_for
        self._at_most = at_most
        self._clock = clock
        # In the order told, the longest ago first (a device told again moves to the end).
        self._told_at: dict[tuple[str, str], float] = {}

    def is_news(self, tenant: str, device_ids: Sequence[str]) -> bool:
        """Whether the list should hear of this use of these devices of the base."""
        now = self._clock()
        for device_id in device_ids:
            told_at = self._told_at.get((tenant, device_id))
            if told_at is None or now - told_at >= self._told_for:
                return True
        return False

    def told(self, tenant: str, device_ids: Sequence[str]) -> None:
        """The list was told of these devices (their decision committed, published as news)."""
        now = self._clock()
        for device_id in device_ids:
            key = (tenant, device_id)
            self._told_at.pop(key, None)
            self._told_at[key] = now
        self._forget(now)

    @property
    def remembered(self) -> int:
        """How many devices of bases are remembered as told."""
        return len(self._told_at)

    def _forget(self, now: float) -> None:
        """Forget, from the longest ago, what is news again anyway, and what is over the bound."""
        while self._told_at:
            key, told_at = next(iter(self._told_at.items()))
            if now - told_at < self._told_for and len(self._told_at) <= self._at_most:
                return
            del self._told_at[key]
