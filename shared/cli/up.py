"""``tsdx up``: run the whole stack here, with embedded storage and a local RabbitMQ.

Every service writes its log to a file of its own (``--logs``, by default ``logs`` in the data
directory). When one stops, the last lines of its log are printed with the news, so the reason
is on the console; it is started again at once if it had been running a while, and later and
later (up to a minute) if it keeps stopping soon after it starts, as it does when its port is
taken or a setting is wrong.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from shared.cli.broker_check import broker_answers, ensure_broker
from shared.cli.stack import PORT_SETTINGS, Stack
from shared.ports import PortUnavailable, listening_socket
from shared.settings import Settings

# A service that stops sooner than this after it started is failing to start.
QUICK_STOP_SECONDS = 30.0
MAX_RESTART_DELAY_SECONDS = 60.0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("up", help="start every service on this machine (Ctrl-C stops)")
    parser.add_argument("--data-dir", type=Path, help="where the SQLite files live (TSDX_DATA_DIR)")
    parser.add_argument(
        "--logs",
        type=Path,
        default=None,
        help="where each service writes its log, DIR/<service>.log (default: DATA_DIR/logs)",
    )
    parser.add_argument(
        "--ready-file",
        type=Path,
        default=None,
        help="touch this file once every service is ready (for scripts)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    data_dir = Path(args.data_dir or settings.data_dir).resolve()
    ports = {
        "gateway": settings.gateway_port,
        "lan_writer": settings.lan_port,
        "dashboard": settings.dashboard_port,
        "registry": settings.registry_port,
        "routing": settings.routing_port,
    }
    taken = _taken_port(settings.host, ports)
    if taken is not None:
        print(taken, file=sys.stderr)
        return 1
    # One node of a cluster answering is enough; the services fail over among the rest.
    if not any(broker_answers(address) for address in settings.amqp_addresses):
        ensure_broker(settings.amqp_addresses[0])
    log_dir = (args.logs or data_dir / "logs").resolve()
    stack = Stack(
        env={"TSDX_DATA_DIR": str(data_dir)}, host=settings.host, ports=ports, log_dir=log_dir
    )
    stopping = False

    def _stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    stack.start_all()
    try:
        stack.wait_ready(timeout=90)
    except (RuntimeError, TimeoutError) as exc:
        print(f"tsdx: the stack did not start: {exc}", file=sys.stderr)
        for service in stack.dead():
            _print_tail(stack, service)
        stack.stop_all()
        return 1
    print("tsdx is running. Ctrl-C stops it.")
    print(f"  gateway    {stack.url('gateway')}   (API docs: {stack.url('gateway')}/docs)")
    for service in stack.services:
        if service != "gateway":
            print(f"  {service:<10} {stack.url(service)}")
    print(f"  storage    sqlite under {data_dir}")
    brokers = ", ".join(a.rsplit("@", 1)[-1] for a in settings.amqp_addresses)
    print(f"  broker     {brokers}")
    print(f"  logs       {log_dir}")
    if args.ready_file is not None:
        args.ready_file.touch()
    supervisor = Supervisor(stack, started=dict.fromkeys(stack.services, time.monotonic()))
    while not stopping:
        supervisor.tend()
        time.sleep(0.5)
    print("tsdx: stopping…")
    stack.stop_all()
    return 0


def _taken_port(host: str, ports: dict[str, int]) -> str | None:
    """Why the stack cannot start here, if one of its ports is taken: said before anything
    starts, rather than as services that keep stopping."""
    for service, port in ports.items():
        try:
            listening_socket(host, port).close()
        except PortUnavailable as exc:
            setting = PORT_SETTINGS[service]
            return (
                f"tsdx: port {port} of the {service} is taken ({exc.reason}). Is tsdx already "
                f"running here? Stop it, or give the {service} another port ({setting})."
            )
    return None


def _print_tail(stack: Stack, service: str) -> None:
    tail = stack.log_tail(service)
    if tail:
        print(f"  the end of {stack.log_dir}/{service}.log:", file=sys.stderr)
        for line in tail:
            print(f"    {line[:400]}", file=sys.stderr)


@dataclass
class Supervisor:
    """Starts stopped services again, each after a delay that doubles while it keeps stopping
    soon after it starts."""

    stack: Stack
    started: dict[str, float] = field(default_factory=dict)
    delay: dict[str, float] = field(default_factory=dict)
    due: dict[str, float] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic

    def tend(self) -> None:
        now = self.clock()
        for service in self.stack.dead():
            if service not in self.due:
                self._noticed(service, now)
            elif now >= self.due[service]:
                del self.due[service]
                self.stack.start(service)
                self.started[service] = now
                print(f"tsdx: {service} started again", file=sys.stderr)

    def _noticed(self, service: str, now: float) -> None:
        code = self.stack.processes[service].returncode
        print(f"tsdx: {service} stopped unexpectedly (exit code {code})", file=sys.stderr)
        _print_tail(self.stack, service)
        failing = now - self.started.get(service, 0.0) < QUICK_STOP_SECONDS
        delay = min(MAX_RESTART_DELAY_SECONDS, max(1.0, 2 * self.delay.get(service, 0.0)))
        if not failing:
            delay = 0.0
        self.delay[service] = delay
        self.due[service] = now + delay
        if delay:
            print(
                f"tsdx: it stopped soon after starting; trying again in {delay:.0f} s",
                file=sys.stderr,
            )
