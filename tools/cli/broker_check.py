"""Finding a RabbitMQ to talk to, and starting a local one when the machine has it installed."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from urllib.parse import urlparse

from shared.i18n import text


def broker_answers(amqp_url: str, timeout: float = 1.0) -> bool:
    parsed = urlparse(amqp_url)
    host = parsed.hostname or "localhost"
    port = parsed.port or (5671 if parsed.scheme == "amqps" else 5672)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def is_local(amqp_url: str) -> bool:
    return (urlparse(amqp_url).hostname or "localhost") in ("localhost", "127.0.0.1", "::1")


# Where the installed rabbitmq-server listens when started as it is.
INSTALLED_PORT = 5672


def start_local_rabbitmq(amqp_url: str, wait_seconds: float = 90.0) -> bool:
    """Start the installed rabbitmq-server in the background; True once it answers. Only for
    the address it would answer on: a local address with another port (a typo, or a broker of
    another setup that is down) is not one to start a broker for."""
    parsed = urlparse(amqp_url)
    if not is_local(amqp_url) or (parsed.port or INSTALLED_PORT) != INSTALLED_PORT:
        return False
    if shutil.which("rabbitmq-server") is None:
        return False
    plugins = shutil.which("rabbitmq-plugins")
    if plugins:
        # The dashboard reads queue depths from the management API.
        subprocess.run(
            [plugins, "enable", "--offline", "rabbitmq_management"],
            capture_output=True,
            check=False,
        )
    subprocess.run(["rabbitmq-server", "-detached"], capture_output=True, check=False)
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if broker_answers(amqp_url):
            ctl = shutil.which("rabbitmqctl")
            if ctl:
                subprocess.run(
                    [ctl, "await_startup"], capture_output=True, check=False, timeout=wait_seconds
                )
            return True
        time.sleep(0.5)
    return False


def ensure_broker(amqp_url: str, language: str = "ru") -> None:
    """Make sure a broker answers, starting a local one if possible; else explain and exit."""
    if broker_answers(amqp_url):
        return
    if start_local_rabbitmq(amqp_url):
        return
    raise SystemExit(text("cli.broker.none", language, url=amqp_url))
