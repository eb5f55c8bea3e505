"""Starting where a port is taken (another tsdx already running, or another program): a
service stops before it touches the broker or its store, ``tsdx up`` says which port and
starts nothing, and a service that keeps stopping is started again later and later, with
the reason on the console. A service started with the admin token every reader of the README
knows warns of it."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.settings import DEFAULT_ADMIN_TOKEN
from tests.support.cli import ROOT, cli_env, tsdx
from tests.support.stack import free_port, running_stack
from tests.support.waiting import eventually
from tools.cli.stack import PORT_SETTINGS, Stack
from tools.cli.up import Supervisor

# Nothing listens here: a process that tried the broker first would wait, not exit.
NO_BROKER = "amqp://guest:guest@127.0.0.1:1/"


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield int(held.getsockname()[1])


def test_a_service_whose_port_is_taken_stops_before_the_broker_and_the_store(
    taken_port: int, tmp_path: Path
) -> None:
    env = cli_env(
        {
            "TSDX_REGISTRY_PORT": str(taken_port),
            "TSDX_AMQP_URL": NO_BROKER,
            "TSDX_DATA_DIR": str(tmp_path / "data"),
            "TSDX_LOG_FORMAT": "json",
        }
    )
    ran = subprocess.run(
        [sys.executable, "-m", "services.registry"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 3, ran.stdout + ran.stderr
    assert '"event":"service.port_unavailable"' in ran.stdout
    assert f'"port":{taken_port}' in ran.stdout
    assert not (tmp_path / "data").exists()  # the store was never opened


async def test_tsdx_up_names_the_taken_port_and_starts_nothing(
    taken_port: int, tmp_path: Path
) -> None:
    ports = {setting: str(free_port()) for setting in PORT_SETTINGS.values()}
    ports["TSDX_DASHBOARD_PORT"] = str(taken_port)
    ran = await tsdx(
        "up", "--data-dir", str(tmp_path / "data"), env={**ports, "TSDX_AMQP_URL": NO_BROKER}
    )
    assert ran.code == 1, ran.out + ran.err
    assert f"порт {taken_port} службы dashboard занят" in ran.err  # Russian by default
    assert "TSDX_DASHBOARD_PORT" in ran.err
    assert "tsdx работает" not in ran.out
    assert not (tmp_path / "data").exists()


async def test_a_service_that_keeps_stopping_is_started_again_later_and_later(
    taken_port: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = Stack(
        env={
            "TSDX_AMQP_URL": NO_BROKER,
            "TSDX_DATA_DIR": str(tmp_path / "data"),
            "TSDX_LOG_FORMAT": "json",
        },
        ports={"registry": taken_port},
        services=("registry",),
        log_dir=tmp_path / "logs",
    )
    now = 0.0  # the supervisor's clock, moved by the test; the processes are real
    supervisor = Supervisor(stack, started={"registry": now}, clock=lambda: now, language="en")

    async def told_after_it_stops() -> str:
        await eventually(lambda: _dead(stack), what="registry stopped")
        supervisor.tend()
        return capsys.readouterr().err

    def tend() -> str:
        supervisor.tend()
        return capsys.readouterr().err

    stack.start_all()
    try:
        told = await told_after_it_stops()
        assert "tsdx: registry stopped unexpectedly (exit code 3)" in told
        assert "service.port_unavailable" in told  # the end of its log, on the console
        assert "trying again in 1 s" in told
        now = 0.9
        assert tend() == ""  # not due yet
        now = 1.0
        assert tend() == "tsdx: registry started again\n"

        now = 1.5  # stopped again soon after its start: twice the wait
        assert "trying again in 2 s" in await told_after_it_stops()
        now = 3.4
        assert tend() == ""
        now = 3.5
        assert "started again" in tend()

        now = 40.0  # stopped after running longer than QUICK_STOP_SECONDS: started at once
        told = await told_after_it_stops()
        assert "stopped unexpectedly" in told and "trying again" not in told
        assert "started again" in tend()
    finally:
        stack.stop_all()


async def _dead(stack: Stack) -> bool:
    return stack.dead() == ["registry"]


@pytest.mark.parametrize(("token", "warned"), [(DEFAULT_ADMIN_TOKEN, True), ("our-own", False)])
async def test_a_service_warns_at_start_while_the_admin_token_is_the_default(
    tmp_path: Path, token: str, warned: bool
) -> None:
    extra = {"TSDX_ADMIN_TOKEN": token}
    with running_stack(tmp_path, services=("registry",), extra_env=extra):
        log = tmp_path / "logs" / "registry.log"

        async def started() -> str:
            return log.read_text() if log.exists() else ""

        await eventually(started, until=lambda t: "service.started" in t)
    # Read once the service has stopped: every line it logged at start is written by then.
    text = log.read_text()
    assert ('"event":"security.default_admin_token"' in text) is warned, text[-2000:]
