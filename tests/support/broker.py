"""A fresh RabbitMQ virtual host per test stack, so stacks never see each other's messages.

Deleting a virtual host waits while the broker removes its queues (each quorum queue its own
Raft group), so a test hands its vhost to a background deleter and goes on; the session waits
for every deletion at its end (``tests/conftest.py``). Only vhosts made here are deleted."""

from __future__ import annotations

import functools
import shutil
import subprocess
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, wait
from urllib.parse import quote, urlparse, urlunparse

import httpx

from tools.cli.broker_check import broker_answers

BASE_AMQP = "amqp://guest:guest@localhost:5672/"
MANAGEMENT = "http://localhost:15672/api"
AUTH = ("guest", "guest")
# Deletions at once: enough to keep up with the tests, few enough not to crowd the broker.
DELETING_AT_ONCE = 2

_deleter = ThreadPoolExecutor(DELETING_AT_ONCE, thread_name_prefix="vhost-delete")
_deleting: dict[str, Future[None]] = {}


@functools.cache
def _management_up() -> bool:
    """Asked once a run: the management plugin is there for the whole run or not at all."""
    try:
        return httpx.get(f"{MANAGEMENT}/overview", auth=AUTH, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _rabbitmqctl(*args: str, check: bool) -> None:
    ctl = shutil.which("rabbitmqctl") or "rabbitmqctl"
    subprocess.run([ctl, *args], check=check, capture_output=True)


def create_vhost(prefix: str = "tsdx-test") -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    if _management_up():
        # The management API grants the user who creates a vhost full permissions on it.
        httpx.put(
            f"{MANAGEMENT}/vhosts/{quote(name, safe='')}", auth=AUTH, timeout=10
        ).raise_for_status()
    else:
        _rabbitmqctl("add_vhost", name, check=True)
        _rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*", check=True)
    return name


def _delete_now(name: str) -> None:
    if _management_up():
        answer = httpx.delete(f"{MANAGEMENT}/vhosts/{quote(name, safe='')}", auth=AUTH, timeout=60)
        if answer.status_code not in (204, 404):
            answer.raise_for_status()
    else:
        _rabbitmqctl("delete_vhost", name, check=False)


def delete_vhost(name: str) -> None:
    """Hands a vhost made by :func:`create_vhost`, no longer used, to the background deleter."""
    if name not in _deleting:
        _deleting[name] = _deleter.submit(_delete_now, name)


def finish_deletions(timeout: float = 120.0) -> None:
    """Waits for every vhost handed to :func:`delete_vhost`; raises naming any left behind."""
    wait(_deleting.values(), timeout)
    left = {
        name: repr(deleting.exception()) if deleting.done() else "still being deleted"
        for name, deleting in _deleting.items()
        if not deleting.done() or deleting.exception() is not None
    }
    _deleting.clear()
    if left:
        raise RuntimeError(f"RabbitMQ vhosts not deleted: {left}")


def amqp_url(vhost: str) -> str:
    parsed = urlparse(BASE_AMQP)
    return urlunparse(parsed._replace(path="/" + quote(vhost, safe="")))


def require_broker() -> None:
    if not broker_answers(BASE_AMQP):
        raise RuntimeError(
            "RabbitMQ does not answer on localhost:5672; run the test suite through "
            "scripts/test (it starts one) or start rabbitmq-server yourself"
        )
