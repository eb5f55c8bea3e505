"""Each device's inbox as its last poll read it, held in this gateway instance's memory, so that
a poll of an inbox that has not changed since answers without reading the store.

ARCHITECTURE.md §8 (issue #19, decision 3) allows a gateway to hold inbox summaries if a change
reaches every instance within a second. What is held is forgotten in one place,
:class:`~services.gateway.inbox_watch.InboxWatch` (its ``changed``, ``heard``, ``missed_some``
and safety check): the same news that wakes the device's long polls.

The rules this module keeps, without any I/O of its own:

- a read that raced a change does not put what it read back: :meth:`reading` is taken before
  the store read, and :meth:`keep` keeps the view only if the device was not forgotten since
  (nor everything);
- a view is held at most ``max_age`` seconds (a backstop for news that never came), and at most
  ``size`` views are held, the one kept longest ago dropped first;
- an answer is held only while it is small (:data:`MAX_HELD_BYTES` deflated), so that memory
  is bounded by ``size`` however many documents a device has open.
"""

from __future__ import annotations

import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, NamedTuple, TypeVar


class News(NamedTuple):
    """What of a device's inbox tells whether its terminal has news."""

    open: int  # copies open (delivered, downloaded or in progress)
    unacknowledged: bool  # one of them delivered and not acknowledged yet
    withdrawn: bool  # a withdrawal not seen yet

    def for_terminal(self, known: int) -> bool:
        """Whether the terminal, holding ``known`` documents, has news: a withdrawal, a copy
        it has not acknowledged, or a number of documents other than its own."""
        return self.withdrawn or self.open != known or self.unacknowledged


# The answer's JSON is held deflated: ten documents' 3 kB in about 0.7 kB, 12 µs to deflate
# once and 4 µs to inflate at each poll (a store read costs some 80 µs). A small window and
# memory level: zlib's default state (some 256 kB a call) costs five times as much to deflate
# an answer this small, and compresses it no better.
_WINDOW_BITS = 12
_MEMORY_LEVEL = 5


# The largest answer held, deflated. An answer grows with its device's open documents (some
# 80 bytes deflated each): ten documents deflate to about 0.7 kB, so 4 kB holds some fifty,
# and 10,000 devices' answers stay within 40 MB of the gateway's 150 MB budget. A larger
# answer is not held: each poll of that device reads its inbox from the store and writes the
# answer anew.
MAX_HELD_BYTES = 4096


def _deflated(body: bytes) -> bytes:
    packer = zlib.compressobj(1, zlib.DEFLATED, -_WINDOW_BITS, _MEMORY_LEVEL)
    return packer.compress(body) + packer.flush()


class HeldAnswer(NamedTuple):
    """A device's whole poll answer as held for it: what makes news, and the answer's JSON."""

    news: News
    deflated: bytes  # the JSON (:meth:`body`)
    # The language the JSON was written in; None when nothing in it depends on one (only a
    # refusal's message does).
    language: str | None

    @classmethod
    def of(cls, news: News, body: bytes, language: str | None) -> HeldAnswer:
        return cls(news, _deflated(body), language)

    @property
    def small_enough(self) -> bool:
        """Whether it may be held (:data:`MAX_HELD_BYTES`)."""
        return len(self.deflated) <= MAX_HELD_BYTES

    def body(self) -> bytes:
        return zlib.decompress(self.deflated, -_WINDOW_BITS)

    def answers_in(self, language: str) -> bool:
        return self.language is None or self.language == language


V = TypeVar("V")


class InboxSummaries(Generic[V]):
    def __init__(
        self, size: int, max_age: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._size = size
        self._max_age = max_age
        self._clock = clock
        # What is held, with when it was kept, the one kept longest ago first.
        self._held: OrderedDict[str, tuple[V, float]] = OrderedDict()
        # Every forgetting counts one: a read's mark is the count when it began.
        self._changes = 0
        # The count at each device's latest forgetting (the latest ``size`` devices), and the
        # count that stands for every other device: a device dropped from here, or everything
        # forgotten at once, may have been forgotten as late as that.
        self._forgotten: OrderedDict[str, int] = OrderedDict()
        self._floor = 0

    def get(self, device_id: str) -> V | None:
        """The view held for the device, unless there is none or it is too old."""
        held = self._held.get(device_id)
        if held is None:
            return None
        view, kept_at = held
        if self._clock() - kept_at > self._max_age:
            del self._held[device_id]
            return None
        return view

    def reading(self) -> int:
        """The mark of a store read about to begin: give it to :meth:`keep` with what it read."""
        return self._changes

    def keep(self, device_id: str, read_from: int, view: V) -> bool:
        """Hold what a read that began at ``read_from`` found, unless the device (or everything)
        was forgotten since: then what it read may be older than the change. Whether it is
        held."""
        if self._size <= 0 or read_from < max(self._floor, self._forgotten.get(device_id, 0)):
            return False
        now = self._clock()
        held = self._held
        held[device_id] = (view, now)
        held.move_to_end(device_id)
        # Drop the oldest: beyond the size, and any too old to be answered any more.
        while len(held) > self._size:
            held.popitem(last=False)
        while held:
            _, (_, kept_at) = next(iter(held.items()))
            if now - kept_at <= self._max_age:
                break
            held.popitem(last=False)
        return True

    def forget(self, device_id: str) -> None:
        """The device's inbox changed: drop its view, and any read of it in flight."""
        self._changes += 1
        self._held.pop(device_id, None)
        forgotten = self._forgotten
        forgotten[device_id] = self._changes
        forgotten.move_to_end(device_id)
        while len(forgotten) > max(self._size, 1):
            _, self._floor = forgotten.popitem(last=False)

    def forget_all(self) -> None:
        """Any inbox may have changed (news missed, a new instance met): drop everything."""
        self._changes += 1
        self._held.clear()
        self._forgotten.clear()
        self._floor = self._changes

    def __len__(self) -> int:
        return len(self._held)
