"""Finding a RabbitMQ to talk to, and starting a local one when the machine has it installed."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from urllib.parse import urlparse

HOW_TO_GET_ONE = (
    "No RabbitMQ answers at {url}.\n"
    "Install and start one, e.g. on Debian/Ubuntu:\n"
    "    sudo apt-get install -y rabbitmq-server && sudo rabbitmq-server -detached\n"
    "or point TSDX_AMQP_URL at a running broker."
)


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


def start_local_rabbitmq(amqp_url: str, wait_seconds: float = 90.0) -> bool:
    """Start the installed rabbitmq-server in the background; True once it answers."""
    if not is_local(amqp_url) or shutil.which("rabbitmq-server") is None:
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


def ensure_broker(amqp_url: str) -> None:
    """Make sure a broker answers, starting a local one if possible; else explain and exit."""
    if broker_answers(amqp_url):
        return
    if start_local_rabbitmq(amqp_url):
        return
    raise SystemExit(HOW_TO_GET_ONE.format(url=amqp_url))
