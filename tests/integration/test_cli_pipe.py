"""``tsdx`` whose reader has gone (``tsdx … | head -3``) stops quietly: no traceback."""

from __future__ import annotations

import subprocess
import sys

from tests.support.cli import ROOT, cli_env


def test_a_reader_gone_ends_tsdx_without_a_traceback() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "shared.cli.main", "contract", "asyncapi"],
        env=cli_env({}),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader goes before a line is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
