"""Python's cyclic garbage collector held off while a large batch is worked through.

Reading a catalog call of 5,000 products makes some 100,000 containers in a few milliseconds;
each 700 of them start a young collection, and those soon start full ones, which walk every
object the service holds (a gateway holds more than 100,000 before any request). Measured on a
catalog call, that cost as much again as the work itself. Nearly all of a batch's objects are
freed by their reference counts anyway; any cycle among them waits for the next collection
after the batch.

A work-queue consumer holds it off the same way while it reads and handles a message over
1 MiB (a 10,000-line document), and collects the young generations after it
(shared/messaging/consumer.py), and the outbox relay in each of its passes: what it reads back
of the outbox is published and deleted within the pass (shared/outbox_relay.py; what it sends
from memory was never read back, and its confirms are awaited outside the pass).

A service's start-up objects (modules, models, its app and routes: most of what it holds) are
moved out of the collector's sight once it is up (:func:`freeze_start_up`): they live as long
as the process, and a full collection would otherwise walk them all each time.

While it serves, whatever lives through a young collection is moved out of sight the same way
(:func:`long_lived_frozen`). A gateway holding 10,000 long polls tracks some 85 objects for
each (its coroutines, task, timer, connection and parser): 850,000 more, which the collector
promoted to its oldest generation and walked whole each time that grew by a quarter. Measured
while the polls connected (machine loaded): full passes of 0.65 s over 435,000 objects up to
1.6 s over 856,000, the event loop stopped each time, and a document that arrived meanwhile
waited it out. Frozen, they are walked by no automatic collection.

A frozen object is still freed when its last reference goes (the heap shrinks as polls end);
only garbage *cycles* among frozen objects wait. So the freeze is undone and everything
collected once again (one full pass) whenever what the process holds has doubled since the
last time (its resident memory, read from ``/proc/self/statm``; elsewhere the interpreter's
allocated blocks), or an hour has passed: cyclic garbage never outgrows what the process held
at that pass, nor an hour's worth, however long the process runs. (Either is read in well
under a millisecond; the frozen set is a list walked one by one to be counted, 40 ms for a
million objects: never asked here.) A pass that fails is logged and tried again at the next
check.

Work that holds the collector off overlaps with other tasks of the same event loop, so holds
are counted: the collector comes back when the last one ends, and only if it was on before.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from typing import Any

from shared.logging import get_logger

log = get_logger("tsdx.collector")

# The freeze is undone and everything collected once what the process holds has grown this many
# times over since the last such pass, or this long after it; looked at this often.
REFRESH_GROWTH = 2.0
REFRESH_SECONDS = 3600.0
CHECK_SECONDS = 2.0
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

_holds = 0
_was_enabled = False


@contextmanager
def collector_held() -> Iterator[None]:
    global _holds, _was_enabled
    if _holds == 0:
        _was_enabled = gc.isenabled()
        gc.disable()
    _holds += 1
    try:
        yield
    finally:
        _holds -= 1
        if _holds == 0 and _was_enabled:
            gc.enable()


def freeze_start_up() -> None:
    """Keep what the process holds now out of every later collection (``gc.freeze``): called
    once a service has started, after a collection of start-up's garbage. Each full pass walks
    every tracked object with the event loop stopped: about 50 ms of CPU for the gateway's
    100,000 at start, a stall every request and message in flight then waits out (it was the
    upload latency's tail). Frozen objects are still freed when no longer referenced; only
    cycles among them are not."""
    gc.collect()
    gc.freeze()


def _freeze_survivors(phase: str, info: dict[str, Any]) -> None:
    """A ``gc.callbacks`` hook: what lived through a collection of the older young generation
    (or a full one) is frozen, before it would gather in the generation full passes walk."""
    if phase == "stop" and info["generation"] >= 1:
        gc.freeze()


def refresh() -> int:
    """Undo the freeze, collect everything once (the cycles among frozen objects that died
    meanwhile included), freeze what lives; how many objects it found unreachable."""
    gc.unfreeze()
    collected = gc.collect()
    gc.freeze()
    return collected


def refresh_due(held: int, held_after_last: int, seconds_since_last: float) -> bool:
    return held > REFRESH_GROWTH * held_after_last or seconds_since_last >= REFRESH_SECONDS


def _held_memory() -> int:
    """What the process holds: its resident bytes where Linux tells them (``/proc/self/statm``,
    a read of a few bytes), else its allocated blocks. A block is one object however large, so
    blocks alone miss dead cycles holding large buffers; resident bytes do not."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_BYTES
    except (OSError, ValueError, IndexError):
        return sys.getallocatedblocks()


async def _refresh_when_due() -> None:
    held_after_last, last = _held_memory(), time.monotonic()
    while True:
        await asyncio.sleep(CHECK_SECONDS)
        held = _held_memory()
        # Not while a batch holds the collector off: its objects are about to go anyway.
        if _holds or not refresh_due(held, held_after_last, time.monotonic() - last):
            continue
        started = time.perf_counter()
        try:
            collected = refresh()
        except Exception:  # a pass that failed is tried again at the next check, never dropped
            log.exception("collector.refresh_failed")
            continue
        held_after_last, last = _held_memory(), time.monotonic()
        log.info(
            "collector.refreshed",
            held_before=held,
            held=held_after_last,
            collected=collected,
            ms=round(1000 * (time.perf_counter() - started), 1),
        )


@asynccontextmanager
async def long_lived_frozen(*, full_passes: bool = True) -> AsyncIterator[None]:
    """While the block runs (a service serving): start-up objects frozen, then whatever lives
    through a young collection, with the freeze undone for one full pass when due.

    ``full_passes=False`` is for a run of bounded length that must not stop for a full pass while
    it lasts (the bench's client, which times what it measures): the cycles that die frozen
    wait for the end of the process."""
    freeze_start_up()
    gc.callbacks.append(_freeze_survivors)
    refreshing = asyncio.create_task(_refresh_when_due()) if full_passes else None
    try:
        yield
    finally:
        gc.callbacks.remove(_freeze_survivors)  # first: whatever ends the refreshing task
        if refreshing is not None:
            refreshing.cancel()
            with suppress(asyncio.CancelledError):
                await refreshing
