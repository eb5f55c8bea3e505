"""Work on the event loop's thread, as a handler's SQLite statements are: the loop runs
nothing else meanwhile."""

from __future__ import annotations

import time


def busy_for(seconds: float) -> None:
    """Hold the calling thread for ``seconds`` of work (spinning, not sleeping)."""
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        pass
