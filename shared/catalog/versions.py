"""Which versions of a catalog a copy has applied, whatever order the messages came in.

A copy serves terminals only up to the highest version below which nothing is missing: were
it to serve a later message applied before an earlier one, a terminal would move past the
earlier one's items and never see them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Coverage:
    """``version``: every version up to it is applied. ``pending``: ranges applied beyond a
    gap, sorted and apart from one another."""

    version: int = 0
    pending: tuple[tuple[int, int], ...] = ()

    def cover(self, first: int, last: int) -> Coverage:
        """The coverage once versions ``first`` to ``last`` are applied too."""
        if first > last:
            raise ValueError(f"empty range {first}..{last}")
        ranges = sorted([*self.pending, (first, last)])
        version = self.version
        left: list[tuple[int, int]] = []
        for lo, hi in ranges:
            if lo <= version + 1:
                version = max(version, hi)
            elif left and lo <= left[-1][1] + 1:
                left[-1] = (left[-1][0], max(left[-1][1], hi))
            else:
                left.append((lo, hi))
        return Coverage(version, tuple((lo, hi) for lo, hi in left if hi > version))

    @property
    def known(self) -> int:
        """The highest version applied, gap or not."""
        return max([self.version, *(hi for _, hi in self.pending)])


def newer(incoming: int, stored: int | None) -> bool:
    """An item's change applies only over an older one: a late message never undoes a newer."""
    return stored is None or incoming > stored
