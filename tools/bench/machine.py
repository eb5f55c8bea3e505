"""What the figures were measured on: cores, memory, CPU model, Python, date."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class Machine:
    cores: int
    memory_mb: int
    cpu_model: str
    python: str
    date: str

    def lines(self) -> list[str]:
        return [
            f"- cores (`nproc`): {self.cores}",
            f"- memory: {self.memory_mb:,} MB",
            f"- CPU: {self.cpu_model}",
            f"- Python: {self.python}",
            f"- date: {self.date}",
        ]


def cpu_model(cpuinfo: str) -> str:
    """The ``model name`` of /proc/cpuinfo (the first CPU's); "unknown" if absent."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            return value.strip()
    return "unknown"


def memory_mb(meminfo: str) -> int:
    """``MemTotal`` of /proc/meminfo in MB (it is given in kB)."""
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise ValueError("MemTotal missing from /proc/meminfo")


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def this_machine() -> Machine:
    meminfo = _read("/proc/meminfo")
    return Machine(
        cores=len(os.sched_getaffinity(0)),  # what `nproc` prints
        memory_mb=memory_mb(meminfo) if meminfo else 0,
        cpu_model=cpu_model(_read("/proc/cpuinfo")),
        python=platform.python_version(),
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
