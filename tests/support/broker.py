"""A fresh RabbitMQ virtual host per test stack, so stacks never see each other's messages."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from urllib.parse import quote, urlparse, urlunparse

import httpx

from tools.cli.broker_check import broker_answers

BASE_AMQP = "amqp://guest:guest@localhost:5672/"
MANAGEMENT = "http://localhost:15672/api"
AUTH = ("guest", "guest")


def _management_up() -> bool:
    try:
        return httpx.get(f"{MANAGEMENT}/overview", auth=AUTH, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def create_vhost(prefix: str = "tsdx-test") -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    if _management_up():
        httpx.put(
            f"{MANAGEMENT}/vhosts/{quote(name, safe='')}", auth=AUTH, timeout=10
        ).raise_for_status()
        httpx.put(
            f"{MANAGEMENT}/permissions/{quote(name, safe='')}/guest",
            auth=AUTH,
            json={"configure": ".*", "write": ".*", "read": ".*"},
            timeout=10,
        ).raise_for_status()
    else:
        ctl = shutil.which("rabbitmqctl") or "rabbitmqctl"
        subprocess.run([ctl, "add_vhost", name], check=True, capture_output=True)
        subprocess.run(
            [ctl, "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
            check=True,
            capture_output=True,
        )
    return name


def delete_vhost(name: str) -> None:
    if _management_up():
        httpx.delete(f"{MANAGEMENT}/vhosts/{quote(name, safe='')}", auth=AUTH, timeout=30)
    else:
        subprocess.run(
            [shutil.which("rabbitmqctl") or "rabbitmqctl", "delete_vhost", name],
            check=False,
            capture_output=True,
        )


def amqp_url(vhost: str) -> str:
    parsed = urlparse(BASE_AMQP)
    return urlunparse(parsed._replace(path="/" + quote(vhost, safe="")))


def require_broker() -> None:
    if not broker_answers(BASE_AMQP):
        raise RuntimeError(
            "RabbitMQ does not answer on localhost:5672; run the test suite through "
            "scripts/test (it starts one) or start rabbitmq-server yourself"
        )
