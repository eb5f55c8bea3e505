"""Ids that tsdx makes for its own records and messages."""

from __future__ import annotations

import secrets
import time


def time_ordered_id() -> str:
    """32 hex digits, as a random UUID's: the first 12 the time in milliseconds, the other 80
    bits random (a clash would need two of 2**80 drawn in the same millisecond).

    Ids made one after another sit side by side in every index by id. A random id lands
    anywhere in a large index, so each insert writes a page of its own (a WAL page at the
    commit, copied back again at the checkpoint, and often read first); these go to the few
    pages at the index's end, which stay in the cache and are written back once for many.

    Nothing may read a record's age from its id: ids stored by earlier releases are random
    UUIDs, and other systems' messages carry ids of their own making."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"
