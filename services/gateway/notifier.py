"""Wakes requests waiting in this process: an upload waiting for its answer, the webhook sender.

Another gateway replica may have stored the news, so waiters also re-check the store now and
then; the notifier only makes the common case immediate. Long polls have a watch of their own
(inbox_watch.py), woken on every instance without re-checks per poll.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any


class News(asyncio.Event):
    """An event set by a notification, with what the notifier stored, if it said (``stored``):
    a waiter that needs the stored record takes it from here instead of reading it again."""

    stored: Any = None


class Notifier:
    def __init__(self) -> None:
        self._waiters: dict[str, set[News]] = defaultdict(set)

    def notify(self, key: str, stored: Any = None) -> None:
        """Wake whoever watches ``key``; ``stored``: the record as this process committed it,
        given only once committed (a waiter takes it for what the store holds)."""
        for event in self._waiters.get(key, ()):
            if stored is not None:
                event.stored = stored
            event.set()

    @contextmanager
    def watching(self, key: str) -> Iterator[News]:
        """An event set by every notification of ``key`` while the block runs: watched before
        the work whose news it waits for, so no news is missed in between."""
        event = News()
        self._waiters[key].add(event)
        try:
            yield event
        finally:
            waiters = self._waiters.get(key)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[key]

    async def wait(self, key: str, timeout: float) -> bool:
        with self.watching(key) as event:
            return await set_within(event, timeout)


async def set_within(event: asyncio.Event, timeout: float) -> bool:
    """Wait until the event is set or the timeout passes (a timer, not a task as
    ``asyncio.wait_for`` starts); whether it was set."""
    if not event.is_set():
        with suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await event.wait()
    return event.is_set()
