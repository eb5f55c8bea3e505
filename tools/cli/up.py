"""``tsdx up``: run the whole stack here, with embedded storage and a local RabbitMQ.

Every service writes its log to a file of its own (``--logs``, by default ``logs`` in the data
directory), rotated by size: ``TSDX_LOG_MAX_BYTES`` (10 MiB) per file, ``TSDX_LOG_BACKUPS`` (5)
older files kept. When one stops, the last lines of its log are printed with the news, so the reason
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
from urllib.parse import urlsplit, urlunsplit

from shared.i18n import text
from shared.ports import PortUnavailable, listening_socket
from shared.settings import DEFAULT_ADMIN_TOKEN, Settings
from shared.storage.port import StoreTooNew
from tools.cli.broker_check import broker_answers, ensure_broker
from tools.cli.output import add_language_option
from tools.cli.stack import PORT_SETTINGS, Stack

# A service that stops sooner than this after it started is failing to start.
QUICK_STOP_SECONDS = 30.0
MAX_RESTART_DELAY_SECONDS = 60.0
READY_SECONDS = 90


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
    add_language_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    language: str = args.lang
    settings = Settings()
    data_dir = Path(args.data_dir or settings.data_dir).resolve()
    ports = {
        "gateway": settings.gateway_port,
        "lan_writer": settings.lan_port,
        "dashboard": settings.dashboard_port,
        "registry": settings.registry_port,
        "routing": settings.routing_port,
    }
    taken = _taken_port(settings.host, ports, language)
    if taken is not None:
        print(taken, file=sys.stderr)
        return 1
    # One node of a cluster answering is enough; the services fail over among the rest.
    if not any(broker_answers(address) for address in settings.amqp_addresses):
        ensure_broker(settings.amqp_addresses[0], language)
    log_dir = (args.logs or data_dir / "logs").resolve()
    stack = Stack(
        env={"TSDX_DATA_DIR": str(data_dir)},
        host=settings.host,
        ports=ports,
        log_dir=log_dir,
        log_max_bytes=settings.log_max_bytes,
        log_backups=settings.log_backups,
    )
    stopping = False

    def _stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    stack.start_all()
    try:
        stack.wait_ready(timeout=READY_SECONDS)
    except (RuntimeError, TimeoutError):
        # Said from what is seen (which service stopped, with what code), in the reader's words.
        print(text("cli.up.not_started", language), file=sys.stderr)
        dead = stack.dead()
        codes = [stack.processes[service].returncode for service in dead]
        for service in dead:
            code = stack.processes[service].returncode
            print(text("cli.up.exited", language, service=service, code=code), file=sys.stderr)
            _print_tail(stack, service, language)
        if not dead:
            print(text("cli.up.not_ready", language, seconds=READY_SECONDS), file=sys.stderr)
        stack.stop_all()
        # A store newer than this release: a code of its own, restarting will not help.
        return StoreTooNew.EXIT_CODE if StoreTooNew.EXIT_CODE in codes else 1
    print(text("cli.up.running", language))
    print(text("cli.up.gateway", language, url=stack.url("gateway")))
    for service in stack.services:
        if service != "gateway":
            print(text("cli.up.service", language, service=service, url=stack.url(service)))
    print(text("cli.up.storage", language, store=store_description(settings, data_dir)))
    brokers = ", ".join(a.rsplit("@", 1)[-1] for a in settings.amqp_addresses)
    print(text("cli.up.broker", language, address=brokers))
    print(text("cli.up.logs", language, path=log_dir))
    warning = admin_token_warning(settings, language)
    if warning is not None:
        print(warning)
    if args.ready_file is not None:
        args.ready_file.touch()
    supervisor = Supervisor(
        stack, started=dict.fromkeys(stack.services, time.monotonic()), language=language
    )
    while not stopping and supervisor.fatal is None:
        supervisor.tend()
        time.sleep(0.5)
    print(text("cli.up.stopping", language))
    stack.stop_all()
    print(text("cli.up.all_stopped", language))
    return supervisor.fatal or 0


def admin_token_warning(settings: Settings, language: str) -> str | None:
    """The console's warning while the admin token is still the one every reader knows."""
    if not settings.admin_token_is_default:
        return None
    return text("cli.up.default_admin_token", language, token=DEFAULT_ADMIN_TOKEN)


def store_description(settings: Settings, data_dir: Path) -> str:
    """The store the services really use, as the console shows it: never a password."""
    if settings.store == "mongo":
        return f"mongo {without_credentials(settings.mongo_url)} (databases {settings.db_prefix}_*)"
    return f"sqlite {data_dir / (settings.db_prefix + '_*.sqlite3')}"


def without_credentials(url: str) -> str:
    """A MongoDB URL without its user and password, nor any query option naming a secret."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    query = "&".join(
        option
        for option in parts.query.split("&")
        if option and not any(word in option.split("=")[0].lower() for word in _SECRET_OPTIONS)
    )
    return urlunsplit((parts.scheme, host, parts.path, query, parts.fragment))


_SECRET_OPTIONS = ("password", "secret", "token")


def _taken_port(host: str, ports: dict[str, int], language: str) -> str | None:
    """Why the stack cannot start here, if one of its ports is taken: said before anything
    starts, rather than as services that keep stopping."""
    for service, port in ports.items():
        try:
            listening_socket(host, port).close()
        except PortUnavailable as exc:
            setting = PORT_SETTINGS[service]
            return text(
                "cli.up.port_taken",
                language,
                port=port,
                service=service,
                reason=exc.reason,
                setting=setting,
            )
    return None


def _print_tail(stack: Stack, service: str, language: str) -> None:
    tail = stack.log_tail(service)
    if tail:
        path = f"{stack.log_dir}/{service}.log"
        print(text("cli.up.log_tail", language, path=path), file=sys.stderr)
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
    language: str = "ru"
    # Set when a service stopped in a way no restart can mend: tsdx up ends with this code.
    fatal: int | None = None

    def tend(self) -> None:
        now = self.clock()
        for service in self.stack.dead():
            if service not in self.due:
                self._noticed(service, now)
            elif now >= self.due[service]:
                del self.due[service]
                self.stack.start(service)
                self.started[service] = now
                print(text("cli.up.restarted", self.language, service=service), file=sys.stderr)

    def _noticed(self, service: str, now: float) -> None:
        code = self.stack.processes[service].returncode
        print(text("cli.up.stopped", self.language, service=service, code=code), file=sys.stderr)
        _print_tail(self.stack, service, self.language)
        if code == StoreTooNew.EXIT_CODE:
            print(text("cli.up.store_too_new", self.language, service=service), file=sys.stderr)
            self.fatal = code
            return
        failing = now - self.started.get(service, 0.0) < QUICK_STOP_SECONDS
        delay = min(MAX_RESTART_DELAY_SECONDS, max(1.0, 2 * self.delay.get(service, 0.0)))
        if not failing:
            delay = 0.0
        self.delay[service] = delay
        self.due[service] = now + delay
        if delay:
            print(text("cli.up.retry_in", self.language, delay=f"{delay:.0f}"), file=sys.stderr)
