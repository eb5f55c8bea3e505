"""Running a unit of work again when the database aborted its transaction for a conflict.

MongoDB aborts one of two transactions that write the same document (a write conflict, labelled
``TransientTransactionError``); the whole unit of work must run again, on fresh reads. Both
adapters go through this one loop, and so does a consumer running a message's handler again
(shared/messaging/consumer.py), so the rule is in one place: bounded in attempts and in time,
with a jittered, growing pause so that two colliding writers drift apart. The log names what
ran again as ``where``: a store, or a queue and a message type.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from shared.logging import get_logger
from shared.storage.port import TransactionConflict

T = TypeVar("T")

log = get_logger("tsdx.storage")

MAX_ATTEMPTS = 10
# PyMongo's with_transaction gives up after 120 s; a request or a message handler cannot wait
# that long, and a conflict that lasts seconds is load, not bad luck.
MAX_SECONDS = 10.0
FIRST_PAUSE_SECONDS = 0.005
MAX_PAUSE_SECONDS = 0.5


class ConflictPersisted(TransactionConflict):
    """A conflict not to be run again here: it outlasted a loop of re-runs, or (a consumer
    stopping) there is no time left to. A loop around it (a consumer re-running the handler of
    a message whose unit of work re-runs too) does not run it again: the bounds would
    multiply, and the message would hold its place for as long."""


async def retry_conflicts(attempt: Callable[[], Awaitable[T]], where: str) -> T:
    """``attempt()`` until it does not end in ``TransactionConflict`` (or the bounds are hit:
    then :class:`ConflictPersisted`). ``where`` names the store or the message for the log."""
    deadline = time.monotonic() + MAX_SECONDS
    pause = FIRST_PAUSE_SECONDS
    for number in range(1, MAX_ATTEMPTS + 1):
        try:
            return await attempt()
        except ConflictPersisted:
            raise
        except TransactionConflict as exc:
            if number == MAX_ATTEMPTS or time.monotonic() + pause > deadline:
                log.warning("storage.transaction_gave_up", where=where, attempts=number)
                raise ConflictPersisted(str(exc)) from exc
            log.info("storage.transaction_retried", where=where, attempt=number, error=str(exc))
        # Full jitter: a random pause up to the current bound.
        await asyncio.sleep(random.uniform(0, pause))
        pause = min(pause * 2, MAX_PAUSE_SECONDS)
    raise AssertionError("unreachable")  # pragma: no cover
