"""CPU time spent by each process during a phase, from /proc/<pid>/stat.

On a small, shared machine wall-clock rates move with whatever else runs; the CPU seconds a
service spends per document do not, so they show where the cost is.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(stat: str, ticks_per_second: int = _TICKS) -> float:
    """User + system CPU time of a /proc/<pid>/stat text, in seconds."""
    # The command name is in parentheses and may hold spaces: count fields after it.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of the whole line
    return (utime + stime) / ticks_per_second


def read_cpu_seconds(pid: int) -> float | None:
    try:
        return cpu_seconds(Path(f"/proc/{pid}/stat").read_text())
    except (OSError, ValueError, IndexError):
        return None


def broker_pid() -> int | None:
    """The local RabbitMQ's Erlang VM (``beam.smp``), if it runs on this machine."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "beam.smp":
                    return int(entry.name)
            except OSError:
                continue
    return None


def ms_each(spent: Mapping[str, float], count: int) -> str:
    """Each process's CPU milliseconds per unit of work (``count`` of them): "name 1.23, ..."."""
    return ", ".join(f"{name} {1000 * s / count:.2f}" for name, s in spent.items())


class CpuMeter:
    """CPU seconds each named process spends between ``start`` and ``stop``."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self._pids = dict(pids)
        self._before: dict[str, float] = {}

    def start(self) -> None:
        found = {name: read_cpu_seconds(pid) for name, pid in self._pids.items()}
        self._before = {name: s for name, s in found.items() if s is not None}

    def stop(self) -> dict[str, float]:
        spent = {}
        for name, before in self._before.items():
            after = read_cpu_seconds(self._pids[name])
            if after is not None:
                spent[name] = after - before
        return spent
