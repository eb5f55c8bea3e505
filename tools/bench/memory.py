"""Resident memory of the service processes, read from /proc/<pid>/status."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from contextlib import suppress
from pathlib import Path


def status_mb(status: str, field: str = "VmRSS") -> float:
    """A memory field of a /proc/<pid>/status text (``VmRSS``, ``VmHWM``), in MB."""
    for line in status.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"{field} missing: the process has ended or is a kernel thread")


def read_rss_mb(pid: int) -> float | None:
    try:
        return status_mb(Path(f"/proc/{pid}/status").read_text())
    except (OSError, ValueError):
        return None


def snapshot(pids: Mapping[str, int]) -> dict[str, float]:
    """RSS of each named process now; a process that has ended is left out."""
    found = {name: read_rss_mb(pid) for name, pid in pids.items()}
    return {name: mb for name, mb in found.items() if mb is not None}


def reset_peak(pid: int) -> bool:
    """Start the kernel's record of the process's peak resident memory (``VmHWM``) afresh."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class PeakTracker:
    """The peak resident memory of each process through a phase.

    The kernel keeps the exact peak (``VmHWM``); it is reset when the phase starts and read
    when it ends. Samples every ``interval`` seconds stand in for a process whose peak could
    not be reset, and follow a service started again under a new pid (``pids`` is asked each
    time)."""

    def __init__(self, pids: Callable[[], Mapping[str, int]], interval: float = 0.5) -> None:
        self._pids = pids
        self._interval = interval
        self._reset: set[int] = set()
        self.peaks: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> None:
        for name, pid in self._pids().items():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                mb = status_mb(status, "VmHWM" if pid in self._reset else "VmRSS")
            except (OSError, ValueError):
                continue  # the process has ended
            self.peaks[name] = max(mb, self.peaks.get(name, 0.0))

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self._interval)

    def start(self) -> None:
        self._reset = {pid for pid in self._pids().values() if reset_peak(pid)}
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="rss-peaks")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.sample()
