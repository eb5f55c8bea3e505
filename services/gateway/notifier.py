"""Wakes requests waiting in this process: an upload waiting for its answer, the webhook sender.

Another gateway replica may have stored the news, so waiters also re-check the store now and
then; the notifier only makes the common case immediate. Long polls have a watch of their own
(inbox_watch.py), woken on every instance without re-checks per poll.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from contextlib import suppress


class Notifier:
    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Event]] = defaultdict(set)

    def notify(self, key: str) -> None:
        for event in self._waiters.get(key, ()):
            event.set()

    async def wait(self, key: str, timeout: float) -> bool:
        event = asyncio.Event()
        self._waiters[key].add(event)
        try:
            with suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)
            return event.is_set()
        finally:
            waiters = self._waiters.get(key)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[key]
