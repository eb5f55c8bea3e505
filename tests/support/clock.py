"""A clock the test moves by hand, for code that takes its clock as a function (monotonic
seconds)."""

from __future__ import annotations


class Clock:
    """Reads ``now``; the test sets or advances it."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
