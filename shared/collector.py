"""Python's cyclic garbage collector held off while a large batch is worked through.

Reading a catalog call of 5,000 products makes some 100,000 containers in a few milliseconds;
each 700 of them start a young collection, and those soon start full ones, which walk every
object the service holds (a gateway holds more than 100,000 before any request). Measured on a
catalog call, that cost as much again as the work itself. Nearly all of a batch's objects are
freed by their reference counts anyway; any cycle among them waits for the next collection
after the batch.

A work-queue consumer holds it off the same way while it reads and handles a message over
1 MiB (a 10,000-line document), and collects the young generations after it
(shared/messaging/consumer.py), and the outbox relay while it reads back and publishes a batch
of rows (shared/outbox.py).

A service's start-up objects (modules, models, its app and routes: most of what it holds) are
moved out of the collector's sight once it is up (:func:`freeze_start_up`): they live as long
as the process, and a full collection would otherwise walk them all each time.

Work that holds the collector off overlaps with other tasks of the same event loop, so holds
are counted: the collector comes back when the last one ends, and only if it was on before.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

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
