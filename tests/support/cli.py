"""Running the ``tsdx`` command as an operator's shell would: a child process, its exit code,
stdout and stderr."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


def cli_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment of a child ``tsdx``: this one without TSDX_ settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TSDX_")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


async def tsdx(*args: str, env: dict[str, str], timeout: float = 120.0) -> Ran:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tools.cli.main",
        *args,
        env=cli_env(env),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"tsdx {' '.join(args)} did not end in {timeout}s") from None
    assert proc.returncode is not None
    return Ran(proc.returncode, out.decode(), err.decode())
