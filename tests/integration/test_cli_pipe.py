"""``tsdx`` whose reader has gone (``tsdx … | head -3``) stops quietly: no traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.cli import ROOT, cli_env


@pytest.mark.parametrize(
    "args",
    [
        ("contract", "asyncapi"),  # more than a buffer: written while the command runs
        ("contract", "--help"),  # a few lines: written when tsdx ends
    ],
)
def test_a_reader_gone_ends_tsdx_without_a_traceback(args: tuple[str, ...]) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tools.cli.main", *args],
        # Buffered, as in a shell: what is written stays buffered until tsdx flushes it at the end.
        env={k: v for k, v in cli_env({}).items() if k != "PYTHONUNBUFFERED"},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader goes before a line is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
