"""``tsdx up``: run the whole stack here, with embedded storage and a local RabbitMQ."""

from __future__ import annotations

import argparse
import signal
import time
from pathlib import Path
from types import FrameType

from shared.cli.broker_check import ensure_broker
from shared.cli.stack import Stack
from shared.settings import Settings


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("up", help="start every service on this machine (Ctrl-C stops)")
    parser.add_argument("--data-dir", type=Path, help="where the SQLite files live (TSDX_DATA_DIR)")
    parser.add_argument(
        "--logs",
        type=Path,
        default=None,
        help="write each service's log to DIR/<service>.log instead of the console",
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
    ensure_broker(settings.amqp_url)
    env = {}
    data_dir = args.data_dir or settings.data_dir
    env["TSDX_DATA_DIR"] = str(Path(data_dir).resolve())
    ports = {
        "gateway": settings.gateway_port,
        "lan_writer": settings.lan_port,
        "dashboard": settings.dashboard_port,
        "registry": settings.registry_port,
        "routing": settings.routing_port,
    }
    stack = Stack(env=env, host=settings.host, ports=ports, log_dir=args.logs)
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
        print(f"tsdx: the stack did not start: {exc}")
        stack.stop_all()
        return 1
    print("tsdx is running. Ctrl-C stops it.")
    print(f"  gateway    {stack.url('gateway')}   (API docs: {stack.url('gateway')}/docs)")
    for service in stack.services:
        if service != "gateway":
            print(f"  {service:<10} {stack.url(service)}")
    print(f"  storage    sqlite under {env['TSDX_DATA_DIR']}")
    print(f"  broker     {settings.amqp_url.split('@')[-1]}")
    if args.ready_file is not None:
        args.ready_file.touch()
    while not stopping:
        for service in stack.restart_dead():
            print(f"tsdx: {service} stopped unexpectedly; started again")
        time.sleep(0.5)
    print("tsdx: stopping…")
    stack.stop_all()
    return 0
