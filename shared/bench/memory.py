"""Resident memory of the service processes, read from /proc/<pid>/status."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from contextlib import suppress
from pathlib import Path


def rss_mb(status: str) -> float:
    """``VmRSS`` of a /proc/<pid>/status text, in MB (it is given in kB)."""
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise ValueError("VmRSS missing: the process has ended or is a kernel thread")


def read_rss_mb(pid: int) -> float | None:
    try:
        return rss_mb(Path(f"/proc/{pid}/status").read_text())
    except (OSError, ValueError):
        return None


def snapshot(pids: Mapping[str, int]) -> dict[str, float]:
    """RSS of each named process now; a process that has ended is left out."""
    found = {name: read_rss_mb(pid) for name, pid in pids.items()}
    return {name: mb for name, mb in found.items() if mb is not None}


class PeakSampler:
    """Samples the processes every ``interval`` seconds while running; keeps each one's peak.

    ``pids`` is asked each time, so a service started again is followed under its new pid.
    """

    def __init__(self, pids: Callable[[], Mapping[str, int]], interval: float = 0.5) -> None:
        self._pids = pids
        self._interval = interval
        self.peaks: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> None:
        for name, mb in snapshot(self._pids()).items():
            self.peaks[name] = max(mb, self.peaks.get(name, 0.0))

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self._interval)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="rss-sampler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.sample()
