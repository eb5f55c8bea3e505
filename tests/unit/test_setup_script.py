"""scripts/setup.sh waits for the dpkg lock instead of failing when another apt process holds it."""

from __future__ import annotations

import re
from pathlib import Path

SETUP = Path(__file__).resolve().parents[2] / "scripts" / "setup.sh"


def _apt_calls(text: str) -> list[str]:
    """Lines that run apt-get (not the ones that only ask whether it exists)."""
    return [
        line.strip()
        for line in text.splitlines()
        if re.search(r"\bapt-get\b|APT_GET\[@\]", line)
        and "command -v" not in line
        and not line.lstrip().startswith("#")
    ]


def test_every_apt_get_call_waits_for_the_dpkg_lock() -> None:
    text = SETUP.read_text()
    definition = re.search(r"^APT_GET=\((.*)\)$", text, re.MULTILINE)
    assert definition is not None, "setup.sh defines the apt-get command once"
    timeout = re.search(r"DPkg::Lock::Timeout=(\d+)", definition.group(1))
    assert timeout is not None and int(timeout.group(1)) >= 60
    calls = [line for line in _apt_calls(text) if not line.startswith("APT_GET=")]
    assert len(calls) >= 2  # update and install
    for line in calls:
        assert '"${APT_GET[@]}"' in line, f"apt-get called without the lock timeout: {line}"
