"""Guessing limits: at most N guesses a minute for one key, however many instances run.

The gateway limits PIN guesses per API key; the LAN writer limits log-in attempts per user name
(badges per base). A guess is counted in the service's store *before* it is decided (reserve),
so a burst sent at once cannot outrun the count: the guess past the limit is refused before it
goes anywhere. When the answer comes, a hit gives its reservation back (the limit is on wrong
guesses) and a miss keeps it; an answer still pending keeps it until the answer arrives. The
store is shared by every instance of the service, so N instances allow the limit once, not N
times.

Counting is by fixed windows: the first guess opens a window of a minute, the window allows N,
and a guess after it ends opens the next. (Across the boundary of two windows up to 2N may fall
within one minute; a sliding window would need every guess's time in the store.)
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from shared.storage import Collection, Session

ATTEMPTS = Collection("attempts")


@dataclass(frozen=True)
class Reservation:
    key: str
    window_ends_ms: int
    retry_after: int | None  # None: reserved, go on; else refused, seconds until the next window


class GuessLimit:
    def __init__(
        self,
        store: Session,
        scope: str,
        limit: int,
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._scope = scope  # keeps keys of different limits in one collection apart
        self._limit = limit
        self._window_ms = int(window_seconds * 1000)
        self._clock = clock

    async def reserve(self, key: str) -> Reservation:
        """Count a guess for ``key`` now; refused (``retry_after`` set) past the limit."""
        now_ms = int(self._clock() * 1000)
        # Hashed: the key may hold a user name or control characters; the store needs neither.
        stored_key = f"{self._scope}:{hashlib.sha256(key.encode()).hexdigest()}"
        attempts = await self._store.add_attempt(
            ATTEMPTS.name, stored_key, now_ms=now_ms, window_ms=self._window_ms
        )
        if attempts.count <= self._limit:
            return Reservation(stored_key, attempts.window_ends_ms, None)
        wait = max(1, math.ceil((attempts.window_ends_ms - now_ms) / 1000))
        return Reservation(stored_key, attempts.window_ends_ms, wait)

    async def give_back(self, reservation: Reservation) -> None:
        """The guess was right (or never made): it does not count against the key."""
        await give_back(self._store, reservation)


async def give_back(session: Session, reservation: Reservation) -> None:
    """Uncount a reserved guess, in ``session`` (a transaction settling a late answer, say)."""
    await session.take_back_attempt(
        ATTEMPTS.name, reservation.key, window_ends_ms=reservation.window_ends_ms
    )
