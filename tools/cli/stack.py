"""Runs the whole tsdx stack on one machine: every service as its own child process.

Used by ``tsdx up`` and by the end-to-end tests, so both run exactly the same thing. A child
that dies is started again (the operator sees it in the log); Ctrl-C stops them all, each
finishing the messages in hand.

A service may run as several instances (``start_instance``): each is a process of its own
under its own name and port, sharing the broker and the store with the others, so they
consume the service's queues as competing consumers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tools.cli.service_logs import ServiceLog, pump

# How much of the end of a log ``log_tail`` reads: enough for a few lines, however long it is.
_TAIL_BYTES = 16 * 1024

# Start order: the directory first, the dashboard last.
SERVICES = ("registry", "routing", "gateway", "lan_writer", "dashboard")

PORT_SETTINGS = {
    "gateway": "TSDX_GATEWAY_PORT",
    "lan_writer": "TSDX_LAN_PORT",
    "dashboard": "TSDX_DASHBOARD_PORT",
    "registry": "TSDX_REGISTRY_PORT",
    "routing": "TSDX_ROUTING_PORT",
}


def available_services() -> tuple[str, ...]:
    root = Path(__file__).resolve().parents[2] / "services"
    return tuple(s for s in SERVICES if (root / s / "__main__.py").exists())


@dataclass
class Stack:
    env: Mapping[str, str]
    host: str = "127.0.0.1"
    ports: Mapping[str, int] = field(default_factory=dict)
    services: tuple[str, ...] = field(default_factory=available_services)
    log_dir: Path | None = None
    # Each log file is rotated at this size, keeping this many older ones (TSDX_LOG_MAX_BYTES,
    # TSDX_LOG_BACKUPS).
    log_max_bytes: int = 10 * 1024 * 1024
    log_backups: int = 5
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    restarts: dict[str, int] = field(default_factory=dict)
    # Further instances of a service: instance name -> the service it runs.
    instances: dict[str, str] = field(default_factory=dict)
    _logs: dict[str, ServiceLog] = field(default_factory=dict, init=False, repr=False)
    _pumps: dict[str, threading.Thread] = field(default_factory=dict, init=False, repr=False)

    def url(self, service: str) -> str:
        """Address of a service, or of one instance by its instance name."""
        return f"http://{self.host}:{self.ports[service]}"

    def service_of(self, name: str) -> str:
        """The service a process runs: itself, or the service of an instance."""
        return self.instances.get(name, name)

    def instances_of(self, service: str) -> list[str]:
        """Every name the service runs under: its own, then its further instances."""
        return [service, *(name for name, of in self.instances.items() if of == service)]

    def _env(self, name: str) -> dict[str, str]:
        env = {**os.environ, **self.env, "TSDX_HOST": self.host}
        for service, port in self.ports.items():
            if service in PORT_SETTINGS:
                env[PORT_SETTINGS[service]] = str(port)
        # An instance serves HTTP on its own port; every other setting is its service's.
        if name in self.ports:
            env[PORT_SETTINGS[self.service_of(name)]] = str(self.ports[name])
        return env

    def start(self, service: str) -> None:
        """Start a service, or again an instance started before, by its instance name."""
        log = self._log(service)
        proc = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.service_of(service)}"],
            env=self._env(service),
            stdout=subprocess.DEVNULL if log is None else subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parents[2],
        )
        self.processes[service] = proc
        if log is not None and proc.stdout is not None:
            self._pumps[service] = pump(proc.stdout, log)

    def _log(self, service: str) -> ServiceLog | None:
        """The service's rotated log file, kept across its restarts (none without a log dir)."""
        if self.log_dir is None:
            return None
        if service not in self._logs:
            self._logs[service] = ServiceLog(
                self.log_dir / f"{service}.log", self.log_max_bytes, self.log_backups
            )
        return self._logs[service]

    def _drain(self, service: str, timeout: float = 5.0) -> None:
        """Wait until what an ended process wrote is in its log file."""
        thread = self._pumps.get(service)
        proc = self.processes.get(service)
        if thread is not None and proc is not None and proc.poll() is not None:
            thread.join(timeout)

    def start_all(self) -> None:
        for service in self.services:
            self.start(service)

    def start_instance(self, service: str, instance: str, port: int) -> None:
        """Start one more instance of ``service``, named ``instance``, serving on ``port``."""
        if service not in PORT_SETTINGS:
            raise ValueError(f"no such service: {service!r}")
        if instance in PORT_SETTINGS or self.instances.get(instance, service) != service:
            raise ValueError(f"{instance!r} already names another service")
        if instance in self.processes and self.processes[instance].poll() is None:
            raise ValueError(f"{instance!r} is already running")
        self.instances[instance] = service
        self.ports = {**self.ports, instance: port}
        self.start(instance)

    def wait_ready(self, timeout: float = 60.0, services: tuple[str, ...] | None = None) -> None:
        deadline = time.monotonic() + timeout
        for service in services or self.services:
            while True:
                proc = self.processes[service]
                if proc.poll() is not None:
                    raise RuntimeError(f"{service} exited with code {proc.returncode}")
                try:
                    if httpx.get(f"{self.url(service)}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{service} not ready after {timeout}s")
                time.sleep(0.1)

    def log_tail(self, service: str, lines: int = 6) -> list[str]:
        """The last lines of a service's log (none without a log directory): why it stopped."""
        if self.log_dir is None:
            return []
        self._drain(service)
        path = self.log_dir / f"{service}.log"
        try:
            with path.open("rb") as log:
                log.seek(max(0, path.stat().st_size - _TAIL_BYTES))
                text = log.read().decode(errors="replace")
        except OSError:
            return []
        return text.splitlines()[-lines:]

    def kill(self, service: str, sig: int = signal.SIGKILL) -> None:
        proc = self.processes[service]
        proc.send_signal(sig)
        proc.wait(timeout=30)

    def dead(self) -> list[str]:
        """The services (and instances) whose process has ended."""
        return [s for s, p in self.processes.items() if p.poll() is not None]

    def restart_dead(self) -> list[str]:
        """Start again every service whose process has ended; returns their names."""
        dead = self.dead()
        for service in dead:
            self.restarts[service] = self.restarts.get(service, 0) + 1
            self.start(service)
        return dead

    def stop_all(self, timeout: float = 20.0) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for service in self.processes:
            self._drain(service)
        for log in self._logs.values():
            log.close()
