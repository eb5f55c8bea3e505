"""Every service's liveness answer names the service and the release it runs: what an operator
reads first during an upgrade, with ``tsdx --version`` on the machine."""

from __future__ import annotations

import httpx
import pytest

from shared.version import VERSION
from tools.cli.main import main
from tools.cli.stack import Stack


async def test_each_service_says_which_release_it_runs(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        for service in stack.services:
            answer = await http.get(f"{stack.url(service)}/healthz")
            assert answer.status_code == 200, service
            assert answer.json() == {"status": "ok", "service": service, "version": VERSION}
    assert VERSION != "unknown"  # the package is installed, as scripts/setup.sh does


def test_the_command_says_its_release(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"tsdx {VERSION}\n"
