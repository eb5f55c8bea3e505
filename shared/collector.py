"""Python's cyclic garbage collector held off while a large batch is worked through.

Reading a catalog call of 5,000 products makes some 100,000 containers in a few milliseconds;
each 700 of them start a young collection, and those soon start full ones, which walk every
object the service holds (a gateway holds more than 100,000 before any request). Measured on a
catalog call, that cost as much again as the work itself. Nearly all of a batch's objects are
freed by their reference counts anyway; any cycle among them waits for the next collection
after the batch.

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
